import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { LocalEventSink } from '#lib/adapters/local-event-sink.ts';
import { OutboxSender } from '#lib/adapters/outbox-sender.ts';
import { type AppConfig, buildAppConfig } from '#lib/config/app-config.ts';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import { isProduction, parseEnv } from '#lib/config/env.ts';
import { LOCAL_FAILED_LOGIN_BUDGET } from '#lib/http/failed-logins.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import { createDynamoDbClient, createSqsClient } from '#lib/runtime/clients.ts';
import { createLog } from '#lib/runtime/log.ts';
import { createMailStore } from '#lib/runtime/mail.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { createSesEmailClient } from '#lib/runtime/ses-client.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { type DevSecrets, loadDevSecrets } from './dev-secrets.ts';
import { DEV_SNS_TOPIC_ARN, devFetch } from './dev-sns.ts';
import { type Embedded, startEmbedded } from './embedded.ts';
import { LocalEventFeed } from './event-feed.ts';
import { DEV_WHATSAPP_PHONE_NUMBER_ID, dataDirOf, PROJECT_ROOT } from './paths.ts';
import { ensureQueues, ensureTable } from './provision.ts';
import { startQueueWorker } from './worker.ts';

export { DEFAULT_DATA_DIR, DEV_WHATSAPP_PHONE_NUMBER_ID, PROJECT_ROOT } from './paths.ts';

const QUEUE_NAME = 'switchboard-acks';

export type LocalOptions = {
  env?: Record<string, string | undefined>;
  /** false: everything in memory (tests); otherwise the data dir (default SWITCHBOARD_DATA_DIR or .switchboard). */
  persist?: boolean;
  log?: Log;
  clock?: Clock;
  fetch?: typeof fetch;
  sweepIntervalMs?: number;
  /** How often the local stats feed reads new events (default 1 s). */
  statsIntervalMs?: number;
  /** Seconds a failed ack job stays invisible before the worker sees it again. */
  visibilityTimeoutSeconds?: number;
};

export type LocalSwitchboard = {
  url: string;
  config: AppConfig;
  runtime: Runtime;
  dataDir: string;
  devSecrets: DevSecrets | null;
  /** The dev SNS topic SES mail is accepted from (signed by `npm run simulate`); null when SES_TOPIC_ARNS is set or in production. */
  devSnsTopicArn: string | null;
  embedded: Embedded | null;
  dlqUrl: string;
  stop(): Promise<void>;
};

/**
 * Everything behind `npm start`, in one process: the embedded DynamoDB and SQS (unless
 * endpoints are given), the Hono app on @hono/node-server, the ack worker polling the queue,
 * and the sweeper on a timer (and once at start, for what a restart left behind).
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalSwitchboard> {
  const dataDir = dataDirOf(options.env ?? process.env);
  // Before anything reads or writes the data dir: a second npm start on it stops here.
  const lock = (options.persist ?? true) ? await lockDataDir(dataDir) : null;
  try {
    const local = await startWithin(dataDir, options);
    return {
      ...local,
      async stop() {
        await local.stop();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

async function startWithin(dataDir: string, options: LocalOptions): Promise<LocalSwitchboard> {
  const rawEnv = options.env ?? process.env;
  const log = options.log ?? createLog('switchboard-local');
  const persist = options.persist ?? true;

  const firstPass = parseEnv(rawEnv);
  const devSecrets = isProduction(firstPass) ? null : await loadDevSecrets(dataDir, rawEnv);
  // No SNS locally: the dev topic's certificate is served from the data dir (lib/local/dev-sns.ts).
  const devSnsTopicArn = isProduction(firstPass) || firstPass.SES_TOPIC_ARNS ? null : DEV_SNS_TOPIC_ARN;
  const embedded =
    firstPass.SWITCHBOARD_DYNAMODB_ENDPOINT && firstPass.SWITCHBOARD_SQS_ENDPOINT
      ? null
      : await startEmbedded({ dataDir: persist ? dataDir : undefined });
  const env = parseEnv({
    ...rawEnv,
    ...devSecrets?.values,
    ...(devSnsTopicArn ? { SES_TOPIC_ARNS: devSnsTopicArn } : {}),
    // Without a number id WhatsApp Cloud has no sender, and the outbox could not stand in for it.
    ...(devSecrets && !firstPass.WHATSAPP_PHONE_NUMBER_ID
      ? { WHATSAPP_PHONE_NUMBER_ID: DEV_WHATSAPP_PHONE_NUMBER_ID }
      : {}),
    ...(embedded && !firstPass.SWITCHBOARD_DYNAMODB_ENDPOINT
      ? { SWITCHBOARD_DYNAMODB_ENDPOINT: embedded.dynamoDbEndpoint }
      : {}),
    ...(embedded && !firstPass.SWITCHBOARD_SQS_ENDPOINT
      ? { SWITCHBOARD_SQS_ENDPOINT: embedded.sqsEndpoint }
      : {}),
  });
  const business = await loadBusinessConfigFile(
    env.SWITCHBOARD_CONFIG ?? join(PROJECT_ROOT, 'switchboard.config.json'),
  );

  const provisional = buildAppConfig(env, business);
  const dynamodb = createDynamoDbClient(provisional.aws);
  const sqs = createSqsClient(provisional.aws);
  await ensureTable(dynamodb, provisional.aws.tableName);
  const queues = await ensureQueues(sqs, QUEUE_NAME, {
    maxReceiveCount: provisional.ack.maxAttempts,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
  });
  // Listen first: with PORT=0 the public URL (what signatures are checked against) is known only now.
  let app: Runtime['app'] | undefined;
  const server = serve({
    // The bindings (the socket) go through: the limit on wrong tokens keys on the peer's address.
    fetch: (request, bindings) =>
      app ? app.fetch(request, bindings) : new Response('starting', { status: 503 }),
    port: provisional.port,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const config: AppConfig = {
    ...provisional,
    port,
    publicUrl: env.PUBLIC_URL ? provisional.publicUrl : `http://localhost:${port}`,
    aws: { ...provisional.aws, ackQueueUrl: env.ACK_QUEUE_URL ?? queues.queueUrl },
  };
  const fetchOption = options.fetch ?? (devSnsTopicArn ? devFetch(dataDir, fetch) : undefined);
  const runtime = createRuntime({
    config,
    dynamodb,
    sqs,
    log,
    mailStore: createMailStore(config, join(dataDir, 'mail')),
    eventSink: new LocalEventSink({ path: join(dataDir, 'events.jsonl') }),
    ...(createSesEmailClient(config) ? { emailClient: createSesEmailClient(config) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(fetchOption ? { fetch: fetchOption } : {}),
    // The socket's peer (an app.request() from a test has none: "unknown").
    clientAddress: (c) => (c.env?.incoming ? getConnInfo(c).remote.address : undefined),
    // Every caller here is 127.0.0.1: one script's old key must not lock the laptop out for 15 minutes.
    failedLoginBudget: LOCAL_FAILED_LOGIN_BUDGET,
    ...(config.sender === 'outbox'
      ? { outbox: new OutboxSender({ path: join(dataDir, 'outbox.jsonl'), log }) }
      : {}),
  });
  // The stats feed: what the EventBridge rule and the stats queue do on AWS.
  const feed = new LocalEventFeed({
    eventsPath: join(dataDir, 'events.jsonl'),
    offsetPath: join(dataDir, 'events.counted'),
    deps: runtime.statsDeps,
    log,
  });
  // Events a data dir holds from before the feed existed were counted already.
  await feed.adoptExisting();
  app = runtime.app;

  const worker = startQueueWorker({
    sqs,
    queueUrl: config.aws.ackQueueUrl as string,
    handle: (record) => runtime.requestScope(() => handleWorkRecord(runtime.workDeps, record)),
    log,
  });
  const feedStats = () =>
    feed.catchUp().catch((error: Error) => log.warn('stats feed failed', { error: error.name }));
  await feedStats();
  const feedTimer = setInterval(feedStats, options.statsIntervalMs ?? 1_000);
  // A long sweep (a burst of promises come due) is never started again on top of itself.
  let sweeping: Promise<void> | null = null;
  const runSweep = () => {
    sweeping ??= runtime
      .requestScope(() => sweep(runtime.sweepDeps))
      .then(
        () => undefined,
        (error: Error) => log.warn('sweep failed', { error: error.name }),
      )
      .finally(() => {
        sweeping = null;
      });
    return sweeping;
  };
  await runSweep();
  const timer = setInterval(runSweep, options.sweepIntervalMs ?? 15_000);

  return {
    url: `http://localhost:${port}`,
    config,
    runtime,
    dataDir,
    devSecrets,
    devSnsTopicArn,
    embedded,
    dlqUrl: queues.dlqUrl,
    async stop() {
      clearInterval(timer);
      clearInterval(feedTimer);
      await sweeping;
      await worker.stop();
      await feed.catchUp().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      dynamodb.destroy();
      sqs.destroy();
      await embedded?.stop();
    },
  };
}
