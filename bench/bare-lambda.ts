import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

// The floor of the bundle figures: the least an HTTP function of this shape carries (Hono, its
// Lambda adapter, the DynamoDB and SQS clients, each used so that none is tree-shaken away).
// Built by the bench with the options of infra/bundling.ts; never deployed.
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
const app = new Hono();

app.post('/webhooks/*', async (c) => {
  const body = await c.req.text();
  await dynamodb.send(new PutItemCommand({ TableName: 'bench', Item: { pk: { S: body.slice(0, 64) } } }));
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.ACK_QUEUE_URL, MessageBody: body }));
  return c.text('ok');
});

export const handler = handle(app);
