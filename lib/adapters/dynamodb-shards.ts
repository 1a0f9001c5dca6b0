import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { InvalidCursorError } from '#lib/ports/errors.ts';

/*
 * Sharded index keys: a listing key that every item of a kind shares (`CONVS#open`, `SWEEP`)
 * would put all their index writes on one index partition, which takes about 1,000 writes a
 * second (docs/scale.md). Each item goes to one of N partitions instead, chosen by a stable hash
 * of its id, and a listing queries the N partitions and merges them in sort-key order.
 *
 * Shard 0 keeps the unsharded name, so the keys written before sharding (N = 1) are shard 0 of
 * any N, and growing N never hides an entry: an item in shard `h mod n` stays readable under
 * any larger N and moves to `h mod N` at its next write. Lowering N would hide the entries of
 * the dropped shards until they are rewritten, so reads use the largest N the table has
 * recorded (ShardCount, below).
 */

/** FNV-1a (32-bit) of the id: cheap, stable across processes and versions, evenly spread. */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

const partitionOf = (base: string, shard: number) => (shard === 0 ? base : `${base}#${shard}`);

/** The index partition of item `id` under the listing key `base`. */
export function shardKey(base: string, id: string, shards: number): string {
  return partitionOf(base, shardOf(id, shards));
}

/** Every partition of the listing key `base`, shard 0 first. */
export function shardPartitions(base: string, shards: number): string[] {
  return Array.from({ length: shards }, (_, shard) => partitionOf(base, shard));
}

/**
 * For items keyed `<prefix>#<id>` / `<sk>` whose index sort keys end in `#<id>` (all the sharded
 * ones): the table key of the item an index sort key belongs to, where a shard resumes.
 */
export function tableKeyFromSortKey(prefix: string, sk: string) {
  return (sortKey: string) => ({ pk: `${prefix}#${sortKey.slice(sortKey.lastIndexOf('#') + 1)}`, sk });
}

export type ShardedQuery = {
  client: DynamoDBClient;
  table: string;
  index: string;
  /** The listing key; its partitions are `shardPartitions(base, shards)`. */
  base: string;
  shards: number;
  newestFirst: boolean;
  /**
   * Where the listing ends, in its direction: oldest-first listings stop before (or at) this
   * sort key, newest-first ones after (or at) it.
   */
  until?: { value: string; inclusive: boolean } | undefined;
  limit: number;
  /** A cursor this function returned for the same listing. */
  cursor?: string | undefined;
  /** The table key of the item with this index sort key: where a shard resumes. */
  tableKey: (sortKey: string) => { pk: string; sk: string };
  /** Only these attributes are read (and the index sort key, which orders the merge). */
  projection?: readonly string[] | undefined;
};

type Shard = {
  partition: string;
  /** Where the next read of this shard starts: after this sort key (null: from its start). */
  after: string | null;
  buffer: Record<string, AttributeValue>[];
  /** DynamoDB may hold more after the buffer. */
  more: boolean;
};

/**
 * One page of a sharded listing, merged in sort-key order across the shards. Each shard is
 * read lazily, a few items at a time, so a page reads about the page size plus a few items per
 * shard, whatever the table holds. The cursor keeps each shard's position.
 */
export async function queryShards(
  query: ShardedQuery,
): Promise<{ items: Record<string, AttributeValue>[]; nextCursor: string | null }> {
  const sortKey = `${query.index}sk`;
  const partitionKey = `${query.index}pk`;
  const tag = `${query.index}:${query.base}`;
  const { until, newestFirst } = query;
  const starts = decodePositions(query.cursor, tag, query.shards);
  // A shard whose position is at or past the end has nothing left (and DynamoDB would refuse
  // a start key outside the key condition).
  const pastEnd = (position: string) =>
    until !== undefined && (newestFirst ? position <= until.value : position >= until.value);
  const shards: Shard[] = shardPartitions(query.base, query.shards)
    .map((partition, i) => ({ partition, position: starts[i] }))
    .filter(({ position }) => position !== false && !(typeof position === 'string' && pastEnd(position)))
    .map(({ partition, position }) => ({
      partition,
      after: typeof position === 'string' ? position : null,
      buffer: [],
      more: true,
    }));

  const read = async (shard: Shard, count: number) => {
    const conditions = [`${partitionKey} = :pk`];
    const values: Record<string, string> = { ':pk': shard.partition };
    if (until) {
      const operator = `${newestFirst ? '>' : '<'}${until.inclusive ? '=' : ''}`;
      conditions.push(`${sortKey} ${operator} :until`);
      values[':until'] = until.value;
    }
    const names =
      query.projection && [...new Set([...query.projection, sortKey])].map((name) => [`#${name}`, name]);
    const result = await query.client.send(
      new QueryCommand({
        TableName: query.table,
        IndexName: query.index,
        KeyConditionExpression: conditions.join(' AND '),
        ExpressionAttributeValues: marshall(values),
        ...(names
          ? {
              ProjectionExpression: names.map(([alias]) => alias).join(', '),
              ExpressionAttributeNames: Object.fromEntries(names),
            }
          : {}),
        ScanIndexForward: !newestFirst,
        Limit: count,
        ...(shard.after === null
          ? {}
          : {
              ExclusiveStartKey: marshall({
                ...query.tableKey(shard.after),
                [partitionKey]: shard.partition,
                [sortKey]: shard.after,
              }),
            }),
      }),
    );
    shard.buffer = result.Items ?? [];
    shard.more = result.LastEvaluatedKey !== undefined;
    // Where the next read resumes once the whole buffer is taken.
    const resumeAt = result.LastEvaluatedKey?.[sortKey]?.S ?? shard.buffer.at(-1)?.[sortKey]?.S;
    if (resumeAt !== undefined) shard.after = resumeAt;
  };

  const items: Record<string, AttributeValue>[] = [];
  const resume = new Map<Shard, string | null>(shards.map((shard) => [shard, shard.after]));
  while (items.length < query.limit) {
    // A shard with nothing buffered but more stored must be read before choosing: its next
    // item may come first.
    const dry = shards.filter((shard) => shard.buffer.length === 0 && shard.more);
    if (dry.length > 0) {
      const wanted = query.limit - items.length;
      const live = shards.filter((shard) => shard.buffer.length > 0 || shard.more).length;
      const count = Math.min(wanted, Math.max(4, Math.ceil((2 * wanted) / live)));
      await Promise.all(dry.map((shard) => read(shard, count)));
      continue;
    }
    let next: Shard | undefined;
    for (const shard of shards) {
      const head = shard.buffer[0]?.[sortKey]?.S;
      if (head === undefined) continue;
      const best = next?.buffer[0]?.[sortKey]?.S;
      if (best === undefined || (newestFirst ? head > best : head < best)) next = shard;
    }
    if (!next) break;
    const item = next.buffer.shift() as Record<string, AttributeValue>;
    items.push(item);
    resume.set(next, item[sortKey]?.S ?? null);
  }

  // Each shard resumes after the last item taken from it; a shard read to its end is done.
  const positions = new Map<string, string | null | false>();
  for (const shard of shards) {
    const position = shard.buffer.length > 0 ? (resume.get(shard) ?? null) : shard.more ? shard.after : false;
    positions.set(shard.partition, position);
  }
  const next = shardPartitions(query.base, query.shards).map((partition) =>
    positions.has(partition) ? (positions.get(partition) as string | null | false) : false,
  );
  return { items, nextCursor: next.every((position) => position === false) ? null : encode(tag, next) };
}

// The cursor is the positions as JSON, deflated: the sort keys share their time prefixes, so
// with 64 shards (the most allowed) it stays near 1,700 characters (measured), inside
// MAX_CURSOR_LENGTH; as plain JSON it would pass 4,000.
function encode(tag: string, positions: (string | null | false)[]): string {
  return deflateRawSync(JSON.stringify({ q: tag, s: positions })).toString('base64url');
}

/**
 * Each shard's position from a cursor: a sort key to resume after, null (from the start) or
 * false (done). A cursor for another listing, another shard count or anything we did not issue
 * is refused; a cursor can only move within its own listing's partitions.
 */
function decodePositions(cursor: string | undefined, tag: string, shards: number): (string | null | false)[] {
  if (cursor === undefined) return Array.from({ length: shards }, () => null);
  let decoded: unknown;
  try {
    const json = inflateRawSync(Buffer.from(cursor, 'base64url'), { maxOutputLength: 64 * 1024 });
    decoded = JSON.parse(json.toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const record = decoded as { q?: unknown; s?: unknown };
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    record.q !== tag ||
    !Array.isArray(record.s) ||
    record.s.length !== shards ||
    !record.s.every(
      (position) =>
        position === null ||
        position === false ||
        (typeof position === 'string' && position.length > 0 && position.length <= 512),
    )
  ) {
    throw new InvalidCursorError();
  }
  return record.s as (string | null | false)[];
}

/**
 * The shard count a function writes with (its configured N), and the one it reads with: the
 * largest N ever recorded in the table (`META#indexShards`), which each function raises to its
 * own the first time it reads (the sweeper does every minute). So a deployment that lowers N by
 * mistake writes into fewer shards but still reads every shard written before; nothing is
 * hidden. The record is read again every `refreshMs`.
 */
export class ShardCount {
  readonly forWriting: number;
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #refreshMs: number;
  #read: { at: number; count: Promise<number> } | null = null;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    configured: number;
    refreshMs?: number;
  }) {
    this.forWriting = options.configured;
    this.#client = options.client;
    this.#table = options.tableName;
    this.#refreshMs = options.refreshMs ?? 5 * 60_000;
  }

  /** How many shards a listing must read. */
  forReading(): Promise<number> {
    const now = performance.now();
    if (!this.#read || now - this.#read.at >= this.#refreshMs) {
      const count = this.#recorded().catch((error: unknown) => {
        this.#read = null;
        throw error;
      });
      this.#read = { at: now, count };
    }
    return this.#read.count;
  }

  async #recorded(): Promise<number> {
    const key = marshall({ pk: 'META#indexShards', sk: 'META' });
    // Consistent: after a lost race below, the larger count must be the one read.
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
    );
    const recorded = Number(Item?.shards?.N ?? 0);
    if (recorded >= this.forWriting) return recorded;
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: 'SET shards = :n, #type = :type',
          ConditionExpression: 'attribute_not_exists(shards) OR shards < :n',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall({ ':n': this.forWriting, ':type': 'meta' }),
        }),
      );
      return this.forWriting;
    } catch (error) {
      // Someone recorded a larger count in between: read it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.#recorded();
    }
  }
}
