import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventFeed } from '#lib/local/event-feed.ts';
import { countEventRecords } from '#lib/runtime/stats-records.ts';
import { countCalls, InjectedFault, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

describe('the stats feed (service-level counting after the fact)', () => {
  let sb: TestSwitchboard;
  let dir: string;

  afterEach(async () => {
    await sb.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start() {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-feed-'));
    sb = await startTestSwitchboard({ eventsPath: join(dir, 'events.jsonl') });
  }

  async function today() {
    const date = sb.clock.now().toISOString().slice(0, 10);
    const response = await sb.api(`/api/service-level?from=${date}&to=${date}`);
    return ((await response.json()) as { totals: { conversations: number; messages: number } }).totals;
  }

  const feed = (offsetFile = 'offset') =>
    new LocalEventFeed({
      eventsPath: join(dir, 'events.jsonl'),
      offsetPath: join(dir, offsetFile),
      deps: sb.runtime.statsDeps,
      log: sb.log,
    });

  it('should keep the stats writes off the webhook and count the events afterwards, once', async () => {
    // Prepare
    await start();
    const statsWrites = countCalls(sb.backends.dynamodb, 'PutItemCommand', pkStartsWith('STATS'));

    // Act
    const response = await sb.postSms({ From: '+48601234567' });
    const duringWebhook = statsWrites.count;
    const before = await today();
    const lines = await feed().catchUp();
    const again = await feed().catchUp();

    // Assess
    expect(response.status).toBe(200);
    expect(duringWebhook).toBe(0);
    expect(before).toMatchObject({ conversations: 0, messages: 0 });
    expect(lines).toBe(2);
    expect(again).toBe(0);
    expect(statsWrites.count).toBeGreaterThan(0);
    expect(await today()).toMatchObject({ conversations: 1, messages: 1 });
  });

  it('should wait for a line to be complete, resume where it stopped, and never count twice after a lost offset', async () => {
    // Prepare: one complete event line and half of the next, as a write in progress looks
    await start();
    await sb.postSms({ From: '+48601234567' });
    const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
    const [first, second] = text.split('\n');
    await writeFile(join(dir, 'events.jsonl'), `${first}\n${second?.slice(0, 20)}`);

    // Act
    const firstPass = await feed().catchUp();
    await writeFile(join(dir, 'events.jsonl'), `${first}\n${second}\n`);
    const secondPass = await feed().catchUp();
    const thirdPass = await feed().catchUp();
    const recount = await feed('lost-offset').catchUp();

    // Assess: the half line waited; a feed that lost its offset reads everything again, and
    // the stats markers drop what was counted
    expect([firstPass, secondPass, thirdPass, recount]).toEqual([1, 1, 0, 2]);
    expect(await today()).toMatchObject({ conversations: 1, messages: 1 });
  });

  it('should not count again what a data dir from before the feed holds, and count what comes after', async () => {
    // Prepare: events already in the file (counted when they were published, before the feed)
    await start();
    await sb.postSms({ From: '+48601234567' });
    const upgraded = feed('upgraded');

    // Act
    await upgraded.adoptExisting();
    const old = await upgraded.catchUp();
    await sb.postSms({ From: '+48601234568' });
    const fresh = await upgraded.catchUp();

    // Assess
    expect(old).toBe(0);
    expect(fresh).toBe(2);
    expect(await today()).toMatchObject({ conversations: 1, messages: 1 });
  });

  it('should skip a line that is not an event, and count the rest', async () => {
    // Prepare
    await start();
    await sb.postSms({ From: '+48601234567' });
    await appendFile(join(dir, 'events.jsonl'), 'not json\n{"id":"evt_x"}\n');

    // Act
    const lines = await feed().catchUp();

    // Assess
    expect(lines).toBe(4);
    expect(await today()).toMatchObject({ conversations: 1, messages: 1 });
    expect(sb.log.lines.some((line) => line.message.includes('not events skipped'))).toBe(true);
  });

  it('should count a batch of the stats queue as EventBridge delivers it, and give back a body that is not an event', async () => {
    // Prepare: the bodies the rule would put on the queue (the bus's envelope, our event in detail)
    await start();
    await sb.postSms({ From: '+48601234567' });
    const events = await sb.events();
    const records = [
      ...events.map((event, i) => ({
        messageId: `m${i}`,
        body: JSON.stringify({
          version: '0',
          id: crypto.randomUUID(),
          'detail-type': event.type,
          source: 'switchboard',
          account: '123456789012',
          time: new Date().toISOString(),
          region: 'eu-central-1',
          resources: [],
          detail: event,
        }),
      })),
      { messageId: 'bad', body: '{"detail":{"id":1}}' },
    ];

    // Act
    const first = await countEventRecords(sb.runtime.statsDeps, records);
    const redelivered = await countEventRecords(sb.runtime.statsDeps, records);

    // Assess
    expect(first.tally).toEqual({ counted: 2, duplicate: 0, ignored: 0, invalid: 1 });
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(redelivered.tally).toEqual({ counted: 0, duplicate: 2, ignored: 0, invalid: 1 });
    expect(await today()).toMatchObject({ conversations: 1, messages: 1 });
  });

  // Found at stop 26: a stats record this release could not read was logged and dropped, so
  // during a rolling deploy an older worker lost a newer release's event (a type it does not
  // know) for good; the work queue's jobs already went back to the queue, then the DLQ.
  it("should give back a newer release's event it cannot count (the queue gives it again, then keeps it in the stats DLQ), not drop it", async () => {
    // Prepare: a batch with one of our events and one of a type only a newer release has
    await start();
    await sb.postSms({ From: '+48601234567' });
    const [opened] = await sb.events();
    const newer = {
      id: 'evt_0000000000000000000000newer',
      type: 'conversation.snoozed',
      occurredAt: '2026-11-25T09:30:00.000Z',
      conversationId: opened?.conversationId,
      data: { until: '2026-11-26T09:00:00.000+01:00' },
    };
    const envelope = (detail: unknown) =>
      JSON.stringify({ version: '0', source: 'switchboard', 'detail-type': 'x', detail });
    const batch = [
      { messageId: 'ours', body: envelope(opened) },
      { messageId: 'newer', body: envelope(newer) },
    ];

    // Act: the batch, and the newer record again as the queue gives it back
    const first = await countEventRecords(sb.runtime.statsDeps, batch);
    const again = await countEventRecords(sb.runtime.statsDeps, [batch[1] as (typeof batch)[number]]);

    // Assess: ours counted; the newer one failed each time (not dropped), its type logged
    expect(first.tally).toMatchObject({ counted: 1, invalid: 1 });
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'newer' }]);
    expect(again.batchItemFailures).toEqual([{ itemIdentifier: 'newer' }]);
    expect(sb.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ messageId: 'newer', type: 'conversation.snoozed' }),
      }),
    );
  });

  /** The bus's events as the stats queue delivers them (bare events, as locally). */
  async function records() {
    return (await sb.events()).map((event, i) => ({ messageId: `m${i}`, body: JSON.stringify(event) }));
  }

  it("should count a batch's conversations side by side and each conversation's events in order", async () => {
    // Prepare: twelve new customers, one of whom writes twice.
    await start();
    for (let i = 0; i < 12; i++) await sb.postSms({ From: `+4860123${String(i).padStart(4, '0')}` });
    await sb.postSms({ From: '+48601230000', Body: 'Jeszcze jedno' });
    const batch = await records();
    const conversationOf = new Map((await sb.events()).map((event) => [event.id, event.conversationId]));
    // Claims in flight, overall and per conversation, watched at the client's edge.
    let inFlight = 0;
    let most = 0;
    const perConversation = new Map<string, number>();
    let mostPerConversation = 0;
    const stack = sb.backends.dynamodb.middlewareStack as unknown as {
      add(middleware: unknown, options: { step: string; name: string }): void;
      remove(name: string): boolean;
    };
    stack.add(
      (next: (args: { input: Record<string, unknown> }) => Promise<unknown>) =>
        async (args: { input: Record<string, unknown> }) => {
          const pk = (args.input.Item as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
          const conversation = pk.startsWith('STATSEVT#') ? conversationOf.get(pk.slice(9)) : undefined;
          if (!conversation) return next(args);
          inFlight++;
          most = Math.max(most, inFlight);
          perConversation.set(conversation, (perConversation.get(conversation) ?? 0) + 1);
          mostPerConversation = Math.max(mostPerConversation, perConversation.get(conversation) ?? 0);
          try {
            return await next(args);
          } finally {
            inFlight--;
            perConversation.set(conversation, (perConversation.get(conversation) ?? 1) - 1);
          }
        },
      { step: 'initialize', name: 'claims-in-flight' },
    );

    // Act
    const tally = await countEventRecords(sb.runtime.statsDeps, batch);
    stack.remove('claims-in-flight');

    // Assess: the second message delivered the first one's two events again (same ids).
    expect(tally).toEqual({
      tally: { counted: 25, duplicate: 2, ignored: 0, invalid: 0 },
      batchItemFailures: [],
    });
    expect(most).toBeGreaterThan(1);
    expect(mostPerConversation).toBe(1);
    expect(await today()).toMatchObject({ conversations: 12, messages: 13 });
  });

  it('should add what it counted when one event fails, and count the rest when the batch comes again', async () => {
    // Prepare: five new customers; the claim of one message's event fails once.
    await start();
    for (let i = 0; i < 5; i++) await sb.postSms({ From: `+4860124${String(i).padStart(4, '0')}` });
    const batch = await records();
    const failing = (await sb.events()).find((event) => event.type === 'message.received');
    injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      // A message's count is claimed under its message id (counted once whatever announced it).
      match: (input) =>
        (input.Item as { pk?: { S?: string } }).pk?.S ===
        `STATSEVT#message.received:${failing?.data.messageId}`,
    });

    // Act
    const first = await countEventRecords(sb.runtime.statsDeps, batch).catch((error: Error) => error);
    const partial = await today();
    const redelivered = await countEventRecords(sb.runtime.statsDeps, batch);

    // Assess: nothing lost, nothing counted twice.
    expect(first).toBeInstanceOf(InjectedFault);
    expect(partial).toMatchObject({ conversations: 5, messages: 4 });
    expect(redelivered.tally).toEqual({ counted: 1, duplicate: 9, ignored: 0, invalid: 0 });
    expect(await today()).toMatchObject({ conversations: 5, messages: 5 });
  });
});
