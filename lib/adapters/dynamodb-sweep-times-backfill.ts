import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { Conversation } from '#lib/domain/conversation.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import {
  conversationIndexPage,
  runSettlingPasses,
  setConversationIndexKeys,
} from './dynamodb-index-backfill.ts';
import type { ShardCount } from './dynamodb-shards.ts';
import { sweepIndexKey } from './dynamodb-sweep-keys.ts';

/**
 * Where the recomputation of the sweep times has got to, for the configuration `configHash`
 * names: `startedAt`, when it began for that configuration; `passStartedAt`, when the pass under
 * way began (null between passes); `cursor`, where it is in the SWEEP index. One item for every
 * configuration: another hash than this release's starts it again (a deploy, a rollback).
 */
const ProgressSchema = z.object({
  configHash: z.string(),
  startedAt: z.iso.datetime(),
  passStartedAt: z.iso.datetime().nullable(),
  cursor: z.string().nullable(),
  done: z.boolean(),
  version: z.number().int(),
});
type Progress = z.infer<typeof ProgressSchema>;

/**
 * What a sweep time is computed from, as one hash: the business configuration (hours,
 * holidays, closures, rota, targets…), the late notice's lead and the ack grace period. Any
 * edit of the file changes it, also one that moves no time: that costs one pass that writes
 * nothing.
 */
export function sweepConfigHash(inputs: {
  business: unknown;
  noticeLeadMs: number;
  graceMs: number;
}): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('base64url').slice(0, 22);
}

/**
 * Moves the sweep times (gsi2 `SWEEP`) that an earlier configuration computed. A conversation's
 * sweep time is computed when it is written, by that release's configuration, and the sweeper
 * only reads what is due: after a deploy that changed the working hours, holidays or the
 * notice's lead, a late notice the new configuration puts earlier went at the old time, and
 * one it puts later had the item read every run until then. Run by the sweeper until done for
 * the configuration in force: it reads the whole SWEEP index (every shard) with Queries, a
 * bounded number of pages a run, and rewrites the index keys of each conversation whose time
 * differs, conditional on the version it read (one written since has its keys from that
 * write). Only the index keys change: the promise the customer heard (`replyBy`, `promise`)
 * never does. A second pass, begun INDEX_BACKFILL_SETTLE_MS after the first, catches a
 * conversation a function of the earlier release still wrote during the deploy. Once done, it
 * costs one GetItem per process.
 */
export class DynamoDbSweepTimesBackfill {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #shards: ShardCount;
  readonly #configHash: string;
  readonly #sweepAt: (conversation: Conversation) => string | null;
  readonly #progress: BackfillProgress<Progress>;
  /** Seen done for this configuration: this process never asks again. */
  #done = false;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    shards: ShardCount;
    configHash: string;
    /** The sweep time a write of the conversation stores now (the store's own). */
    sweepAt: (conversation: Conversation) => string | null;
  }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#shards = options.shards;
    this.#configHash = options.configHash;
    this.#sweepAt = options.sweepAt;
    this.#progress = new BackfillProgress({
      client: options.client,
      tableName: options.tableName,
      name: 'sweep-times',
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
    if (stored?.configHash === this.#configHash && stored.done) {
      this.#done = true;
      return { moved: 0, done: true };
    }
    const { moved, done } = await runSettlingPasses({
      progress: this.#progress,
      stored,
      now,
      pages,
      pageSize,
      // Another configuration's progress (a deploy, a rollback): the index again from its start.
      current: (at) => at.configHash === this.#configHash,
      fresh: (start) => ({ ...start, configHash: this.#configHash }),
      // The SWEEP index (every shard, due or not), soonest first.
      page: async (cursor, size) => {
        const read = await conversationIndexPage({
          client: this.#client,
          table: this.#table,
          shards: this.#shards,
          index: 'gsi2',
          base: 'SWEEP',
          cursor,
          pageSize: size,
        });
        return {
          items: read.items.map((conversation) => ({
            conversation,
            sortKey: read.sortKeys.get(`CONV#${conversation.id}`),
          })),
          nextCursor: read.nextCursor,
        };
      },
      move: (item) => this.#move(item),
    });
    if (done) this.#done = true;
    return { moved, done: this.#done };
  }

  /** Gives the conversation the sweep time this configuration computes; false when it had it or changed. */
  async #move({ conversation, sortKey }: { conversation: Conversation; sortKey: string | undefined }) {
    const wanted = sweepIndexKey(conversation, this.#sweepAt(conversation), this.#shards.forWriting);
    // Read from SWEEP: one now waiting for its channel (stored before session 32) moves to its key.
    if (wanted?.sk === sortKey && wanted?.pk.startsWith('SWEEP')) return false;
    return setConversationIndexKeys(this.#client, this.#table, conversation, 'gsi2', wanted);
  }
}
