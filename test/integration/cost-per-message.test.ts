import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { mailgunFixture, signMailgun } from '#test/support/mailgun-factory.ts';
import { metaFixture } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';
import { startWebhookReceiver, type WebhookReceiver } from '#test/support/webhook-receiver.ts';

/*
 * What one message costs in billed requests, measured on the real runtime (createRuntime over
 * the embedded DynamoDB and SQS). The DynamoDB client is tapped: every request is counted by
 * command, and each write is priced as DynamoDB on-demand bills it:
 *
 * - the table: 1 WRU per started KB of the larger of the item before and after the write
 *   (a failed conditional write still pays for the item it checked, at least 1);
 * - each GSI (all five project ALL, so an index entry is as large as the item): putting an
 *   entry costs 1 WRU per started KB of the new item, deleting one 1 WRU per started KB of the
 *   old; an entry whose keys change is a delete plus a put; an item in no index before or
 *   after costs nothing there. The before and after images are read with a separate client.
 * - reads: what the server reports (ReturnConsumedCapacity is added to every read): 1 RRU per
 *   4 KB consistent, 0.5 eventually consistent; a Query by the bytes it read, never less than one.
 *
 * SQS requests are counted the same way; an empty receive is left out (on AWS the event
 * source's long polling is a fixed monthly cost, not one per message). docs/deploy.md's cost
 * estimate is computed from the table this test prints.
 */

const INDEXES = ['gsi1', 'gsi2', 'gsi3', 'gsi4', 'gsi5'] as const;
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const READS = new Set(['GetItemCommand', 'QueryCommand']);
const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' };

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** DynamoDB's item size rules: attribute names + values (UTF-8, numbers ~1 byte per 2 digits). */
function valueSize(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(inner as string);
    case 'N': {
      const digits = (inner as string).replace(/^[-+]?0*|\.|e.*$/gi, '').length;
      return Math.ceil(Math.max(digits, 1) / 2) + 1;
    }
    case 'B':
      return (inner as Uint8Array).byteLength;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, n) => sum + valueSize({ N: n }), 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, v) => sum + 1 + valueSize(v), 0);
    case 'M':
      return 3 + itemSize(inner as Item) + Object.keys(inner as Item).length;
    default:
      throw new Error(`unknown attribute type ${type}`);
  }
}

function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value),
    0,
  );
}

const kb = (bytes: number) => Math.ceil(bytes / 1024);

function indexKeys(item: Item | undefined, index: string): string | null {
  const pk = item?.[`${index}pk`];
  const sk = item?.[`${index}sk`];
  return pk && sk ? JSON.stringify([pk, sk]) : null;
}

/**
 * The listing key an index entry belongs to, with its shard suffix and per-item ids folded:
 * what one partition would take if the key were not sharded.
 */
function listingKey(index: string, partition: string): string {
  const key = partition
    .replace(/#\d+$/, '')
    .replace(/^CONV#.*/, 'CONV#<conversation>')
    .replace(/^WEBHOOK#[^#]+#DELIVERIES$/, 'WEBHOOK#<subscription>#DELIVERIES')
    .replace(/^ASSIGNEE#([^#]+)#.*/, 'ASSIGNEE#$1#<agent>');
  return `${index} ${key}`;
}

/** The WRUs a write costs in the indexes, from the item before and after it, by partition. */
function indexWrus(
  before: Item | undefined,
  after: Item | undefined,
  byPartition: Record<string, number>,
): number {
  let wru = 0;
  const charge = (index: string, item: Item | undefined) => {
    const units = kb(itemSize(item));
    const partition = (item?.[`${index}pk`] as { S?: string } | undefined)?.S ?? '?';
    bump(byPartition, listingKey(index, partition), units);
    wru += units;
  };
  for (const index of INDEXES) {
    const was = indexKeys(before, index);
    const is = indexKeys(after, index);
    if (was && is && was === is) charge(index, after);
    else {
      if (was) charge(index, before);
      if (is) charge(index, after);
    }
  }
  return wru;
}

type Tally = {
  dynamodb: Record<string, number>;
  wru: number;
  indexWru: number;
  rru: number;
  sqs: Record<string, number>;
  /** The largest image written, by item kind (the pk prefix): what the WRUs scale with. */
  written: Record<string, { writes: number; maxBytes: number }>;
  /** Events published to the bus (EventBridge on AWS: one PutEvents entry each). */
  events: number;
  /** Index WRUs by listing key (`gsi2 SWEEP`, all its shards together): where the hot keys are. */
  byPartition: Record<string, number>;
  /** Every write, in order (printed with COST_TRACE=1). */
  trace: string[];
};

const emptyTally = (): Tally => ({
  dynamodb: {},
  wru: 0,
  indexWru: 0,
  rru: 0,
  sqs: {},
  written: {},
  events: 0,
  byPartition: {},
  trace: [],
});
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

type Stack = {
  add(middleware: unknown, options: { step: string; name: string }): void;
  remove(name: string): boolean;
};
type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;

/** Taps both clients; while `measuring`, every request lands in the current tally. */
function costTap(sb: TestSwitchboard) {
  const images = new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'eu-central-1',
    endpoint: sb.backends.dynamoDbEndpoint,
    ...(process.env.SWITCHBOARD_TEST_DYNAMODB_ENDPOINT ? {} : { credentials: LOCAL }),
  });
  let tally: Tally | null = null;
  const image = async (input: Record<string, unknown>): Promise<Item | undefined> => {
    const key = (input.Key ?? pick(input.Item as Item, 'pk', 'sk')) as Item;
    const { Item } = await images.send(
      new GetItemCommand({ TableName: input.TableName as string, Key: key as never, ConsistentRead: true }),
    );
    return Item as Item | undefined;
  };

  (sb.backends.dynamodb.middlewareStack as unknown as Stack).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const current = tally;
      const command = context.commandName ?? '?';
      if (!current) return next(args);
      bump(current.dynamodb, command.replace(/Command$/, ''));
      if (READS.has(command)) {
        const result = await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } });
        const consistent = args.input.ConsistentRead === true;
        const units = (result.output.ConsumedCapacity as { CapacityUnits?: number } | undefined)
          ?.CapacityUnits;
        current.rru += Math.max(units ?? 0, consistent ? 1 : 0.5);
        return result;
      }
      if (!WRITES.has(command)) return next(args);
      const before = await image(args.input);
      let after: Item | undefined;
      try {
        const result = await next(args);
        after = await image(args.input);
        return result;
      } catch (error) {
        after = before; // a failed conditional write changes nothing, but pays for the check
        throw error;
      } finally {
        const wru = Math.max(1, kb(Math.max(itemSize(before), itemSize(after))));
        const gsi = after === before ? 0 : indexWrus(before, after, current.byPartition);
        current.wru += wru;
        current.indexWru += gsi;
        current.trace.push(
          `${command.replace(/ItemCommand$/, '')} ${pkOf(args.input)} ${itemSize(before)}→${itemSize(after)} B: ${wru} + ${gsi} WRU`,
        );
        const kind = pkOf(args.input).split('#')[0] ?? '?';
        const seen = current.written[kind] ?? { writes: 0, maxBytes: 0 };
        current.written[kind] = {
          writes: seen.writes + 1,
          maxBytes: Math.max(seen.maxBytes, itemSize(after)),
        };
      }
    },
    { step: 'initialize', name: 'cost-tap' },
  );
  (sb.backends.sqs.middlewareStack as unknown as Stack).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const current = tally;
      const result = await next(args);
      const command = (context.commandName ?? '?').replace(/Command$/, '');
      const empty =
        command === 'ReceiveMessage' && !(result.output.Messages as unknown[] | undefined)?.length;
      if (current && !empty) bump(current.sqs, command);
      return result;
    },
    { step: 'initialize', name: 'cost-tap' },
  );

  return {
    async measure(run: () => Promise<unknown>): Promise<Tally> {
      const events = (await sb.events()).length;
      tally = emptyTally();
      const measured = tally;
      try {
        await run();
      } finally {
        tally = null;
      }
      measured.events = (await sb.events()).length - events;
      return measured;
    },
    stop: () => images.destroy(),
  };
}

function pick(item: Item, ...names: string[]): Item {
  return Object.fromEntries(names.map((name) => [name, item[name] as AttributeValue]));
}

function pkOf(input: Record<string, unknown>): string {
  const key = (input.Key ?? input.Item) as Item;
  return (key.pk as { S?: string } | undefined)?.S ?? '?';
}

function whatsappText(from: string, text: string) {
  const payload = metaFixture('whatsapp-text') as {
    entry: Array<{
      changes: Array<{
        value: { contacts: Array<{ wa_id: string }>; messages: Array<Record<string, unknown>> };
      }>;
    }>;
  };
  const value = payload.entry[0]?.changes[0]?.value;
  if (!value) throw new Error('fixture shape');
  value.contacts[0] = { ...value.contacts[0], wa_id: from };
  value.messages[0] = { ...value.messages[0], from, id: `wamid.${twilioSid('')}`, text: { body: text } };
  return payload;
}

type Row = { flow: string; tally: Tally };

/**
 * Loose ceilings, about 1.5× what was measured when docs/deploy.md was last recomputed: a change
 * that doubles the writes (or the index entries) of a flow fails here. Lower them when a flow
 * gets cheaper; raise them only together with the cost table.
 */
const CEILINGS: Record<string, Budget> = {
  // measured: 23 requests, 64 WRU, 7.5 RRU, 3 SQS
  a: { requests: 35, wru: 96, rru: 12, sqs: 5 },
  // measured: 8, 32, 3, 0
  b: { requests: 12, wru: 48, rru: 5, sqs: 0 },
  // measured: 13, 33, 3, 0
  c: { requests: 20, wru: 50, rru: 5, sqs: 0 },
  // measured: 22, 64, 7, 3
  d: { requests: 33, wru: 96, rru: 11, sqs: 5 },
  // measured: 24, 67, 8, 3
  e: { requests: 36, wru: 100, rru: 12, sqs: 5 },
  // measured: 16 Queries (the sweep and due-delivery keys, 8 shards each), 0 WRU, 8 RRU: an
  // idle sweeper never writes; every 10 minutes (f', below) 9 more, 4.5 RRU: the keys of the
  // acks and notices waiting for a channel's configuration, one each (session 32)
  f: { requests: 28, wru: 0, rru: 15, sqs: 0 },
  // measured: 4, 2, 3, 0
  g: { requests: 6, wru: 3, rru: 4.5, sqs: 0 },
  // measured: 32, 94, 7.5, 3 (a + 3 events × 3 delivery writes)
  h: { requests: 48, wru: 140, rru: 12, sqs: 5 },
};

type Budget = { requests: number; wru: number; rru: number; sqs: number };

function overBudget(flow: string, tally: Tally): string[] {
  const ceiling = CEILINGS[flow];
  if (!ceiling) return [`${flow}: no budget`];
  const measured: Budget = {
    requests: total(tally.dynamodb),
    wru: tally.wru + tally.indexWru,
    rru: tally.rru,
    sqs: total(tally.sqs),
  };
  return (Object.keys(ceiling) as Array<keyof Budget>)
    .filter((what) => measured[what] > ceiling[what])
    .map((what) => `${flow}: ${measured[what]} ${what} > ${ceiling[what]}`);
}

describe('what one message costs in AWS requests (measured)', () => {
  let sb: TestSwitchboard;
  let tap: ReturnType<typeof costTap>;
  const rows: Row[] = [];

  beforeAll(async () => {
    sb = await startTestSwitchboard();
    tap = costTap(sb);
  });

  afterAll(async () => {
    tap.stop();
    await sb.stop();
    printTable(rows);
  });

  const reply = (conversationId: string, text: string) =>
    sb.act(`/conversations/${conversationId}/replies`, { text });

  async function record(flow: string, run: () => Promise<unknown>): Promise<Tally> {
    const tally = await tap.measure(run);
    rows.push({ flow, tally });
    return tally;
  }

  it('should keep every typical flow within its request and capacity budget', async () => {
    // (f) The sweeper on an idle table: what every minute costs with nothing to do. The first
    // read of a process records the table's shard count (one write per table and count, then
    // a read every 5 minutes): done here first, as it is long done for a deployed sweeper. So
    // is the one-off backfill of the webhook delivery log's expiry (stop 25), which a sweeper
    // process asks the table about once: its first run.
    await sb.runtime.store.listConversations({ status: 'open', limit: 1 });
    await sweep(sb.runtime.sweepDeps);
    const idle = await record('f sweeper run, idle table', () => sweep(sb.runtime.sweepDeps));

    // (a) A new customer's first SMS and its acknowledgement.
    const customer = '+48601234567';
    const first = await record('a first SMS + ack', async () => {
      expect(
        (await sb.postSms({ From: customer, Body: 'Dzień dobry, gdzie jest moja paczka?' })).status,
      ).toBe(200);
      expect(await sb.drain()).toBe(1);
    });
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    const conversationId = items[0]?.id as string;

    // (g) Twilio's delivery callback for that ack (it sends ~2: sent, delivered). The local
    // sender's ids are not Twilio's shape, so the ack is also known by a Twilio SID here (the
    // alias write itself was counted in (a)).
    const ack = (await sb.runtime.store.listMessages(conversationId, { limit: 1_000 })).find(
      (m) => m.kind === 'ack',
    );
    const sid = twilioSid('SM');
    await sb.runtime.store.putProviderAlias('twilio', sid, ack?.id as string);
    sb.clock.advance(5_000);
    const status = await record('g status callback (ack)', async () => {
      const response = await sb.postTwilio('status', 'status-delivered', { MessageSid: sid, SmsSid: sid });
      expect(response.status).toBe(200);
    });

    // (b) A second message in the same episode: recorded, no second ack.
    sb.clock.advance(2 * 60_000);
    const second = await record('b 2nd SMS, same episode', async () => {
      expect((await sb.postSms({ From: customer, Body: 'Numer zamówienia 4471.' })).status).toBe(200);
      expect(await sb.drain()).toBe(0);
    });

    // (c) An agent's reply through the API (bootstrap token, Idempotency-Key).
    sb.clock.advance(10 * 60_000);
    const agent = await record('c agent reply (API)', async () => {
      expect((await reply(conversationId, 'Paczka wyszła dziś rano.')).status).toBe(201);
      await sb.drain();
    });

    // (d) A WhatsApp customer's first message (Meta) and its acknowledgement.
    const meta = await record('d first WhatsApp + ack', async () => {
      expect((await sb.postMeta(whatsappText('48602345678', 'Czy macie rozmiar M?'))).status).toBe(200);
      expect(await sb.drain()).toBe(1);
    });

    // (e) A first email through Mailgun and its acknowledgement by email.
    const email = await record('e first email (Mailgun) + ack', async () => {
      const form = signMailgun(mailgunFixture('reply-polish'), {
        timestamp: Math.floor(sb.clock.now().getTime() / 1000),
      });
      const response = await sb.postMailgun(form);
      expect(response.status).toBe(200);
      expect(await sb.drain()).toBe(1);
    });

    // (f') The sweeper again, with three conversations whose promises are not due yet.
    const quiet = await record("f' sweeper run, nothing due", () => sweep(sb.runtime.sweepDeps));

    expect(sb.log.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    const measured = { a: first, b: second, c: agent, d: meta, e: email, f: idle, "f'": quiet, g: status };
    const over = Object.entries(measured).flatMap(([flow, tally]) =>
      overBudget(flow.replace("'", ''), tally),
    );
    expect(over).toEqual([]);
    // The flows did what they are priced as: an ack for each first message, none for the second.
    expect([first.events, second.events, agent.events]).toEqual([3, 1, 1]);

    // The shared listing keys (docs/scale.md): what a new customer's message, its ack and two
    // delivery callbacks write on each, all shards together. One index partition takes about
    // 1,000 WRU a second, so N shards of a key take 1,000 × N / (its WRU a message) messages a second.
    const perMessage: Record<string, number> = {};
    for (const tally of [first, status, status]) {
      for (const [key, wru] of Object.entries(tally.byPartition)) {
        if (!/CONV#<conversation>|ASSIGNEE#/.test(key)) bump(perMessage, key, wru);
      }
    }
    const shards = sb.config.aws.indexShards;
    const capacity = Object.fromEntries(
      Object.entries(perMessage).map(([key, wru]) => [key, Math.floor((1_000 * shards) / wru)]),
    );
    console.log(
      `WRU a message by listing key, and the messages a second ${shards} shards of it take:`,
      JSON.stringify(
        Object.fromEntries(Object.entries(perMessage).map(([key, wru]) => [key, [wru, capacity[key]]])),
      ),
    );
    expect(Object.keys(perMessage).sort()).toEqual([
      'gsi1 CONVS#open',
      'gsi2 SWEEP',
      'gsi3 AWAITING',
      'gsi4 CONVS#open#sms',
    ]);
    // The default shard count is sized for the API's default throttle (300 requests a second,
    // about 100 messages) with five times the room.
    for (const [key, messages] of Object.entries(capacity))
      expect([key, messages >= 500]).toEqual([key, true]);
  }, 60_000);

  it('should add a bounded cost per outbound webhook subscription', async () => {
    const receiver: WebhookReceiver = await startWebhookReceiver({ now: () => sb.clock.now() });
    try {
      const created = await sb.runtime.app.request('/api/webhooks', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${receiver.url}/hooks`, events: ['*'] }),
      });
      expect(created.status).toBe(201);
      receiver.secret = ((await created.json()) as { secret: string }).secret;
      const events = (await sb.events()).length;
      const hooked = await record('h first SMS + ack, 1 webhook', async () => {
        expect((await sb.postSms({ From: '+48603456789', Body: 'Halo?' })).status).toBe(200);
        expect(await sb.drain()).toBe(1);
      });
      const published = (await sb.events()).length - events;
      expect(receiver.requests).toHaveLength(published);
      expect(overBudget('h', hooked)).toEqual([]);
      // The deliveries' keys are sharded like the conversations' (3 events × 3 writes each).
      const deliveryKeys = Object.fromEntries(
        Object.entries(hooked.byPartition).filter(([key]) => key.includes('WEBHOOK')),
      );
      console.log('WRU a message on the webhook deliveries keys:', JSON.stringify(deliveryKeys));
      expect(Object.keys(deliveryKeys).sort()).toEqual([
        'gsi1 WEBHOOK#<subscription>#DELIVERIES',
        'gsi2 WEBHOOK',
      ]);
    } finally {
      await receiver.stop();
    }
  });
});

function printTable(rows: readonly Row[]): void {
  const lines = [
    '| flow | DynamoDB requests | by command | WRU table | WRU GSIs | WRU total | RRU | SQS requests | events |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ flow, tally }) => {
      const commands = Object.entries(tally.dynamodb)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
      const sqs = Object.entries(tally.sqs)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
      return `| ${flow} | ${total(tally.dynamodb)} | ${commands} | ${tally.wru} | ${tally.indexWru} | ${tally.wru + tally.indexWru} | ${tally.rru} | ${total(tally.sqs)}${sqs ? ` (${sqs})` : ''} | ${tally.events} |`;
    }),
    '',
    '| flow | writes by item kind (count, largest image in bytes) |',
    '|---|---|',
    ...rows.map(
      ({ flow, tally }) =>
        `| ${flow} | ${Object.entries(tally.written)
          .map(([kind, w]) => `${kind} ${w.writes}× ≤${w.maxBytes} B`)
          .join(', ')} |`,
    ),
  ];
  if (process.env.COST_TRACE) {
    for (const { flow, tally } of rows) lines.push('', `${flow}:`, ...tally.trace.map((line) => `  ${line}`));
  }
  console.log(lines.join('\n'));
}
