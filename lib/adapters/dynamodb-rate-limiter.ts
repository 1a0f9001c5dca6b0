import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { RateLimiter } from '#lib/ports/rate-limiter.ts';
import { applied } from './dynamodb-conditional.ts';

/**
 * A fixed-window counter per key and minute in the single table (pk RATE#<key>#<minute>),
 * incremented with a conditional ADD, so all Lambda instances share one budget. Items expire
 * by TTL a few minutes later.
 */
export class DynamoDbRateLimiter implements RateLimiter {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async take(key: string, limitPerMinute: number, now: Date) {
    const minute = Math.floor(now.getTime() / 60_000);
    const counted = await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `RATE#${key}#${minute}`, sk: 'RATE' }),
          UpdateExpression: 'ADD requests :one SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':limit': limitPerMinute,
            ':expires': (minute + 5) * 60,
          }),
        }),
      ),
    );
    if (counted) return { allowed: true } as const;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, 60 - Math.floor((now.getTime() / 1000) % 60)),
    } as const;
  }
}
