import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { EVENT_TYPES } from '#lib/domain/events.ts';
import {
  DELIVERY_STATES,
  DISABLED_REASONS,
  MAX_ENABLED_WEBHOOKS,
  MAX_SECRET_GRACE_HOURS,
  publicWebhook,
  SECRET_GRACE_HOURS,
  type WebhookDelivery,
  WebhookEventsSchema,
  WebhookIdSchema,
  type WebhookSubscription,
} from '#lib/domain/webhook.ts';
import { webhookUrlProblem } from '#lib/domain/webhook-url.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { MAX_CURSOR_LENGTH } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { WebhookStore } from '#lib/ports/webhook-store.ts';
import {
  createWebhook,
  replayWebhook,
  rotateWebhookSecret,
  setWebhookEnabled,
} from '#lib/use-cases/webhooks.ts';
import { type AuthEnv, requireScope } from '../auth.ts';
import { bodyLimit } from '../body-limit.ts';
import { errorBody, NotFoundError, parseRequest, readJsonBody } from '../errors.ts';
import { knownOr } from '../views.ts';

export const MAX_WEBHOOK_BODY_BYTES = 16 * 1024;

export function createBody(production: boolean) {
  return z.strictObject({
    url: z
      .string()
      .trim()
      .max(2048)
      .superRefine((url, context) => {
        const problem = webhookUrlProblem(url, { production });
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
    events: WebhookEventsSchema,
    description: z.string().trim().max(500).optional(),
  });
}

export const ReplayBody = z.strictObject({ since: z.iso.datetime({ offset: true }) });

/** An empty body: the default grace. `graceHours: 0` stops the old secret at once (a leak). */
export const RotateSecretBody = z
  .strictObject({
    graceHours: z.number().int().min(0).max(MAX_SECRET_GRACE_HOURS).default(SECRET_GRACE_HOURS),
  })
  .default({ graceHours: SECRET_GRACE_HOURS });

/** PATCH: `enabled` false disables it by hand, true enables it again (not a deleted one). */
export const UpdateWebhookBody = z.strictObject({ enabled: z.boolean() });

export const WebhooksQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
});

export const DeliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
});

/** A subscription as the contract shows it: a newer release's event type or reason as unknownFutureValue. */
function webhookView(subscription: WebhookSubscription) {
  const { events, disabledReason, ...rest } = publicWebhook(subscription);
  return {
    ...rest,
    events:
      events[0] === '*' ? (['*'] as const) : [...new Set(events.map((type) => knownOr(EVENT_TYPES, type)))],
    disabledReason: disabledReason === null ? null : knownOr(DISABLED_REASONS, disabledReason),
  };
}

/** A delivery as the contract shows it: a newer release's event type or state as unknownFutureValue. */
function deliveryView(delivery: WebhookDelivery) {
  const { id, eventId, eventType, occurredAt, replayId, state, attempts, lastStatus, lastError } = delivery;
  const { lastAttemptAt, nextAttemptAt, deliveredAt, createdAt } = delivery;
  return {
    id,
    eventId,
    eventType: knownOr(EVENT_TYPES, eventType),
    occurredAt,
    replayId,
    state: knownOr(DELIVERY_STATES, state),
    attempts,
    lastStatus,
    lastError,
    lastAttemptAt,
    nextAttemptAt,
    deliveredAt,
    createdAt,
  };
}

function tooMany(c: Context) {
  const message = `At most ${MAX_ENABLED_WEBHOOKS} webhooks may be enabled at once: delete one you no longer use first`;
  return c.json(errorBody('TOO_MANY_WEBHOOKS', message, { max: MAX_ENABLED_WEBHOOKS }), 409);
}

/** Outbound webhook subscriptions, mounted at /api/webhooks; every route needs the admin scope. */
export function webhookRoutes(deps: {
  webhooks: WebhookStore;
  clock: Clock;
  log: Log;
  /** Production refuses http and private or loopback endpoints. */
  production: boolean;
}): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  const CreateBody = createBody(deps.production);
  routes.use('*', requireScope('admin'));
  routes.use('*', bodyLimit(MAX_WEBHOOK_BODY_BYTES));

  async function found(id: string) {
    if (!WebhookIdSchema.safeParse(id).success) throw new NotFoundError('Webhook');
    const subscription = await deps.webhooks.getSubscription(id);
    if (!subscription) throw new NotFoundError('Webhook');
    return subscription;
  }

  routes.post('/', async (c) => {
    const body = parseRequest(CreateBody, await readJsonBody(c.req.raw));
    const subscription = await createWebhook(
      deps,
      { url: body.url, events: body.events, description: body.description || null },
      c.get('principal').keyId,
    );
    if (!subscription) return tooMany(c);
    const { id, url, events, description, secret, createdAt } = subscription;
    // The secret exists for the caller only in this response: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ id, url, events, description, secret, createdAt }, 201);
  });

  routes.get('/', async (c) => {
    const page = await deps.webhooks.listSubscriptions(parseRequest(WebhooksQuery, c.req.query()));
    return c.json({ items: page.items.map(webhookView), nextCursor: page.nextCursor });
  });

  routes.get('/:id', async (c) => c.json(webhookView(await found(c.req.param('id')))));

  routes.patch('/:id', async (c) => {
    const id = c.req.param('id');
    if (!WebhookIdSchema.safeParse(id).success) throw new NotFoundError('Webhook');
    const { enabled } = parseRequest(UpdateWebhookBody, await readJsonBody(c.req.raw));
    const result = await setWebhookEnabled(deps, id, enabled, c.get('principal').keyId);
    if (result.kind === 'not-found') throw new NotFoundError('Webhook');
    if (result.kind === 'deleted') {
      const message = 'The webhook was deleted, which cannot be undone: subscribe the endpoint again';
      return c.json(errorBody('WEBHOOK_DELETED', message), 409);
    }
    if (result.kind === 'too-many') return tooMany(c);
    return c.json(webhookView(result.subscription));
  });

  routes.delete('/:id', async (c) => {
    const id = c.req.param('id');
    await found(id);
    await deps.webhooks.disableSubscription(id, deps.clock.now(), 'deleted');
    deps.log.info('webhook disabled', { webhookId: id, by: c.get('principal').keyId });
    return c.body(null, 204);
  });

  routes.post('/:id/rotate-secret', async (c) => {
    const id = c.req.param('id');
    if (!WebhookIdSchema.safeParse(id).success) throw new NotFoundError('Webhook');
    const { graceHours } = parseRequest(RotateSecretBody, await readJsonBody(c.req.raw));
    const result = await rotateWebhookSecret(deps, id, graceHours, c.get('principal').keyId);
    if (result.kind === 'not-found') throw new NotFoundError('Webhook');
    if (result.kind === 'disabled')
      return c.json(errorBody('WEBHOOK_DISABLED', 'The webhook is disabled'), 409);
    if (result.kind === 'too-soon') {
      const message = `The secret was rotated less than 5 minutes ago (a retried request?): nothing changed, the secret that rotation returned is the current one. Rotate again from ${result.nextAt}, or now with graceHours 0 (a leaked secret)`;
      return c.json(errorBody('ROTATED_RECENTLY', message, { nextRotationAt: result.nextAt }), 409);
    }
    if (result.kind === 'conflict') {
      const message =
        'Another request rotated this secret meanwhile: the secret it returned is the current one';
      return c.json(errorBody('CONCURRENT_UPDATE', message), 409);
    }
    const { secret, previousSecretExpiresAt } = result;
    // The new secret exists for the caller only in this response: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ id, secret, previousSecretExpiresAt });
  });

  routes.get('/:id/deliveries', async (c) => {
    const id = c.req.param('id');
    const query = parseRequest(DeliveriesQuery, c.req.query());
    await found(id);
    const page = await deps.webhooks.listDeliveries(id, query);
    return c.json({ items: page.items.map(deliveryView), nextCursor: page.nextCursor });
  });

  routes.post('/:id/replay', async (c) => {
    const id = c.req.param('id');
    await found(id);
    const since = new Date(parseRequest(ReplayBody, await readJsonBody(c.req.raw)).since);
    if (since.getTime() > deps.clock.now().getTime()) {
      return c.json(errorBody('INVALID_REQUEST', 'since must not be in the future'), 400);
    }
    const result = await replayWebhook(deps, id, since);
    if (result.kind === 'not-found') throw new NotFoundError('Webhook');
    if (result.kind === 'disabled')
      return c.json(errorBody('WEBHOOK_DISABLED', 'The webhook is disabled'), 409);
    if (result.kind === 'too-many') {
      const message = `More than ${result.limit} events since then; replay a later period`;
      return c.json(errorBody('REPLAY_TOO_LARGE', message, { limit: result.limit }), 400);
    }
    return c.json({ replayId: result.replayId, deliveries: result.deliveries }, 202);
  });

  return routes;
}
