import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { IdempotencyBegin, IdempotencyStore, IdempotentOutcome } from '#lib/ports/idempotency-store.ts';

// Retries within a day get the first answer; DynamoDB's TTL removes the record after that.
const KEEP_SECONDS = 24 * 60 * 60;
// A claim older than this belongs to a request that died: a retry may take it over.
const STALE_MS = 60_000;

/** Idempotency records in the single table: pk IDEM#<key>, one conditional write each. */
export class DynamoDbIdempotencyStore implements IdempotencyStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    let previous: Record<string, unknown> | undefined;
    try {
      const { Attributes } = await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({
            pk: `IDEM#${key}`,
            sk: 'IDEM',
            type: 'idempotency',
            state: 'in-progress',
            fingerprint,
            startedAt: now.getTime(),
            expiresAt: nowSeconds + KEEP_SECONDS,
          }),
          // A retry takes over a request that failed (5xx) or died (stale), but only the same
          // request: another body under the key would act on what the first one left behind.
          // A record past its expiry is gone as far as anyone may rely on: DynamoDB's TTL
          // deletes it only within days (and expired items are still read until then).
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :now OR (fingerprint = :fingerprint AND ' +
            '(#state = :retryable OR (#state = :progress AND startedAt < :stale)))',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({
            ':progress': 'in-progress',
            ':retryable': 'retryable',
            ':fingerprint': fingerprint,
            ':stale': now.getTime() - STALE_MS,
            ':now': nowSeconds,
          }),
          // What it replaced tells a retry from a first attempt, at no extra request.
          ReturnValues: 'ALL_OLD',
        }),
      );
      previous = Attributes ? unmarshall(Attributes) : undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.#existing(key, fingerprint, now);
    }
    const retry = previous !== undefined && Number(previous.expiresAt) >= nowSeconds;
    return { state: 'new', retry };
  }

  /** The key is held by a live record: its answer, a mismatch, or a request still running. */
  async #existing(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#table,
        Key: marshall({ pk: `IDEM#${key}`, sk: 'IDEM' }),
        ConsistentRead: true,
      }),
    );
    const record = Item ? unmarshall(Item) : undefined;
    if (!record) return this.begin(key, fingerprint, now);
    if (record.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (record.state === 'done')
      return { state: 'done', outcome: JSON.parse(record.outcome as string) as IdempotentOutcome };
    // Retryable a moment ago, claimed by a concurrent retry since: that one runs.
    return { state: 'in-progress' };
  }

  async finish(key: string, outcome: IdempotentOutcome, now: Date): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall({ pk: `IDEM#${key}`, sk: 'IDEM' }),
        UpdateExpression: 'SET #state = :done, outcome = :outcome, expiresAt = :expires',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: marshall({
          ':done': 'done',
          ':outcome': JSON.stringify(outcome),
          ':expires': Math.floor(now.getTime() / 1000) + KEEP_SECONDS,
        }),
      }),
    );
  }

  async abandon(key: string): Promise<void> {
    // Kept with its fingerprint: the same request may run again, another one under the key not.
    await this.#client
      .send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `IDEM#${key}`, sk: 'IDEM' }),
          UpdateExpression: 'SET #state = :retryable',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({ ':retryable': 'retryable' }),
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}
