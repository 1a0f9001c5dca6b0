import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Embedded, startEmbedded } from '#lib/local/embedded.ts';
import { ensureQueues, ensureTable } from '#lib/local/provision.ts';
import { refuseStartKeysOutsideTheRange } from './faults.ts';

export type Backends = {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  dynamoDbEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
};

const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The real AWS SDK against the embedded emulators (dynalite and fauxqs, in memory), or,
 * when SWITCHBOARD_TEST_DYNAMODB_ENDPOINT is set, against that DynamoDB (a real table in an
 * AWS account, created for this run and deleted after it; credentials from the default chain).
 */
export async function startBackends(
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<Backends> {
  const realDynamo = process.env.SWITCHBOARD_TEST_DYNAMODB_ENDPOINT;
  const embedded: Embedded = await startEmbedded({});
  const region = process.env.AWS_REGION ?? 'eu-central-1';
  const dynamodb = new DynamoDBClient(
    realDynamo
      ? { region, endpoint: realDynamo }
      : { region, endpoint: embedded.dynamoDbEndpoint, credentials: LOCAL },
  );
  const sqs = new SQSClient({
    region,
    endpoint: embedded.sqsEndpoint,
    credentials: LOCAL,
    useQueueUrlAsEndpoint: false,
  });
  // What DynamoDB checks and dynalite does not: a paging start key inside the key condition.
  if (!realDynamo) refuseStartKeysOutsideTheRange(dynamodb);
  const tableName = `switchboard-test-${randomBytes(4).toString('hex')}`;
  await ensureTable(dynamodb, tableName);
  const { queueUrl, dlqUrl } = await ensureQueues(sqs, `acks-${randomBytes(4).toString('hex')}`, {
    maxReceiveCount: options.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
  });
  return {
    dynamodb,
    sqs,
    tableName,
    queueUrl,
    dlqUrl,
    dynamoDbEndpoint: realDynamo ?? embedded.dynamoDbEndpoint,
    sqsEndpoint: embedded.sqsEndpoint,
    async stop() {
      if (realDynamo) await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
      dynamodb.destroy();
      sqs.destroy();
      await embedded.stop();
    },
  };
}
