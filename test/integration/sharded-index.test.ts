import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConversationStore } from '#lib/adapters/dynamodb-conversation-store.ts';
import { ShardCount, shardPartitions } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import type { Conversation } from '#lib/domain/conversation.ts';
import { newDelivery } from '#lib/domain/webhook.ts';
import { ensureTable } from '#lib/local/provision.ts';
import { type ConversationQuery, MAX_CURSOR_LENGTH } from '#lib/ports/conversation-store.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

const NOW = new Date('2026-11-10T12:00:00Z');
const CHANNELS = ['sms', 'whatsapp', 'messenger'] as const;

/**
 * The single-valued listing keys (CONVS#<status>, AWAITING, SWEEP, CONVS#<status>#<channel>)
 * are spread over N index partitions and merged on read (lib/adapters/dynamodb-shards.ts).
 * These tests hold the merge to what one partition gave: every listing in order, every
 * conversation once, across pages of any size.
 */
describe('sharded listing keys', () => {
  let sb: TestSwitchboard;
  let template: Conversation;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601000000' });
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 1 });
    template = items[0] as Conversation;
  });
  afterAll(async () => {
    await sb.stop();
  });

  /** A store with `shards` partitions per listing key, on a fresh table unless one is named. */
  async function storeOn(shards: number, table?: string) {
    const tableName = table ?? `sharded-${randomBytes(4).toString('hex')}`;
    if (!table) await ensureTable(sb.backends.dynamodb, tableName);
    const store = new DynamoDbConversationStore({
      client: sb.backends.dynamodb,
      tableName,
      // Due for the sweeper while the customer waits: at the promise.
      sweepAt: (conversation) => (conversation.awaitingSince ? conversation.replyBy : null),
      shards: new ShardCount({ client: sb.backends.dynamodb, tableName, configured: shards }),
    });
    return { store, tableName };
  }

  /** `count` conversations with colliding times, three channels, some resolved, a third waiting. */
  function conversations(count: number, prefix = 'a'): Conversation[] {
    return Array.from({ length: count }, (_, n) => {
      // Every fourth minute repeats, so ties on time are broken by the id.
      const at = new Date(NOW.getTime() - (n % 17) * 60_000 - (n % 4 === 0 ? 0 : n) * 1_000).toISOString();
      const waiting = n % 3 === 0;
      return {
        ...template,
        id: `conv_${prefix}${String(n).padStart(24, '0')}`,
        contact: { key: `phone:+4860${String(n).padStart(7, '0')}`, channels: ['sms'] },
        status: n % 5 === 4 ? 'resolved' : 'open',
        channel: CHANNELS[n % 3] as Conversation['channel'],
        lastMessageAt: at,
        awaitingSince: waiting ? at : null,
        // Promises on both sides of NOW, so that `overdue` takes some of them.
        replyBy: waiting
          ? new Date(NOW.getTime() + ((n * 7) % 40) * 3_600_000 - 20 * 3_600_000).toISOString()
          : null,
        outbox: [],
        ack: null,
        notice: null,
        assignee: null,
      };
    });
  }

  // What one unsharded partition would list, in its order.
  const byActivity = (a: Conversation, b: Conversation) =>
    `${b.lastMessageAt}#${b.id}`.localeCompare(`${a.lastMessageAt}#${a.id}`);
  const byPromise = (a: Conversation, b: Conversation) =>
    `${a.replyBy}#${a.id}`.localeCompare(`${b.replyBy}#${b.id}`);
  const waiting = (c: Conversation) => c.status === 'open' && c.awaitingSince !== null;
  const LISTINGS: [string, Omit<ConversationQuery, 'limit'>, (all: Conversation[]) => Conversation[]][] = [
    ['open', { status: 'open' }, (all) => all.filter((c) => c.status === 'open').sort(byActivity)],
    [
      'resolved',
      { status: 'resolved' },
      (all) => all.filter((c) => c.status === 'resolved').sort(byActivity),
    ],
    [
      'open on WhatsApp',
      { status: 'open', channel: 'whatsapp' },
      (all) => all.filter((c) => c.status === 'open' && c.channel === 'whatsapp').sort(byActivity),
    ],
    ['awaiting', { status: 'open', awaiting: true }, (all) => all.filter(waiting).sort(byPromise)],
    [
      'overdue',
      { status: 'open', overdue: true, now: NOW },
      (all) => all.filter((c) => waiting(c) && Date.parse(c.replyBy ?? '') < NOW.getTime()).sort(byPromise),
    ],
  ];

  async function walk(
    store: DynamoDbConversationStore,
    query: Omit<ConversationQuery, 'limit'>,
    limit: number,
  ) {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 500; pages++) {
      const page = await store.listConversations({ ...query, limit, cursor });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((c) => c.id));
      if (page.nextCursor === null) return ids;
      cursor = page.nextCursor;
    }
    throw new Error('the listing never ended');
  }

  it.each([1, 3, 8])(
    'should list in order and each conversation once, with %i shards and any page size',
    async (shards) => {
      // Prepare
      const { store } = await storeOn(shards);
      const all = conversations(60);
      await Promise.all(all.map((conversation) => store.saveConversation(conversation, null)));

      for (const [name, query, expected] of LISTINGS) {
        const want = expected(all).map((c) => c.id);
        expect(want.length, name).toBeGreaterThan(3);
        for (const limit of [1, 2, 5, 7, 50, 100]) {
          // Act
          const ids = await walk(store, query, limit);

          // Assess
          expect([name, limit, ids]).toEqual([name, limit, want]);
        }
      }
    },
  );

  it('should spread each listing key evenly over its partitions', async () => {
    // Prepare
    const { store, tableName } = await storeOn(8);
    const all = conversations(800, 'b').map((c) => ({ ...c, status: 'open' as const }));
    for (let i = 0; i < all.length; i += 200) {
      await Promise.all(
        all.slice(i, i + 200).map((conversation) => store.saveConversation(conversation, null)),
      );
    }

    // Act
    const counts = await Promise.all(
      shardPartitions('CONVS#open', 8).map(async (partition) => {
        const result = await sb.backends.dynamodb.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: partition } },
            Select: 'COUNT',
          }),
        );
        return result.Count ?? 0;
      }),
    );

    // Assess: 100 a partition on average; none close to twice that.
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(800);
    for (const count of counts) expect(count).toBeGreaterThan(60);
    for (const count of counts) expect(count).toBeLessThan(140);
  });

  it('should hide nothing when the shard count grows: old entries are read, and move at their next write', async () => {
    // Prepare: written before sharding (one partition per key), then read with eight.
    const { store: before, tableName } = await storeOn(1);
    const all = conversations(30, 'c');
    await Promise.all(all.map((conversation) => before.saveConversation(conversation, null)));
    const { store: after } = await storeOn(8, tableName);

    // Act
    const listedBefore = await walk(after, { status: 'open' }, 7);
    const { items: dueBefore } = await after.dueForSweep(NOW, 100);
    const rewritten = all.filter((c) => c.status === 'open').slice(0, 10);
    await Promise.all(rewritten.map((conversation) => after.saveConversation(conversation, 1)));
    const listedAfter = await walk(after, { status: 'open' }, 7);
    const { items: dueAfter } = await after.dueForSweep(NOW, 100);

    // Assess
    const open = all
      .filter((c) => c.status === 'open')
      .sort(byActivity)
      .map((c) => c.id);
    const due = all
      .filter((c) => c.awaitingSince && Date.parse(c.replyBy ?? '') <= NOW.getTime())
      .sort(byPromise)
      .map((c) => c.id);
    expect(listedBefore).toEqual(open);
    expect(listedAfter).toEqual(open);
    expect(dueBefore.map((c) => c.id)).toEqual(due);
    expect(dueAfter.map((c) => c.id)).toEqual(due);
  });

  it('should hide nothing when a deployment lowers the shard count: it reads every shard ever recorded', async () => {
    // Prepare: written and read (so recorded) with eight shards; then a deployment with two.
    const { store: wide, tableName } = await storeOn(8);
    const all = conversations(30, 'h');
    await Promise.all(all.map((conversation) => wide.saveConversation(conversation, null)));
    await wide.dueForSweep(NOW, 1);
    const { store: narrow } = await storeOn(2, tableName);

    // Act: the narrow one rewrites a few (into its two shards), then lists and sweeps.
    const rewritten = all.filter((c) => c.status === 'open').slice(0, 5);
    await Promise.all(rewritten.map((conversation) => narrow.saveConversation(conversation, 1)));
    const listed = await walk(narrow, { status: 'open' }, 7);
    const { items: due } = await narrow.dueForSweep(NOW, 100);
    const moved = await Promise.all(
      rewritten.map(async (c) => {
        const { Item } = await sb.backends.dynamodb.send(
          new GetItemCommand({ TableName: tableName, Key: { pk: { S: `CONV#${c.id}` }, sk: { S: 'CONV' } } }),
        );
        return Item?.gsi1pk?.S;
      }),
    );

    // Assess
    expect(listed).toEqual(
      all
        .filter((c) => c.status === 'open')
        .sort(byActivity)
        .map((c) => c.id),
    );
    expect(due.map((c) => c.id)).toEqual(
      all
        .filter((c) => c.awaitingSince && Date.parse(c.replyBy ?? '') <= NOW.getTime())
        .sort(byPromise)
        .map((c) => c.id),
    );
    for (const partition of moved) expect(['CONVS#open', 'CONVS#open#1']).toContain(partition);
  });

  it('should record the largest shard count, which a function with a smaller one reads at its next refresh', async () => {
    // Prepare
    const tableName = `sharded-${randomBytes(4).toString('hex')}`;
    await ensureTable(sb.backends.dynamodb, tableName);
    const count = (configured: number) =>
      new ShardCount({ client: sb.backends.dynamodb, tableName, configured, refreshMs: 0 });
    const [four, eight, two] = [count(4), count(8), count(2)];

    // Act
    const first = await four.forReading();
    const raced = await Promise.all([eight.forReading(), four.forReading(), two.forReading()]);
    const later = await four.forReading();

    // Assess: each writes with its own; all read the largest once it is recorded.
    expect(first).toBe(4);
    expect(raced[0]).toBe(8);
    expect(raced[2]).toBeGreaterThanOrEqual(4);
    expect(later).toBe(8);
    expect([four.forWriting, eight.forWriting, two.forWriting]).toEqual([4, 8, 2]);
  });

  it('should give the sweeper the soonest due work first, across shards, up to its limit', async () => {
    // Prepare
    const { store } = await storeOn(8);
    const all = conversations(90, 'd');
    await Promise.all(all.map((conversation) => store.saveConversation(conversation, null)));

    // Act
    const { items: due } = await store.dueForSweep(NOW, 5);

    // Assess
    const expected = all
      .filter((c) => c.awaitingSince && Date.parse(c.replyBy ?? '') <= NOW.getTime())
      .sort(byPromise);
    expect(due.map((c) => c.id)).toEqual(expected.slice(0, 5).map((c) => c.id));
  });

  it('should end a listing whose cursor lies past its end, never asking DynamoDB to start outside the range', async () => {
    // Prepare: a page of customers waiting, far enough to pass NOW in most shards; its cursor
    // then continues the overdue listing (the same index and key), whose end is NOW.
    const { store } = await storeOn(8);
    const all = conversations(60, 'f');
    await Promise.all(all.map((conversation) => store.saveConversation(conversation, null)));
    const waitingCount = all.filter(waiting).length;

    // Act (the test backends refuse a start key outside the range, as DynamoDB does)
    const { nextCursor } = await store.listConversations({
      status: 'open',
      awaiting: true,
      limit: waitingCount - 2,
    });
    const overdue = await store.listConversations({
      status: 'open',
      overdue: true,
      now: NOW,
      limit: 10,
      cursor: nextCursor ?? undefined,
    });

    // Assess: every overdue promise came before the awaiting page's last one.
    expect(nextCursor).not.toBeNull();
    expect(overdue).toEqual({ items: [], nextCursor: null, unreadable: [] });
  });

  it('should page through the API with the most shards allowed, its cursors inside its own limit', async () => {
    // Prepare: a deployment with 64 shards.
    const wide = await startTestSwitchboard({ env: { TABLE_INDEX_SHARDS: '64' } });
    try {
      // Random ids (as real ones are), enough for every shard to hold a position in the cursor.
      const all = conversations(400, 'g').map((c) => ({
        ...c,
        id: `conv_${randomBytes(16)
          .toString('base64url')
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')
          .slice(0, 26)}`,
        status: 'open' as const,
      }));
      await Promise.all(all.map((conversation) => wide.runtime.store.saveConversation(conversation, null)));
      const ids: string[] = [];
      const lengths: number[] = [];
      let query = '?limit=40';

      // Act
      for (let page = 0; page < 10; page++) {
        const response = await wide.api(`/api/conversations${query}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
        ids.push(...body.items.map((c) => c.id));
        if (!body.nextCursor) break;
        lengths.push(body.nextCursor.length);
        query = `?limit=40&cursor=${body.nextCursor}`;
      }

      // Assess: every conversation once, in order (the one the test switchboard opened too).
      const expected = all
        .filter((c) => c.id !== template.id)
        .sort(byActivity)
        .map((c) => c.id);
      expect(ids.filter((id) => id !== template.id)).toEqual(expected);
      expect(Math.max(...lengths)).toBeLessThan(MAX_CURSOR_LENGTH);
    } finally {
      await wide.stop();
    }
  });

  it("should refuse another listing's cursor, another shard count's and a made-up one", async () => {
    // Prepare
    const { store, tableName } = await storeOn(4);
    await Promise.all(
      conversations(12, 'e').map((conversation) => store.saveConversation(conversation, null)),
    );
    const { nextCursor } = await store.listConversations({ status: 'open', limit: 2 });
    const { store: wider } = await storeOn(8, tableName);
    const forged = deflateRawSync(
      JSON.stringify({ q: 'gsi1:CONVS#open', s: ['', null, null, null] }),
    ).toString('base64url');

    // Act
    const attempts = [
      () => store.listConversations({ status: 'resolved', limit: 2, cursor: nextCursor ?? '' }),
      () => store.listConversations({ status: 'open', channel: 'sms', limit: 2, cursor: nextCursor ?? '' }),
      () => wider.listConversations({ status: 'open', limit: 2, cursor: nextCursor ?? '' }),
      () => store.listConversations({ status: 'open', limit: 2, cursor: forged }),
      () => store.listConversations({ status: 'open', limit: 2, cursor: 'not a cursor' }),
    ];

    // Assess
    expect(nextCursor).not.toBeNull();
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("should page a webhook's delivery log since a time, newest first, across its shards", async () => {
    // Prepare: 40 deliveries a minute apart, spread over 8 shards.
    const SUBSCRIPTION = `wh_${'s'.repeat(26)}`;
    const tableName = `sharded-${randomBytes(4).toString('hex')}`;
    await ensureTable(sb.backends.dynamodb, tableName);
    const webhooks = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName,
      shards: new ShardCount({ client: sb.backends.dynamodb, tableName, configured: 8 }),
    });
    const deliveries = Array.from({ length: 40 }, (_, i) =>
      newDelivery(
        SUBSCRIPTION,
        {
          id: `evt_${String(i).padStart(26, '0')}`,
          type: 'message.received',
          occurredAt: new Date(NOW.getTime() + i * 60_000).toISOString(),
          conversationId: 'conv_x',
          data: {},
        },
        new Date(NOW.getTime() + i * 60_000),
      ),
    );
    await Promise.all(deliveries.map((delivery) => webhooks.createDelivery(delivery)));
    const since = new Date(NOW.getTime() + 15 * 60_000).toISOString();

    // Act: pages of 3, as a replay reads them.
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await webhooks.listDeliveries(SUBSCRIPTION, {
        limit: 3,
        since,
        ...(cursor ? { cursor } : {}),
      });
      ids.push(...page.items.map((delivery) => delivery.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);

    // Assess: the 25 since then, newest first, each once.
    expect(ids).toEqual(
      deliveries
        .slice(15)
        .reverse()
        .map((delivery) => delivery.id),
    );
  });
});
