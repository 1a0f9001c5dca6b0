import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalMailStore, type MailStore, S3MailStore } from '#lib/adapters/mail-store.ts';
import type { AppConfig } from '#lib/config/app-config.ts';

// Local emulators accept any credentials; real AWS uses the default provider chain.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function createDynamoDbClient(aws: AppConfig['aws']): DynamoDBClient {
  return new DynamoDBClient({
    region: aws.region,
    ...(aws.dynamoDbEndpoint ? { endpoint: aws.dynamoDbEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
}

export function createSqsClient(aws: AppConfig['aws']): SQSClient {
  return new SQSClient({
    region: aws.region,
    // Local queue URLs name hosts like sqs.<region>.127.0.0.1 that do not resolve: keep the endpoint.
    ...(aws.sqsEndpoint
      ? { endpoint: aws.sqsEndpoint, credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false }
      : {}),
  });
}

/**
 * The mail store: the S3 bucket when MAIL_BUCKET is set; otherwise a folder (the local data
 * dir, or /tmp on a Lambda without email intake configured, where nothing is ever stored).
 */
export function createMailStore(config: AppConfig, localDir = '/tmp/switchboard-mail'): MailStore {
  const { bucket, s3Endpoint } = config.email;
  if (!bucket) return new LocalMailStore({ dir: localDir });
  const client = new S3Client({
    region: config.aws.region,
    ...(s3Endpoint ? { endpoint: s3Endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true } : {}),
  });
  return new S3MailStore({ client, bucket });
}
