import { createHash } from 'node:crypto';
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { Conversation } from '#lib/domain/conversation.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import { AWAITING_BACKFILL_SETTLE_MS } from './dynamodb-awaiting-backfill.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { applied } from './dynamodb-conditional.ts';
import { readConversations } from './dynamodb-conversation-store.ts';
import { queryShards, type ShardCount, shardKey, tableKeyFromSortKey } from './dynamodb-shards.ts';

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

const conversationKey = tableKeyFromSortKey('CONV', 'CONV');

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
 * never does. A second pass, begun AWAITING_BACKFILL_SETTLE_MS after the first, catches a
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
    let at = stored;
    let moved = 0;
    for (let page = 0; page < pages; page++) {
      const from: Progress =
        at?.configHash === this.#configHash
          ? at
          : {
              configHash: this.#configHash,
              startedAt: now.toISOString(),
              passStartedAt: now.toISOString(),
              cursor: null,
              done: false,
              version: at?.version ?? 0,
            };
      const settled = now.getTime() >= Date.parse(from.startedAt) + AWAITING_BACKFILL_SETTLE_MS;
      // Between passes: the last one waits until the earlier release can no longer be writing.
      if (from.passStartedAt === null && !settled) break;
      const pass = from.passStartedAt ?? now.toISOString();
      const read = await this.#page(from.cursor, pageSize);
      const moves = await Promise.all(read.items.map((item) => this.#move(item)));
      moved += moves.filter(Boolean).length;
      const ended = Date.parse(pass) >= Date.parse(from.startedAt) + AWAITING_BACKFILL_SETTLE_MS;
      const next: Progress = read.nextCursor
        ? { ...from, passStartedAt: pass, cursor: read.nextCursor, version: from.version + 1 }
        : { ...from, passStartedAt: null, cursor: null, done: ended, version: from.version + 1 };
      // Conditional on the version read: a second sweeper that got further is not sent back.
      if (!(await this.#progress.save(next, at))) break;
      at = next;
      if (next.done) this.#done = true;
      if (next.passStartedAt === null) break;
    }
    return { moved, done: this.#done };
  }

  /** A page of the SWEEP index (every shard, due or not), soonest first, from `cursor`. */
  async #page(
    cursor: string | null,
    pageSize: number,
  ): Promise<{
    items: Array<{ conversation: Conversation; sortKey: string | undefined }>;
    nextCursor: string | null;
  }> {
    const query = {
      client: this.#client,
      table: this.#table,
      index: 'gsi2',
      base: 'SWEEP',
      shards: await this.#shards.forReading(),
      newestFirst: false,
      limit: pageSize,
      tableKey: conversationKey,
    };
    let page: Awaited<ReturnType<typeof queryShards>>;
    try {
      page = await queryShards({ ...query, cursor: cursor ?? undefined });
    } catch (error) {
      // The index's shard count changed since the cursor was stored: the index from its start.
      if (!(error instanceof InvalidCursorError) || cursor === null) throw error;
      page = await queryShards(query);
    }
    const sortKeys = new Map(page.items.map((item) => [item.pk?.S, item.gsi2sk?.S]));
    // An item this release cannot read is left as it is (the sweeper logs it by key).
    const { items, nextCursor } = readConversations(page);
    return {
      items: items.map((conversation) => ({
        conversation,
        sortKey: sortKeys.get(`CONV#${conversation.id}`),
      })),
      nextCursor,
    };
  }

  /** Gives the conversation the sweep time this configuration computes; false when it had it or changed. */
  async #move({ conversation, sortKey }: { conversation: Conversation; sortKey: string | undefined }) {
    const sweepAt = this.#sweepAt(conversation);
    const wanted = sweepAt ? `${sweepAt}#${conversation.id}` : undefined;
    if (wanted === sortKey) return false;
    const update = wanted
      ? {
          UpdateExpression: 'SET gsi2pk = :pk, gsi2sk = :sk',
          ExpressionAttributeValues: marshall({
            ':pk': shardKey('SWEEP', conversation.id, this.#shards.forWriting),
            ':sk': wanted,
            ':version': conversation.version,
          }),
        }
      : {
          UpdateExpression: 'REMOVE gsi2pk, gsi2sk',
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
