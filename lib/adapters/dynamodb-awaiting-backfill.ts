import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { awaitingOf, type Conversation } from '#lib/domain/conversation.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { awaitingIndexKeys } from './dynamodb-conversations.ts';
import {
  conversationIndexPage,
  INDEX_BACKFILL_SETTLE_MS,
  runSettlingPasses,
  setConversationIndexKeys,
} from './dynamodb-index-backfill.ts';
import { type ShardCount, shardKey } from './dynamodb-shards.ts';

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

/** How long after the backfill began the pass that ends it must begin (the shared rule). */
export const AWAITING_BACKFILL_SETTLE_MS = INDEX_BACKFILL_SETTLE_MS;

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
    const stored = await this.#progress.read();
    if (stored?.done) {
      this.#done = true;
      return { moved: 0, done: true };
    }
    const { moved, done } = await runSettlingPasses({
      progress: this.#progress,
      stored,
      now,
      pages,
      pageSize,
      current: () => true,
      fresh: (start) => start,
      // The waiting list (every shard), soonest promise first; what was moved is no longer in it.
      page: (cursor, size) =>
        conversationIndexPage({
          client: this.#client,
          table: this.#table,
          shards: this.#shards,
          index: 'gsi3',
          base: 'AWAITING',
          cursor,
          pageSize: size,
        }),
      move: (conversation) => this.#move(conversation),
    });
    if (done) this.#done = true;
    return { moved, done: this.#done };
  }

  /** Gives a stale AWAITING entry the keys a write of the conversation stores now; false when none is due or it changed. */
  async #move(conversation: Conversation): Promise<boolean> {
    if (awaitingOf(conversation) === 'reply') return false;
    const keys = awaitingIndexKeys(conversation, (base) =>
      shardKey(base, conversation.id, this.#shards.forWriting),
    );
    return setConversationIndexKeys(
      this.#client,
      this.#table,
      conversation,
      'gsi3',
      'gsi3pk' in keys ? { pk: keys.gsi3pk, sk: keys.gsi3sk } : null,
    );
  }
}
