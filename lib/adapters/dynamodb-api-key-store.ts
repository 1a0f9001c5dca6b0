import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { API_KEY_SCOPES, ApiKeySchema, type StoredApiKey, StoredApiKeySchema } from '#lib/domain/api-key.ts';
import type { ApiKeyPage, ApiKeyStore } from '#lib/ports/api-key-store.ts';
import { applied } from './dynamodb-conditional.ts';
import { queryShards, tableKeyFromSortKey } from './dynamodb-shards.ts';

const LIST_PARTITION = 'APIKEYS';
const LISTED_FIELDS = [
  'id',
  'name',
  'scopes',
  'agentName',
  'agentId',
  'createdAt',
  'lastUsedAt',
  'revokedAt',
] as const;

function keyOf(id: string): Record<string, AttributeValue> {
  return marshall({ pk: `APIKEY#${id}`, sk: 'APIKEY' });
}

/**
 * The scopes this release knows: one only a newer release knows (written by it, or after a
 * rollback) grants nothing here, and the key still works for the others. Never written back:
 * the item keeps it for the newer release.
 */
function knownScopes(stored: unknown): unknown {
  if (!Array.isArray(stored) && !(stored instanceof Set)) return stored;
  return [...stored].filter((scope) => (API_KEY_SCOPES as readonly unknown[]).includes(scope));
}

// Absent attributes mean null: revoke's if_not_exists and touch's condition need them absent.
function withNulls(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  return {
    ...plain,
    scopes: knownScopes(plain.scopes),
    agentName: plain.agentName ?? null,
    // A key created before stop 26 has none: its replies find their person by agentName.
    agentId: plain.agentId ?? null,
    lastUsedAt: plain.lastUsedAt ?? null,
    revokedAt: plain.revokedAt ?? null,
  };
}

/**
 * API keys in the single table: pk `APIKEY#<id>`, sk `APIKEY`, and gsi1 `APIKEYS` /
 * `<createdAt>#<id>` so listing them is a Query, newest first, never a Scan.
 */
export class DynamoDbApiKeyStore implements ApiKeyStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async create(key: StoredApiKey): Promise<void> {
    const item = {
      pk: `APIKEY#${key.id}`,
      sk: 'APIKEY',
      type: 'api-key',
      gsi1pk: LIST_PARTITION,
      gsi1sk: `${key.createdAt}#${key.id}`,
      id: key.id,
      name: key.name,
      scopes: [...key.scopes],
      agentName: key.agentName ?? undefined,
      agentId: key.agentId ?? undefined,
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt ?? undefined,
      revokedAt: key.revokedAt ?? undefined,
      secretHash: key.secretHash,
    };
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: marshall(item, { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(id: string): Promise<StoredApiKey | null> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: keyOf(id), ConsistentRead: true }),
    );
    if (!result.Item) return null;
    // The schema keeps only the key's fields: the table's own attributes are dropped.
    return StoredApiKeySchema.parse(withNulls(result.Item));
  }

  async list(query: { limit: number; cursor?: string | undefined }): Promise<ApiKeyPage> {
    // The shared listing's one-shard case (keys are written rarely): its cursor, refused when foreign.
    const page = await queryShards({
      client: this.#client,
      table: this.#table,
      index: 'gsi1',
      base: LIST_PARTITION,
      shards: 1,
      newestFirst: true,
      limit: query.limit,
      cursor: query.cursor,
      tableKey: tableKeyFromSortKey('APIKEY', 'APIKEY'),
      // The hash never leaves the table on a listing.
      projection: LISTED_FIELDS,
    });
    return {
      items: page.items.map((item) => ApiKeySchema.parse(withNulls(item))),
      nextCursor: page.nextCursor,
    };
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: keyOf(id),
          // A second revocation keeps the first time: DELETE is idempotent.
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString() }),
        }),
      ),
    );
  }

  async touch(id: string, at: Date, notBefore: Date): Promise<void> {
    // Another request recorded a use within the interval (or the key is gone): nothing to do.
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: keyOf(id),
          UpdateExpression: 'SET lastUsedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :notBefore)',
          ExpressionAttributeValues: marshall({
            ':at': at.toISOString(),
            ':notBefore': notBefore.toISOString(),
          }),
        }),
      ),
    );
  }
}
