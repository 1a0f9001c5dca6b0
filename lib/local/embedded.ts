import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';

export type Embedded = {
  dynamoDbEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
};

/**
 * LevelDB's block cache and write buffer, a quarter of their defaults (8 MB and 4 MB): a dev
 * server's table is small and hot, and the memory is npm start's. Measured after 10,000
 * webhooks: RSS 218 -> 208 MB. dynalite passes them through only with our patch (patches/).
 */
const LEVEL_OPTIONS = { cacheSize: 2 * 1024 * 1024, writeBufferSize: 1024 * 1024 };

/**
 * The DynamoDB and SQS APIs in this process: dynalite (LevelDB files under the data dir, or
 * memory) and fauxqs (SQLite under the data dir, or memory), each on a free loopback port and
 * reached through the real AWS SDK. Not DynamoDB Local: it needs Java and its licence needs
 * an AWS account and forbids redistribution.
 */
export async function startEmbedded(options: { dataDir?: string | undefined }): Promise<Embedded> {
  const dynamoPath = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
  const sqsPath = options.dataDir ? join(options.dataDir, 'sqs') : undefined;
  if (dynamoPath) await mkdir(dynamoPath, { recursive: true });
  if (sqsPath) await mkdir(sqsPath, { recursive: true });

  const dynamo = dynalite({
    ...(dynamoPath ? { path: dynamoPath, levelOptions: LEVEL_OPTIONS } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = dynamo.address() as AddressInfo;
  const sqs = await startFauxqs({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    ...(sqsPath ? { dataDir: sqsPath } : {}),
  });

  return {
    dynamoDbEndpoint: `http://127.0.0.1:${port}`,
    sqsEndpoint: sqs.address,
    async stop() {
      await sqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
