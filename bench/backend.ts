import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LocalEventSink } from '#lib/adapters/local-event-sink.ts';
import { OutboxSender } from '#lib/adapters/outbox-sender.ts';
import { type AppConfig, buildAppConfig } from '#lib/config/app-config.ts';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import { parseEnv } from '#lib/config/env.ts';
import { type Embedded, startEmbedded } from '#lib/local/embedded.ts';
import { ensureQueues, ensureTable } from '#lib/local/provision.ts';
import { PROJECT_ROOT } from '#lib/local/server.ts';
import type { Log } from '#lib/ports/logger.ts';
import { createDynamoDbClient, createSqsClient } from '#lib/runtime/clients.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { BENCH_ACCOUNT_SID, BENCH_AGENT_TOKEN, BENCH_AUTH_TOKEN } from './twilio-load.ts';

export const BENCH_PUBLIC_URL = 'https://hooks.switchboard.example';

/** The configuration npm start would build (switchboard.config.json), with the bench's secrets. */
export async function benchConfig(extra: Record<string, string> = {}): Promise<AppConfig> {
  const env = parseEnv({
    TWILIO_AUTH_TOKEN: BENCH_AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: BENCH_ACCOUNT_SID,
    AGENT_API_TOKEN: BENCH_AGENT_TOKEN,
    PUBLIC_URL: BENCH_PUBLIC_URL,
    TABLE_NAME: 'switchboard-bench',
    ...extra,
  });
  return buildAppConfig(env, await loadBusinessConfigFile(join(PROJECT_ROOT, 'switchboard.config.json')));
}

export type Backend = {
  config: AppConfig;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  runtime: Runtime;
  /** The same runtime, enqueueing onto a second queue (the SDK floor's own jobs). */
  floorRuntime: Runtime;
  floorQueueUrl: string;
  dataDir: string;
  embedded: Embedded;
};

/**
 * The embedded DynamoDB and SQS in this process (in memory, for floor and subject alike) and
 * the runtime npm start builds over them (createRuntime, local event sink, outbox sender),
 * without its worker and sweeper: each figure runs only what it measures.
 */
export async function startBackend(log: Log): Promise<Backend> {
  const embedded = await startEmbedded({});
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  const provisional = await benchConfig({
    SWITCHBOARD_DYNAMODB_ENDPOINT: embedded.dynamoDbEndpoint,
    SWITCHBOARD_SQS_ENDPOINT: embedded.sqsEndpoint,
  });
  const dynamodb = createDynamoDbClient(provisional.aws);
  const sqs = createSqsClient(provisional.aws);
  await ensureTable(dynamodb, provisional.aws.tableName);
  const queueOptions = { maxReceiveCount: 5, visibilityTimeoutSeconds: 30 };
  const { queueUrl } = await ensureQueues(sqs, 'switchboard-bench-acks', queueOptions);
  const floor = await ensureQueues(sqs, 'switchboard-bench-floor', queueOptions);
  const config: AppConfig = { ...provisional, aws: { ...provisional.aws, ackQueueUrl: queueUrl } };
  const options = {
    dynamodb,
    sqs,
    log,
    eventSink: new LocalEventSink({ path: join(dataDir, 'events.jsonl') }),
    outbox: new OutboxSender({ path: join(dataDir, 'outbox.jsonl'), log }),
  };
  const runtime = createRuntime({ config, ...options });
  const floorRuntime = createRuntime({
    config: { ...config, aws: { ...config.aws, ackQueueUrl: floor.queueUrl } },
    ...options,
  });
  return { config, dynamodb, sqs, runtime, floorRuntime, floorQueueUrl: floor.queueUrl, dataDir, embedded };
}

/** Runs `work(i)` for i in [0, count) with `concurrency` loops, like `concurrency` connections. */
export async function inParallel(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}
