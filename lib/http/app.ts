import { type Context, Hono } from 'hono';
import type { MailgunChannel } from '#lib/channels/mailgun/index.ts';
import type { MetaChannel } from '#lib/channels/meta/index.ts';
import type { SesChannel } from '#lib/channels/ses/index.ts';
import type { TwilioChannel } from '#lib/channels/twilio/index.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import type { InboundJob } from '#lib/ports/ack-queue.ts';
import type { ApiKeyStore } from '#lib/ports/api-key-store.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { IdempotencyStore } from '#lib/ports/idempotency-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import type { Budget, RateLimiter } from '#lib/ports/rate-limiter.ts';
import type { RequestScope } from '#lib/ports/request-scope.ts';
import type { StatsStore } from '#lib/ports/stats-store.ts';
import type { WebhookStore } from '#lib/ports/webhook-store.ts';
import type { AgentDeps } from '#lib/use-cases/agent-actions.ts';
import { type AuthEnv, authenticate, requireScope } from './auth.ts';
import { bodyLimit } from './body-limit.ts';
import { refuseSwitchedOff, type SwitchedOffChannel, type UnansweredChannel } from './channel-off.ts';
import { apiGatewayClientAddress, type ClientAddress } from './client-address.ts';
import { errorBody, handleError } from './errors.ts';
import { FailedLogins } from './failed-logins.ts';
import type { EventHandlers } from './ingest.ts';
import { LogThrottle } from './log-throttle.ts';
import { rateLimit } from './rate-limit.ts';
import { actionRoutes } from './routes/actions.ts';
import { adminRoutes } from './routes/admin.ts';
import { apiRoutes } from './routes/api.ts';
import { docsRoutes } from './routes/docs.ts';
import { emailRoutes } from './routes/email.ts';
import { inboxRoutes } from './routes/inbox.ts';
import { meRoutes } from './routes/me.ts';
import { metaRoutes } from './routes/meta.ts';
import { peopleRoutes } from './routes/people.ts';
import { serviceLevelRoutes } from './routes/service-level.ts';
import { twilioRoutes } from './routes/twilio.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { SignatureRefusals } from './signature-refusals.ts';

/** The providers this deployment serves: Twilio unless it is off or not used, the others when configured. */
export type Providers = {
  /**
   * null while Twilio is switched off (AppConfig.twilio): its webhooks answer 503; or when the
   * deployment does not use it (SWITCHBOARD_TWILIO=off): they are absent (404).
   */
  twilio: TwilioChannel | null;
  meta: MetaChannel | null;
  ses: SesChannel | null;
  mailgun: MailgunChannel | null;
};

export type WebhookBodyLimits = { twilio: number; meta: number; email: number };

export type AppDeps = {
  publicUrl: string;
  agentApiToken: string;
  /** Why the bootstrap token is refused (AppConfig.agentApiTokenRefused); API keys still work. */
  agentApiTokenRefused?: string | null;
  /** Channels configured by half (AppConfig.misconfiguredChannels): their webhooks answer 503. */
  misconfiguredChannels?: readonly SwitchedOffChannel[];
  /** Messenger or Instagram without its token (AppConfig.tokenlessChannels): recorded, reported as they come. */
  unansweredChannels?: readonly UnansweredChannel[];
  /** The largest body each provider's webhooks may send (their documented maxima, with room). */
  webhookBodyBytes: WebhookBodyLimits;
  store: ConversationStore;
  apiKeys: ApiKeyStore;
  handlers: EventHandlers;
  /** Puts a webhook the store could not take on the work queue (Twilio's: it never retries one). */
  deferInbound: (job: InboundJob) => Promise<void>;
  agent: AgentDeps;
  rateLimiter: RateLimiter;
  /** Each API key's budget of requests a minute (429 with Retry-After past it). */
  apiRequestsPerMinute: number;
  idempotency: IdempotencyStore;
  metrics: Metrics;
  business: BusinessConfig;
  clock: Clock;
  providers: Providers;
  log: Log;
  /** Outbound webhook subscriptions (/api/webhooks). */
  webhooks: WebhookStore;
  /** Service-level summaries (/api/service-level). */
  stats: StatsStore;
  /** Production refuses http and private webhook endpoints. */
  production: boolean;
  /** Serve the reference inbox page at /inbox (config.inbox: on locally, off in production by default). */
  inbox?: boolean;
  /** Makes each request one scope: its writes share one budget for webhook first attempts. */
  requestScope?: RequestScope;
  /**
   * Where a request came from, for the limit on wrong tokens: API Gateway's source IP by
   * default (Lambda); npm start passes the Node server's socket address.
   */
  clientAddress?: ClientAddress;
  /** Wrong tokens one client may present per window (default FAILED_LOGIN_BUDGET; npm start: a minute's window). */
  failedLoginBudget?: Budget;
};

/**
 * The runtime-agnostic Hono app: provider webhooks under /webhooks, the agents' API under
 * /api. functions/http.ts serves it on Lambda, lib/local on Node: the same code.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(handleError(deps.log));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`), 404));

  // One correlation id per request on every log line it causes: the provider's own id
  // when it sends one, else API Gateway's request id, else a fresh one.
  app.use('*', async (c, next) => {
    const id =
      c.req.header('i-twilio-idempotency-token') ??
      c.req.header('x-amz-sns-message-id') ??
      c.req.header('x-amzn-requestid') ??
      c.req.header('x-request-id') ??
      crypto.randomUUID();
    await (deps.log.withContext ? deps.log.withContext({ correlationId: id.slice(0, 128) }, next) : next());
  });
  const { requestScope } = deps;
  if (requestScope) app.use('*', (_c, next) => requestScope(next));

  // Hono hands only Error instances to onError: anything else thrown would escape as a crash.
  app.use('*', async (c, next) => {
    try {
      await next();
    } catch (thrown) {
      deps.log.error('a non-Error was thrown', { type: typeof thrown });
      return c.json(errorBody('INTERNAL', 'Internal error; the request can be retried'), 500);
    }
    return undefined;
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.use('/webhooks/*', async (_c, next) => {
    const started = performance.now();
    await next();
    deps.metrics.timing('WebhookLatency', Math.round(performance.now() - started));
  });
  for (const [prefix, maxSize] of Object.entries(deps.webhookBodyBytes)) {
    app.use(`/webhooks/${prefix}/*`, bodyLimit(maxSize));
  }
  const signatureRefusals = new SignatureRefusals({
    log: deps.log,
    metrics: deps.metrics,
    clock: deps.clock,
  });
  const switchedOff = (channel: SwitchedOffChannel['channel']) =>
    deps.misconfiguredChannels?.find((off) => off.channel === channel);
  const offDeps = { log: deps.log, metrics: deps.metrics, switchedOffLines: new LogThrottle(deps.clock) };
  const twilio = deps.providers.twilio;
  const twilioOff = switchedOff('twilio');
  if (twilio && (!twilioOff || !twilio.verifiesTokenSignatures)) {
    // Switched off without its auth token, a shared key set: what the key verifies is recorded.
    const tokenOff = twilioOff
      ? { refuseUnverifiable: (c: Context) => refuseSwitchedOff(c, offDeps, twilioOff) }
      : {};
    app.route('/webhooks/twilio', twilioRoutes({ ...deps, twilio, signatureRefusals, ...tokenOff }));
  } else if (twilioOff) {
    app.all('/webhooks/twilio/*', (c) => refuseSwitchedOff(c, offDeps, twilioOff));
  }
  const meta = deps.providers.meta;
  const metaOff = switchedOff('meta');
  const whatsappOff = switchedOff('whatsapp');
  if (metaOff) {
    app.all('/webhooks/meta', (c) => refuseSwitchedOff(c, offDeps, metaOff));
  } else if (meta) {
    app.route(
      '/webhooks/meta',
      metaRoutes({
        ...deps,
        webhook: meta.webhook,
        handshake: meta.handshake,
        signatureRefusals,
        switchedOffLines: offDeps.switchedOffLines,
        ...(whatsappOff ? { whatsappOff } : {}),
      }),
    );
  }
  const { ses, mailgun } = deps.providers;
  if (ses || mailgun) app.route('/webhooks/email', emailRoutes({ ...deps, ses, mailgun, signatureRefusals }));

  // Mounted before the authenticated API: they describe it and expose no data.
  app.route('/api', docsRoutes({ publicUrl: deps.publicUrl }));
  const api = new Hono<AuthEnv>();
  api.use(
    '*',
    authenticate({
      keys: deps.apiKeys,
      bootstrapToken: deps.agentApiToken,
      bootstrapRefused: deps.agentApiTokenRefused ?? null,
      metrics: deps.metrics,
      clock: deps.clock,
      log: deps.log,
      failedLogins: new FailedLogins({
        limiter: deps.rateLimiter,
        clock: deps.clock,
        log: deps.log,
        ...(deps.failedLoginBudget ? { budget: deps.failedLoginBudget } : {}),
      }),
      clientAddress: deps.clientAddress ?? apiGatewayClientAddress,
    }),
  );
  api.use(
    '*',
    rateLimit({ limiter: deps.rateLimiter, clock: deps.clock, perMinute: deps.apiRequestsPerMinute }),
  );
  api.on('GET', ['/conversations', '/conversations/*', '/contacts', '/contacts/*'], requireScope('read'));
  api.get('/service-level', requireScope('read'));
  api.get('/me', requireScope('read'));
  api.route('/me', meRoutes(deps));
  api.get('/people', requireScope('read'));
  api.route('/people', peopleRoutes(deps));
  api.route('/service-level', serviceLevelRoutes(deps));
  api.route(
    '/admin',
    adminRoutes({ keys: deps.apiKeys, clock: deps.clock, log: deps.log, business: deps.business }),
  );
  api.route('/webhooks', webhookRoutes(deps));
  api.route('/', apiRoutes(deps));
  api.route('/', actionRoutes({ ...deps.agent, idempotency: deps.idempotency, clock: deps.clock }));
  app.route('/api', api);
  if (deps.inbox) app.route('/inbox', inboxRoutes());
  return app;
}
