import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AppConfig } from '#lib/config/app-config.ts';

// Local emulators accept any credentials; real AWS uses the default provider chain.
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

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
