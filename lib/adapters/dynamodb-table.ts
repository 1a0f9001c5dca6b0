import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single table. Items and their keys (see docs/store.md):
 * - conversation  pk CONV#<id>        sk CONV     gsi1 CONVS#<status> / <lastMessageAt>#<id>   gsi2 SWEEP / <sweepAt>#<id>
 *                                                 gsi3 AWAITING / <replyBy UTC>#<id> (or NOREPLY / <lastMessageAt>#<id>)   gsi4 CONVS#<status>#<channel> / <lastMessageAt>#<id>
 *                                                 gsi5 ASSIGNEE#<status>#<assignee> / <lastMessageAt>#<id>
 * - message       pk MSG#<id>         sk MSG      gsi1 CONV#<conversationId> / <createdAt>#<id>
 * - contact       pk CONTACT#<key>    sk CONTACT
 * - spilled event pk OUTBOX#<conversationId>  sk seq#<sequence, 12 digits>#<event id>  (an outbox past 200 events; <occurredAt>#<event id> before stop 31)
 * gsi1 answers "open conversations, newest activity first" and "a conversation's messages,
 * oldest first" as Queries; gsi2 (sparse) answers "what must the sweeper finish now"; gsi3
 * (sparse) "customers waiting for us, soonest promise first" (overdue: replyBy before now) and
 * "open, but nothing to answer" (an out-of-office reply, HELP);
 * gsi4 "by status and channel"; gsi5 (sparse) "by assignee". The keys every conversation shares
 * (CONVS#…, SWEEP, AWAITING, NOREPLY) are sharded: `<key>#<n>` for shards 1…N-1 (dynamodb-shards.ts).
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
    { name: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
    { name: 'gsi5', partitionKey: 'gsi5pk', sortKey: 'gsi5sk' },
  ],
} as const;

/** CreateTable input for local and test tables; the CDK stack declares the same keys. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const index of TABLE_KEYS.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_KEYS.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
