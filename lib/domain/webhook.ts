import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type DomainEvent, EventTypeSchema } from './events.ts';
import { newId, stableId } from './ids.ts';

export const WebhookIdSchema = z.string().regex(/^wh_[0-9a-z]{26}$/);

/** The event types a subscription hears: a list, or `['*']` for every type. */
export const WebhookEventsSchema = z.union([
  z.tuple([z.literal('*')]),
  z
    .array(EventTypeSchema)
    .min(1)
    .max(EventTypeSchema.options.length)
    .refine((types) => new Set(types).size === types.length, 'must not repeat a type'),
]);
export type WebhookEvents = z.infer<typeof WebhookEventsSchema>;

/**
 * A stored subscription's types: those a newer release stored too (it knows types this release
 * does not), so that its subscriptions stay readable here; this release's events never match them.
 */
const StoredWebhookEventsSchema = z.union([z.tuple([z.literal('*')]), z.array(z.string().max(100)).min(1)]);

/**
 * Why a subscription is disabled: deleted by an admin, its endpoint answered 410 Gone, it accepted
 * no delivery for FAILING_DISABLE_MS (`failing`), or an admin disabled it with PATCH (`manual`).
 */
export const DISABLED_REASONS = ['deleted', 'gone', 'failing', 'manual'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

/**
 * How long an endpoint may fail every attempt (no delivery accepted since `failingSince`) before
 * its subscription is disabled: Standard Webhooks' providers (Svix) disable after 5 days, by
 * then each of the events of the streak's first 3.5 days has spent its 13 attempts.
 */
export const FAILING_DISABLE_MS = 5 * 86_400_000;

/** A downstream endpoint's subscription as the API shows it: never its secret. */
export const WebhookSubscriptionSchema = z.object({
  id: WebhookIdSchema,
  url: z.string().url(),
  events: StoredWebhookEventsSchema,
  description: z.string().max(500).nullable(),
  createdAt: z.iso.datetime(),
  /** Set when an admin deleted or disabled it, its endpoint answered 410 Gone or failed for 5 days; nothing is sent after. */
  disabledAt: z.iso.datetime().nullable(),
  /** Why: one of DISABLED_REASONS when this release disabled it; a newer release's reason is read as it is. */
  disabledReason: z.enum(DISABLED_REASONS).or(z.string().max(100)).nullable(),
});
export type WebhookSubscription = z.infer<typeof WebhookSubscriptionSchema>;

const WebhookSecretSchema = z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/);

/** The stored form: the subscription plus its signing secret (`whsec_<base64>`). */
export const StoredWebhookSubscriptionSchema = WebhookSubscriptionSchema.extend({
  secret: WebhookSecretSchema,
  /**
   * The secret before the last rotation, still signing beside the new one until
   * `previousSecretExpiresAt`, so the receiver can switch without missing a delivery.
   */
  previousSecret: WebhookSecretSchema.nullable().default(null),
  previousSecretExpiresAt: z.iso.datetime().nullable().default(null),
  /** When the secret was last rotated: another graced rotation waits SECRET_ROTATION_GAP_MS. */
  secretRotatedAt: z.iso.datetime().nullable().default(null),
  /**
   * Until when new deliveries skip their first attempt and are left due for the sweeper: an
   * attempt to the endpoint failed slowly (a timeout), and every write would wait for it again.
   * Set by whichever process saw that, cleared by the next delivery that succeeds: shared by
   * every process, so a recovered endpoint hears new events at once again.
   */
  firstAttemptsPausedUntil: z.iso.datetime().nullable().default(null),
  /**
   * Until when nothing is sent to the endpoint: it answered a failure with Retry-After (a 429 or
   * 503). New deliveries are left to the sweeper, which defers them to then. Set by whichever
   * process got the answer; every process sees it within its cache time.
   */
  retryAfterUntil: z.iso.datetime().nullable().default(null),
  /**
   * When the endpoint's current streak of failed attempts began (the first attempt that failed
   * after the last one it accepted); null while it accepts them. Set by the first failure,
   * removed by the next success: disabled as `failing` once it is FAILING_DISABLE_MS old.
   */
  failingSince: z.iso.datetime().nullable().default(null),
});
export type StoredWebhookSubscription = z.infer<typeof StoredWebhookSubscriptionSchema>;

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;

/**
 * One event on its way to one subscription. `body` is the event's JSON exactly as signed and
 * sent, so every attempt sends the same bytes; `eventId` is the `webhook-id` of every attempt.
 * Loose: a field a newer release stored is kept through this release's whole-item writes.
 */
export const WebhookDeliverySchema = z.looseObject({
  id: z.string(),
  subscriptionId: WebhookIdSchema,
  eventId: z.string(),
  /** The event's type: any name, as DomainEvent's (a newer release's event is delivered too). */
  eventType: EventTypeSchema.or(z.string().max(100)),
  occurredAt: z.iso.datetime(),
  /** The event's `sequence` in its conversation: orders the events of one write, which share their time. */
  sequence: z.number().int().positive().optional(),
  body: z.string(),
  /** The replay request that made this delivery; null for the original one. */
  replayId: z.string().nullable(),
  /**
   * One of DELIVERY_STATES when this release wrote it; a newer release's state is read as it is
   * (and never attempted here: only a pending delivery is).
   */
  state: z.enum(DELIVERY_STATES).or(z.string().max(40)),
  attempts: z.number().int().min(0),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.iso.datetime().nullable(),
  /** When the next attempt is due (null once delivered or failed); the sweeper's index key. */
  nextAttemptAt: z.iso.datetime().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  version: z.number().int().min(0),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

const SECRET_BYTES = 32;

const newSecret = () => `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;

/**
 * The most enabled subscriptions at once (one per downstream tool, usually): every process
 * keeps them all in memory and every write's events are fanned out to them.
 */
export const MAX_ENABLED_WEBHOOKS = 100;

/** How long the secret a rotation replaces keeps signing, by default and at most. */
export const SECRET_GRACE_HOURS = 24;
export const MAX_SECRET_GRACE_HOURS = 168;

export type SecretRotation = Pick<
  StoredWebhookSubscription,
  'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'secretRotatedAt'
>;

/**
 * How long after a rotation another one that keeps a grace is refused: a retried request (its
 * answer lost, a double click) would make the first's new secret the previous one and drop the
 * secret the receiver still has. A rotation with no grace (a leak) is never refused.
 */
export const SECRET_ROTATION_GAP_MS = 5 * 60_000;

/** When a rotation with a grace may come next, if not yet at `now`; null when it may now. */
export function nextRotationAt(
  subscription: Pick<StoredWebhookSubscription, 'secretRotatedAt'>,
  now: Date,
  graceHours: number,
): string | null {
  if (graceHours === 0 || subscription.secretRotatedAt === null) return null;
  const at = Date.parse(subscription.secretRotatedAt) + SECRET_ROTATION_GAP_MS;
  return at > now.getTime() ? new Date(at).toISOString() : null;
}

/**
 * A new secret for `subscription`; the current one keeps signing beside it for `graceHours`
 * (none with 0: a leaked secret stops at once). A secret an earlier rotation replaced is dropped:
 * only the current one was in use by the receiver that asked for this rotation.
 */
export function rotateSecret(
  subscription: Pick<StoredWebhookSubscription, 'secret'>,
  now: Date,
  graceHours: number,
): SecretRotation {
  const secretRotatedAt = now.toISOString();
  if (graceHours === 0) {
    return { secret: newSecret(), previousSecret: null, previousSecretExpiresAt: null, secretRotatedAt };
  }
  return {
    secretRotatedAt,
    secret: newSecret(),
    previousSecret: subscription.secret,
    previousSecretExpiresAt: new Date(now.getTime() + graceHours * 3_600_000).toISOString(),
  };
}

/**
 * The secrets an attempt made at `at` is signed with: the current one, and the one a rotation
 * replaced while its grace lasts (Standard Webhooks: `webhook-signature` lists one signature
 * per secret, space-separated, and a receiver accepts any that it can verify).
 */
export function signingSecrets(subscription: StoredWebhookSubscription, at: Date): string[] {
  const { secret, previousSecret, previousSecretExpiresAt } = subscription;
  const previousValid =
    previousSecret !== null &&
    previousSecretExpiresAt !== null &&
    Date.parse(previousSecretExpiresAt) > at.getTime();
  return previousValid ? [secret, previousSecret] : [secret];
}

/** A fresh subscription with its secret (the only time the secret is readable by a caller). */
export function issueWebhook(
  input: { url: string; events: WebhookEvents; description: string | null },
  now: Date,
): StoredWebhookSubscription {
  return {
    id: newId('wh', now),
    url: input.url,
    events: input.events,
    description: input.description,
    createdAt: now.toISOString(),
    disabledAt: null,
    disabledReason: null,
    secret: newSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    secretRotatedAt: null,
    firstAttemptsPausedUntil: null,
    retryAfterUntil: null,
    failingSince: null,
  };
}

/** The subscription as listed: only the public fields, whatever else the stored item holds. */
export function publicWebhook(subscription: WebhookSubscription): WebhookSubscription {
  const { id, url, events, description, createdAt, disabledAt, disabledReason } = subscription;
  return { id, url, events, description, createdAt, disabledAt, disabledReason };
}

export function hears(subscription: WebhookSubscription, type: string): boolean {
  return (
    subscription.disabledAt === null &&
    (subscription.events as readonly string[]).some((wanted) => wanted === '*' || wanted === type)
  );
}

/** The delivery of `event` to `subscriptionId`: one per pair, so recording it again changes nothing. */
export function newDelivery(subscriptionId: string, event: DomainEvent, now: Date): WebhookDelivery {
  return {
    id: stableId('whd', `${subscriptionId}:${event.id}`),
    subscriptionId,
    eventId: event.id,
    eventType: event.type,
    occurredAt: event.occurredAt,
    ...(event.sequence === undefined ? {} : { sequence: event.sequence }),
    body: JSON.stringify(event),
    replayId: null,
    state: 'pending',
    attempts: 0,
    lastStatus: null,
    lastError: null,
    lastAttemptAt: null,
    // Due at once: a crash before the first attempt leaves it to the sweeper.
    nextAttemptAt: now.toISOString(),
    deliveredAt: null,
    createdAt: now.toISOString(),
    version: 0,
  };
}
