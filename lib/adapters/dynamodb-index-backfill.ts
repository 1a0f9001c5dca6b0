import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Conversation } from '#lib/domain/conversation.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import type { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { applied } from './dynamodb-conditional.ts';
import { readConversations } from './dynamodb-conversation-listings.ts';
import { queryShards, type ShardCount, tableKeyFromSortKey } from './dynamodb-shards.ts';

/**
 * How long after a backfill began the pass that ends it must begin: by then no function of the
 * earlier release is still running (the longest, the sweeper, stops after 60 s; a deploy updates
 * the three functions within minutes), so none can write another stale entry after it.
 */
export const INDEX_BACKFILL_SETTLE_MS = 15 * 60_000;

/**
 * Where a backfill that moves conversations' index keys has got to: `startedAt`, when it began;
 * `passStartedAt`, when the pass under way began (null between passes); `cursor`, where it is in
 * the index.
 */
export type PassProgress = {
  startedAt: string;
  passStartedAt: string | null;
  cursor: string | null;
  done: boolean;
  version: number;
};

/**
 * Runs up to `pages` pages of a backfill that gives conversations the index keys a write of them
 * stores now, storing where it got to after each page (conditional on the version read: a
 * second sweeper that got further is not sent back), so a crash or the next run resumes there.
 * A second pass, begun INDEX_BACKFILL_SETTLE_MS after the first, catches an entry a function of
 * the earlier release still wrote during the deploy; the backfill is done when such a pass ends.
 * `stored` is what `progress` held; `current` says whether it is this backfill's to go on with
 * (else `fresh` starts one, carrying the stored version).
 */
export async function runSettlingPasses<P extends PassProgress, T>(options: {
  progress: BackfillProgress<P>;
  stored: P | null;
  now: Date;
  pages: number;
  pageSize: number;
  current: (stored: P) => boolean;
  fresh: (start: PassProgress) => P;
  page: (cursor: string | null, pageSize: number) => Promise<{ items: T[]; nextCursor: string | null }>;
  move: (item: T) => Promise<boolean>;
}): Promise<{ moved: number; done: boolean }> {
  const { progress, now } = options;
  let at = options.stored;
  let moved = 0;
  let done = false;
  for (let page = 0; page < options.pages; page++) {
    const from: P =
      at && options.current(at)
        ? at
        : options.fresh({
            startedAt: now.toISOString(),
            passStartedAt: now.toISOString(),
            cursor: null,
            done: false,
            version: at?.version ?? 0,
          });
    const settled = now.getTime() >= Date.parse(from.startedAt) + INDEX_BACKFILL_SETTLE_MS;
    // Between passes: the last one waits until the earlier release can no longer be writing.
    if (from.passStartedAt === null && !settled) break;
    const pass = from.passStartedAt ?? now.toISOString();
    const read = await options.page(from.cursor, options.pageSize);
    const moves = await Promise.all(read.items.map((item) => options.move(item)));
    moved += moves.filter(Boolean).length;
    const ended = Date.parse(pass) >= Date.parse(from.startedAt) + INDEX_BACKFILL_SETTLE_MS;
    const next: P = read.nextCursor
      ? { ...from, passStartedAt: pass, cursor: read.nextCursor, version: from.version + 1 }
      : { ...from, passStartedAt: null, cursor: null, done: ended, version: from.version + 1 };
    if (!(await progress.save(next, at))) break;
    at = next;
    if (next.done) done = true;
    if (next.passStartedAt === null) break;
  }
  return { moved, done };
}

const conversationKey = tableKeyFromSortKey('CONV', 'CONV');

/**
 * A page of one of the conversations' sparse indexes (every shard), soonest first, from
 * `cursor`; when the index's shard count changed since the cursor was stored, from its start.
 * An item this release cannot read is left out (the sweeper logs it by key); `sortKeys` gives
 * each read conversation's sort key in the index.
 */
export async function conversationIndexPage(options: {
  client: DynamoDBClient;
  table: string;
  shards: ShardCount;
  index: 'gsi2' | 'gsi3';
  base: string;
  cursor: string | null;
  pageSize: number;
}): Promise<{ items: Conversation[]; nextCursor: string | null; sortKeys: Map<string, string | undefined> }> {
  const query = {
    client: options.client,
    table: options.table,
    index: options.index,
    base: options.base,
    shards: await options.shards.forReading(),
    newestFirst: false,
    limit: options.pageSize,
    tableKey: conversationKey,
  };
  let page: Awaited<ReturnType<typeof queryShards>>;
  try {
    page = await queryShards({ ...query, cursor: options.cursor ?? undefined });
  } catch (error) {
    if (!(error instanceof InvalidCursorError) || options.cursor === null) throw error;
    page = await queryShards(query);
  }
  const sortKey = `${options.index}sk`;
  const sortKeys = new Map(page.items.map((item) => [item.pk?.S ?? '', item[sortKey]?.S]));
  const { items, nextCursor } = readConversations(page);
  return { items, nextCursor, sortKeys };
}

/**
 * Sets (or, with `keys` null, removes) one index's two keys on a conversation, conditional on the
 * version read: one written since has its keys from that write. False when it changed.
 */
export function setConversationIndexKeys(
  client: DynamoDBClient,
  table: string,
  conversation: Conversation,
  index: 'gsi2' | 'gsi3',
  keys: { pk: string; sk: string } | null,
): Promise<boolean> {
  const [pk, sk] = [`${index}pk`, `${index}sk`];
  const update = keys
    ? {
        UpdateExpression: `SET ${pk} = :pk, ${sk} = :sk`,
        ExpressionAttributeValues: marshall({
          ':pk': keys.pk,
          ':sk': keys.sk,
          ':version': conversation.version,
        }),
      }
    : {
        UpdateExpression: `REMOVE ${pk}, ${sk}`,
        ExpressionAttributeValues: marshall({ ':version': conversation.version }),
      };
  return applied(
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: marshall({ pk: `CONV#${conversation.id}`, sk: 'CONV' }),
        ConditionExpression: 'version = :version',
        ...update,
      }),
    ),
  );
}
