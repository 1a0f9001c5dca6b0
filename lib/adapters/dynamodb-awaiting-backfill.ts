import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { awaitingOf, type Conversation } from '#lib/domain/conversation.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { applied } from './dynamodb-conditional.ts';
import { awaitingIndexKeys, readConversations } from './dynamodb-conversation-store.ts';
import { queryShards, type ShardCount, shardKey, tableKeyFromSortKey } from './dynamodb-shards.ts';

/**
 * Where the one-off backfill of the waiting list has got to. Before stop 25 every open episode
 * was listed under gsi3 `AWAITING`, also one only a message nobody is to answer began (HELP, an
 * out-of-office reply); since, such an episode is under `NOREPLY`. An item stored before keeps
 * its AWAITING entry until its next write, so it showed in neither list: the waiting list leaves
 * it out, the no-reply-needed one never had it. `startedAt`: when the backfill began;
 * `passStartedAt`: when the pass under way began (null between passes); `cursor`: where it is in
 * AWAITING. Delete the item to run it again (after a rollback past stop 25 and forward).
 */
const ProgressSchema = z.object({
  startedAt: z.iso.datetime(),
  passStartedAt: z.iso.datetime().nullable(),
  cursor: z.string().nullable(),
  done: z.boolean(),
  version: z.number().int(),
});
type Progress = z.infer<typeof ProgressSchema>;

/**
 * How long after the backfill began the pass that ends it must begin: by then no function of
 * the earlier release is still running (the longest, the sweeper, stops after 60 s; a deploy
 * updates the three functions within minutes), so none can write another stale entry after it.
 */
export const AWAITING_BACKFILL_SETTLE_MS = 15 * 60_000;

const conversationKey = tableKeyFromSortKey('CONV', 'CONV');

/**
 * A one-off backfill, run by the sweeper until done: moves the gsi3 entry of each conversation
 * stored before stop 25 whose open episode needs no reply from `AWAITING` to `NOREPLY`
 * (awaitingIndexKeys, what a write of it stores now). It reads the waiting list with Queries,
 * soonest promise first (never a Scan), at most `pageSize` items a page, and stores where it got
 * to after each page, so a crash or the next run resumes there; each move is conditional on the
 * version it read (a conversation written since has its keys from that write), so a repeat or a
 * second sweeper changes nothing. A second pass, begun AWAITING_BACKFILL_SETTLE_MS after the
 * first, catches an entry a function of the earlier release still wrote during the deploy. Once
 * done, the call costs one GetItem per process, then nothing. The waiting list is the customers
 * waiting now (hundreds, not millions): a pass is a few pages.
 */
export class DynamoDbAwaitingBackfill {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #shards: ShardCount;
  readonly #progress: BackfillProgress<Progress>;
  /** Seen done in the table: this process never asks again. */
  #done = false;

  constructor(options: { client: DynamoDBClient; tableName: string; shards: ShardCount }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#shards = options.shards;
    this.#progress = new BackfillProgress({
      client: options.client,
      tableName: options.tableName,
      name: 'noreply-index',
      schema: ProgressSchema,
    });
  }

  async run(
    now: Date,
    options: { pageSize?: number; pages?: number } = {},
  ): Promise<{ moved: number; done: boolean }> {
    const { pageSize = 100, pages = 10 } = options;
    if (this.#done) return { moved: 0, done: true };
    let at = await this.#progress.read();
    if (at?.done) {
      this.#done = true;
      return { moved: 0, done: true };
    }
    let moved = 0;
    for (let page = 0; page < pages; page++) {
      const from: Progress = at ?? {
        startedAt: now.toISOString(),
        passStartedAt: now.toISOString(),
        cursor: null,
        done: false,
        version: 0,
      };
      const settled = now.getTime() >= Date.parse(from.startedAt) + AWAITING_BACKFILL_SETTLE_MS;
      // Between passes: the last one waits until the earlier release can no longer be writing.
      if (from.passStartedAt === null && !settled) break;
      const pass = from.passStartedAt ?? now.toISOString();
      const read = await this.#waiting(from.cursor, pageSize);
      const moves = await Promise.all(read.items.map((conversation) => this.#move(conversation)));
      moved += moves.filter(Boolean).length;
      const ended = Date.parse(pass) >= Date.parse(from.startedAt) + AWAITING_BACKFILL_SETTLE_MS;
      const next: Progress = read.nextCursor
        ? { ...from, passStartedAt: pass, cursor: read.nextCursor, version: from.version + 1 }
        : { ...from, passStartedAt: null, cursor: null, done: ended, version: from.version + 1 };
      // Conditional on the version read: a second sweeper that got further is not sent back.
      const saved = await this.#progress.save(next, at);
      if (!saved) break;
      at = next;
      if (next.done) this.#done = true;
      if (next.passStartedAt === null) break;
    }
    return { moved, done: this.#done };
  }

  /** A page of the waiting list (every shard), soonest promise first, from `cursor`. */
  async #waiting(
    cursor: string | null,
    pageSize: number,
  ): Promise<{ items: Conversation[]; nextCursor: string | null }> {
    const query = {
      client: this.#client,
      table: this.#table,
      index: 'gsi3',
      base: 'AWAITING',
      shards: await this.#shards.forReading(),
      newestFirst: false,
      limit: pageSize,
      tableKey: conversationKey,
    };
    let page: Awaited<ReturnType<typeof queryShards>>;
    try {
      page = await queryShards({ ...query, cursor: cursor ?? undefined });
    } catch (error) {
      // The index's shard count changed since the cursor was stored: the list again from its
      // start (what was moved is no longer in it).
      if (!(error instanceof InvalidCursorError) || cursor === null) throw error;
      page = await queryShards(query);
    }
    // An item this release cannot read is left as it is (the sweeper logs it by key).
    const { items, nextCursor } = readConversations(page);
    return { items, nextCursor };
  }

  /** Gives a stale AWAITING entry the keys a write of the conversation stores now; false when none is due or it changed. */
  async #move(conversation: Conversation): Promise<boolean> {
    if (awaitingOf(conversation) === 'reply') return false;
    const keys = awaitingIndexKeys(conversation, (base) =>
      shardKey(base, conversation.id, this.#shards.forWriting),
    );
    const update =
      'gsi3pk' in keys
        ? {
            UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
            ExpressionAttributeValues: marshall({
              ':pk': keys.gsi3pk,
              ':sk': keys.gsi3sk,
              ':version': conversation.version,
            }),
          }
        : {
            UpdateExpression: 'REMOVE gsi3pk, gsi3sk',
            ExpressionAttributeValues: marshall({ ':version': conversation.version }),
          };
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONV#${conversation.id}`, sk: 'CONV' }),
          ConditionExpression: 'version = :version',
          ...update,
        }),
      ),
    );
  }
}
