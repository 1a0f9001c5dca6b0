import type { Hono } from 'hono';
import type { MailStore } from '#lib/adapters/mail-store.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import { createApp } from '#lib/http/app.ts';
import { systemClock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { wireChannels } from '#lib/runtime/channels.ts';
import { eventHandlers } from '#lib/runtime/event-handlers.ts';
import type { RecordInboundDeps } from '#lib/use-cases/record-inbound.ts';
import type { UpdateDeps } from '#lib/use-cases/record-updates.ts';
import { MemoryAckQueue, MemoryConversationStore } from './memory-ports.ts';

/** A port the Twilio webhook path never touches: a call would fail loudly, not measure quietly. */
function notOnWebhookPath<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, property) =>
      property === 'then'
        ? undefined
        : () => {
            throw new Error(`${name}.${String(property)} is not on the webhook path`);
          },
  });
}

/**
 * The real app (createApp, the Twilio channel, recordInbound: verify, parse, normalize, the
 * conversation transition) wired as createRuntime wires it, with the conversation store and the
 * ack queue in memory: what our HTTP path costs before DynamoDB and SQS.
 */
export function createFrontApp(config: AppConfig, log: Log): { app: Hono; store: MemoryConversationStore } {
  const store = new MemoryConversationStore();
  const queue = new MemoryAckQueue();
  const clock = systemClock;
  const channels = wireChannels(config, { mailStore: notOnWebhookPath<MailStore>('mailStore'), clock });
  const recordDeps: RecordInboundDeps = {
    store,
    queue,
    clock,
    log,
    business: config.business,
    canSendOn: channels.canSendOn,
    metrics: noMetrics,
  };
  const updateDeps: UpdateDeps = {
    store,
    clock,
    log,
    ourAppIds: channels.ourAppIds,
    business: config.business,
    metrics: noMetrics,
  };
  const app = createApp({
    publicUrl: config.publicUrl,
    agentApiToken: config.agentApiToken,
    webhookBodyBytes: config.limits.webhookBodyBytes,
    store,
    apiKeys: notOnWebhookPath('apiKeys'),
    handlers: eventHandlers(recordDeps, updateDeps),
    deferInbound: () => queue.deferInbound(),
    providers: channels.providers,
    agent: { store, senders: channels.senders, clock, log, business: config.business },
    idempotency: notOnWebhookPath('idempotency'),
    rateLimiter: notOnWebhookPath('rateLimiter'),
    apiRequestsPerMinute: config.limits.apiRequestsPerMinute,
    metrics: noMetrics,
    business: config.business,
    clock,
    log,
    webhooks: notOnWebhookPath('webhooks'),
    stats: notOnWebhookPath('stats'),
    production: config.production,
    inbox: false,
  });
  return { app, store };
}
