import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Hono } from 'hono';
import { DynamoDbApiKeyStore } from '#lib/adapters/dynamodb-api-key-store.ts';
import { DynamoDbAwaitingBackfill } from '#lib/adapters/dynamodb-awaiting-backfill.ts';
import { DynamoDbConversationStore } from '#lib/adapters/dynamodb-conversation-store.ts';
import { DynamoDbIdempotencyStore } from '#lib/adapters/dynamodb-idempotency-store.ts';
import { DynamoDbRateLimiter } from '#lib/adapters/dynamodb-rate-limiter.ts';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbStatsStore } from '#lib/adapters/dynamodb-stats-store.ts';
import { DynamoDbSweepTimesBackfill, sweepConfigHash } from '#lib/adapters/dynamodb-sweep-times-backfill.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { HttpWebhookSender } from '#lib/adapters/http-webhook-sender.ts';
import type { MailStore } from '#lib/adapters/mail-store.ts';
import { SqsAckQueue } from '#lib/adapters/sqs-ack-queue.ts';
import type { SesEmailClient } from '#lib/channels/email/send-ses.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import { ConfigError } from '#lib/config/env.ts';
import { type Conversation, nextSweepAt } from '#lib/domain/conversation.ts';
import { noticeSchedule } from '#lib/domain/promise.ts';
import { createApp } from '#lib/http/app.ts';
import type { ClientAddress } from '#lib/http/client-address.ts';
import type { AckQueue } from '#lib/ports/ack-queue.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import { type Metrics, noMetrics } from '#lib/ports/metrics.ts';
import type { Budget } from '#lib/ports/rate-limiter.ts';
import type { RequestScope } from '#lib/ports/request-scope.ts';
import { publishingStore, publishOutbox } from '#lib/use-cases/publish-events.ts';
import { type RecordInboundDeps, recordInbound } from '#lib/use-cases/record-inbound.ts';
import { storedInbound } from '#lib/use-cases/record-inbound-message.ts';
import type { UpdateDeps } from '#lib/use-cases/record-updates.ts';
import type { SendAckDeps } from '#lib/use-cases/send-ack.ts';
import type { StatsSinkDeps } from '#lib/use-cases/service-level.ts';
import type { SweepDeps } from '#lib/use-cases/sweep.ts';
import { deliverDueWebhooks, fanOut, webhookSink } from '#lib/use-cases/webhook-delivery.ts';
import { FIRST_ATTEMPTS_BUDGET_MS, type FirstAttemptBudget } from '#lib/use-cases/webhook-delivery-deps.ts';
import { waitingChannels, wireChannels } from './channels.ts';
import { eventHandlers } from './event-handlers.ts';
import { wireMailRecovery } from './mail-recovery.ts';
import { requestScoped } from './request-scope.ts';
import type { WorkDeps } from './work-records.ts';

// Without a sink the events stay in the outbox (the sweeper would find them): never silently.
const noEvents: EventSink = {
  publish: () => Promise.reject(new ConfigError('No event sink is configured (EVENT_BUS_NAME)')),
};

const noMailStore: MailStore = {
  getObject: () => Promise.reject(new ConfigError('No mail store is configured here (MAIL_BUCKET)')),
  saveAttachment: () => Promise.reject(new ConfigError('No mail store is configured here (MAIL_BUCKET)')),
};

export type RuntimeOptions = {
  config: AppConfig;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  log: Log;
  clock?: Clock;
  /** Where mail and attachments go (S3 on AWS, the data dir locally); only the http function needs one. */
  mailStore?: MailStore;
  /** Where events for downstream tools go (EventBridge on AWS, events.jsonl locally). */
  eventSink?: EventSink;
  /** Sends email acknowledgements (SES); only the ack worker needs one. */
  emailClient?: SesEmailClient;
  metrics?: Metrics;
  /** Replaces every provider sender (the local outbox). */
  outbox?: ChannelSender;
  fetch?: typeof fetch;
  /** Where an HTTP request came from (default: API Gateway's source IP, as on Lambda). */
  clientAddress?: ClientAddress;
  /** Wrong tokens one client may present per window (default: the Lambda's 20 in 15 minutes). */
  failedLoginBudget?: Budget;
};

export type Runtime = {
  store: ConversationStore;
  queue: AckQueue;
  app: Hono;
  recordDeps: RecordInboundDeps;
  sendAckDeps: SendAckDeps;
  sweepDeps: SweepDeps;
  /**
   * What the stats feed counts delivered events with. Stats are not on the request path: on
   * AWS an EventBridge rule copies the bus's events to the stats queue (the ack worker counts
   * them); locally lib/local/event-feed.ts reads them from events.jsonl.
   */
  statsDeps: StatsSinkDeps;
  /** What the worker needs for each job on the work queue: an ack to send, a webhook to record. */
  workDeps: WorkDeps;
  /**
   * Runs one ack batch (locally: one record) or sweep run as one request: its writes share one
   * budget for webhook first attempts (the app opens one per HTTP request itself).
   */
  requestScope: RequestScope;
};

/** Wires adapters to use cases: the one composition root shared by Lambda and local mode. */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const queueUrl = config.aws.ackQueueUrl;
  // Every function queues: the http function and the sweeper acks, the worker the ack of a
  // webhook it records for the http function (Twilio's, when the store was down).
  if (!queueUrl) throw new ConfigError('ACK_QUEUE_URL is not configured');
  // One count for both stores: a listing reads every shard either has written.
  const shards = new ShardCount({
    client: options.dynamodb,
    tableName: config.aws.tableName,
    configured: config.aws.indexShards,
  });
  // The late notice's time, in the business's working time (one schedule, its calendar cached).
  const notice = noticeSchedule(config.business, config.ack.noticeLeadMs);
  const sweepAt = (conversation: Conversation) => nextSweepAt(conversation, config.ack.graceMs, notice);
  const baseStore = new DynamoDbConversationStore({
    client: options.dynamodb,
    tableName: config.aws.tableName,
    sweepAt,
    shards,
  });
  // Sweep times an earlier configuration computed (a deploy that changed hours or holidays), once per configuration.
  const sweepTimesBackfill = new DynamoDbSweepTimesBackfill({
    client: options.dynamodb,
    tableName: config.aws.tableName,
    shards,
    configHash: sweepConfigHash({
      business: config.business,
      noticeLeadMs: config.ack.noticeLeadMs,
      graceMs: config.ack.graceMs,
    }),
    sweepAt,
  });
  // Conversations stored before stop 25 whose episode needs no reply: AWAITING to NOREPLY, once.
  const awaitingBackfill = new DynamoDbAwaitingBackfill({
    client: options.dynamodb,
    tableName: config.aws.tableName,
    shards,
  });
  const webhooks = new DynamoDbWebhookStore({
    client: options.dynamodb,
    tableName: config.aws.tableName,
    shards,
  });
  // Outside production a receiver on this machine (http://localhost) is fine; in production
  // the sender refuses any name that resolves to a private address.
  // Each request's (or ack batch's, or sweep run's) writes share one first-attempt budget.
  const requests = requestScoped<FirstAttemptBudget>(() => ({ remainingMs: FIRST_ATTEMPTS_BUDGET_MS }));
  const metrics = options.metrics ?? noMetrics;
  const webhookDeps = {
    webhooks,
    sender: new HttpWebhookSender({ blockPrivateAddresses: config.production }),
    clock,
    log,
    metrics,
    firstAttemptBudget: requests.current,
  };
  const stats = new DynamoDbStatsStore({ client: options.dynamodb, tableName: config.aws.tableName });
  const statsDeps: StatsSinkDeps = { stats, conversations: baseStore, business: config.business, clock, log };
  // Downstream tools and webhooks hear of a change as soon as it is written; the service-level
  // stats are fed from the same events off the request path (see Runtime.statsDeps).
  const sink = fanOut(options.eventSink ?? noEvents, webhookSink(webhookDeps));
  const store = publishingStore(baseStore, sink, log);
  const queue: AckQueue = new SqsAckQueue({ client: options.sqs, queueUrl });
  const channels = wireChannels(config, {
    mailStore: options.mailStore ?? noMailStore,
    ...(options.emailClient ? { emailClient: options.emailClient } : {}),
    clock,
    ...(options.outbox ? { outbox: options.outbox } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { senders } = channels;

  const recordDeps: RecordInboundDeps = {
    store,
    queue,
    clock,
    log,
    business: config.business,
    canSendOn: channels.canSendOn,
    metrics,
    deferredClear: { store: baseStore, events: sink },
  };
  const sendAckDeps: SendAckDeps = {
    store,
    senders,
    clock,
    log,
    metrics,
    business: config.business,
    ack: config.ack,
    events: sink,
  };
  const sweepDeps: SweepDeps = {
    store,
    queue,
    clock,
    log,
    metrics,
    notice,
    graceMs: config.ack.graceMs,
    waitingChannels: waitingChannels(senders),
    publish: (conversation) => publishOutbox({ store: baseStore, sink, log }, conversation),
    deliverWebhooks: (budgetMs) => deliverDueWebhooks(webhookDeps, { budgetMs }),
    backfill: () =>
      Promise.all([
        webhooks.backfillDeliveryExpiry(clock.now()),
        awaitingBackfill.run(clock.now()),
        sweepTimesBackfill.run(clock.now()),
      ]),
  };
  const recoverMail = wireMailRecovery(config, options.sqs, options.mailStore, recordDeps);
  if (recoverMail) sweepDeps.recoverMail = recoverMail;
  const updateDeps: UpdateDeps = {
    store,
    clock,
    log,
    ourAppIds: channels.ourAppIds,
    business: config.business,
    metrics,
  };
  const handlers = eventHandlers(recordDeps, updateDeps);
  const app = createApp({
    publicUrl: config.publicUrl,
    agentApiToken: config.agentApiToken,
    agentApiTokenRefused: config.agentApiTokenRefused,
    // Email's and Twilio's without its SID stay up: reported only (recorded, not answered).
    misconfiguredChannels: config.misconfiguredChannels.flatMap(({ channel, missing }) =>
      channel === 'email' || channel === 'twilio-sending' ? [] : [{ channel, missing }],
    ),
    unansweredChannels: config.tokenlessChannels,
    webhookBodyBytes: config.limits.webhookBodyBytes,
    store,
    apiKeys: new DynamoDbApiKeyStore({ client: options.dynamodb, tableName: config.aws.tableName }),
    handlers,
    deferInbound: (job) => queue.deferInbound(job),
    providers: channels.providers,
    agent: {
      store,
      senders,
      clock,
      log,
      business: config.business,
      humanAgent: config.meta?.humanAgent ?? false,
      recordAgain: async (message) => {
        const inbound = storedInbound(message);
        if (inbound) await recordInbound(recordDeps, inbound);
      },
    },
    rateLimiter: new DynamoDbRateLimiter({ client: options.dynamodb, tableName: config.aws.tableName }),
    apiRequestsPerMinute: config.limits.apiRequestsPerMinute,
    idempotency: new DynamoDbIdempotencyStore({ client: options.dynamodb, tableName: config.aws.tableName }),
    metrics,
    business: config.business,
    clock,
    log,
    webhooks,
    stats,
    production: config.production,
    inbox: config.inbox,
    requestScope: requests.scope,
    ...(options.clientAddress ? { clientAddress: options.clientAddress } : {}),
    ...(options.failedLoginBudget ? { failedLoginBudget: options.failedLoginBudget } : {}),
  });
  return {
    store,
    queue,
    app,
    recordDeps,
    sendAckDeps,
    sweepDeps,
    statsDeps,
    workDeps: { sendAck: sendAckDeps, ingest: { handlers, log, clock } },
    requestScope: requests.scope,
  };
}
