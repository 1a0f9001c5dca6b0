import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Budget, RateLimiter } from '#lib/ports/rate-limiter.ts';
import { applied } from './dynamodb-conditional.ts';

/**
 * A fixed-window counter per key and window in the single table (pk RATE#<key>#<window>, the
 * window's number since the epoch: for one-minute windows, the minute), incremented with a
 * conditional ADD, so all Lambda instances share one budget. Items expire by TTL a few minutes
 * after their window.
 */
export class DynamoDbRateLimiter implements RateLimiter {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async take(key: string, budget: Budget, now: Date) {
    const seconds = now.getTime() / 1000;
    const window = Math.floor(seconds / budget.windowSeconds);
    const ends = (window + 1) * budget.windowSeconds;
    const counted = await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `RATE#${key}#${window}`, sk: 'RATE' }),
          UpdateExpression: 'ADD requests :one SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':limit': budget.limit,
            ':expires': ends + 4 * 60,
          }),
        }),
      ),
    );
    if (counted) return { allowed: true } as const;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ends - seconds)) } as const;
  }
}
