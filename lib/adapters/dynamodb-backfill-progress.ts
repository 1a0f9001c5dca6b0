import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { z } from 'zod';
import { applied } from './dynamodb-conditional.ts';

/**
 * Where a one-off sweeper backfill got to: one item `BACKFILL#<name>` / `BACKFILL`, written
 * conditional on the version read, so a second sweeper that got further is never sent back.
 */
export class BackfillProgress<T extends { version: number }> {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #key: { pk: string; sk: string };
  readonly #schema: z.ZodType<T>;

  constructor(options: { client: DynamoDBClient; tableName: string; name: string; schema: z.ZodType<T> }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#key = { pk: `BACKFILL#${options.name}`, sk: 'BACKFILL' };
    this.#schema = options.schema;
  }

  /** The progress stored, or null before the first run. */
  async read(): Promise<T | null> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(this.#key), ConsistentRead: true }),
    );
    return Item ? this.#schema.parse(unmarshall(Item)) : null;
  }

  /** Saves `next` over `read` (null: none stored yet); false when another run wrote first. */
  save(next: T, read: T | null): Promise<boolean> {
    return applied(
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({ ...this.#key, ...next }),
          ...(read
            ? {
                ConditionExpression: 'version = :version',
                ExpressionAttributeValues: marshall({ ':version': read.version }),
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      ),
    );
  }
}
