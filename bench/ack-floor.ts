import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ackMessageId } from '#lib/domain/conversation.ts';

// About the length of the composed Polish acknowledgement with its reply-by time.
const ACK_TEXT =
  'Dzień dobry, dziękujemy za wiadomość. Odpowiemy najpóźniej jutro do 12:00. ' +
  'Jeśli sprawa jest pilna, prosimy zadzwonić pod numer 22 123 45 67. Zespół obsługi klienta';

/**
 * The floor of the ack worker: the calls docs/store.md lists for one ack, straight through the
 * SDK, with the worker's shape (receive up to ten, handle them side by side, delete each):
 * read the conversation, claim it (conditional put), check the ack message, put it
 * (conditional), mark the ack sent (conditional put). Returns acks a second.
 */
export async function runAckFloor(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  tableName: string,
  queueUrl: string,
  count: number,
): Promise<number> {
  const started = performance.now();
  let done = 0;
  const putConversation = (item: Record<string, AttributeValue>, expected: number) =>
    clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...item, version: { N: String(expected + 1) } },
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': { N: String(expected) } },
      }),
    );
  while (done < count) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0 && performance.now() - started > 120_000) throw new Error('ack floor starved');
    await Promise.all(
      Messages.map(async (record) => {
        const job = JSON.parse(record.Body ?? '{}') as { conversationId: string; episode: number };
        const { Item } = await clients.dynamodb.send(
          new GetItemCommand({
            TableName: tableName,
            Key: marshall({ pk: `CONV#${job.conversationId}`, sk: 'CONV' }),
            ConsistentRead: true,
          }),
        );
        if (!Item) throw new Error(`no conversation ${job.conversationId}`);
        const version = Number(Item.version?.N);
        await putConversation(Item, version);
        const messageId = ackMessageId(job.conversationId, job.episode);
        await clients.dynamodb.send(
          new GetItemCommand({
            TableName: tableName,
            Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
            ConsistentRead: true,
          }),
        );
        const now = new Date().toISOString();
        await clients.dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({
              pk: `MSG#${messageId}`,
              sk: 'MSG',
              gsi1pk: `CONV#${job.conversationId}`,
              gsi1sk: `${now}#${messageId}`,
              type: 'message',
              id: messageId,
              conversationId: job.conversationId,
              direction: 'outbound',
              kind: 'ack',
              channel: 'sms',
              provider: 'twilio',
              providerMessageId: `SM${messageId.slice(4, 36)}`,
              from: '+48221234567',
              to: Item.route?.M?.customer?.S ?? '+48600000000',
              text: ACK_TEXT,
              media: [],
              createdAt: now,
              contactKey: Item.contact?.M?.key?.S ?? 'phone:+48600000000',
            }),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await putConversation(Item, version + 1);
        await clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.ReceiptHandle }),
        );
        done++;
      }),
    );
  }
  return done / ((performance.now() - started) / 1000);
}
