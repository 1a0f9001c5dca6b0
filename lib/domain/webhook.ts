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

export const DISABLED_REASONS = ['deleted', 'gone'] as const;

/** A downstream endpoint's subscription as the API shows it: never its secret. */
export const WebhookSubscriptionSchema = z.object({
  id: WebhookIdSchema,
  url: z.string().url(),
  events: StoredWebhookEventsSchema,
  description: z.string().max(500).nullable(),
  createdAt: z.iso.datetime(),
  /** Set when an admin deleted it or the endpoint answered 410 Gone; nothing is sent after. */
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
  /**
   * Until when new deliveries skip their first attempt and are left due for the sweeper: an
   * attempt to the endpoint failed slowly (a timeout), and every write would wait for it again.
   * Set by whichever process saw that, cleared by the next delivery that succeeds: shared by
   * every process, so a recovered endpoint hears new events at once again.
   */
  firstAttemptsPausedUntil: z.iso.datetime().nullable().default(null),
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

/** How long the secret a rotation replaces keeps signing, by default and at most. */
export const SECRET_GRACE_HOURS = 24;
export const MAX_SECRET_GRACE_HOURS = 168;

export type SecretRotation = Pick<
  StoredWebhookSubscription,
  'secret' | 'previousSecret' | 'previousSecretExpiresAt'
>;

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
  if (graceHours === 0) return { secret: newSecret(), previousSecret: null, previousSecretExpiresAt: null };
  return {
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
    firstAttemptsPausedUntil: null,
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

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The wait after each failed attempt: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 3 h, then 4 h
 * five times. With up to +25 % jitter on each, the last of the 13 attempts falls between about
 * 26.7 h and 33.4 h after the first, so an endpoint may be down for a whole day.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  30_000,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
];
export const MAX_DELIVERY_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const JITTER = 0.25;

/**
 * How long to wait after the `attempts`-th failed attempt, with jitter (so endpoints coming
 * back from an outage are not hit by every retry at once); null once the attempts are spent.
 * `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, random: number): number | null {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + JITTER * random));
}

/** What one attempt came to, as the sender saw it. */
export type AttemptOutcome = { kind: 'response'; status: number } | { kind: 'error'; error: string };

/** How long a started attempt may take before the sweeper may start another. */
export const ATTEMPT_LEASE_MS = 60_000;

/**
 * Marks the start of an attempt (before anything is sent): one more attempt, and the next one
 * due after the backoff, so if this one never reports back the sweeper simply retries.
 */
export function startAttempt(delivery: WebhookDelivery, now: Date, random: number): WebhookDelivery {
  const attempts = delivery.attempts + 1;
  const wait = retryDelayMs(attempts, random) ?? ATTEMPT_LEASE_MS;
  return {
    ...delivery,
    attempts,
    lastAttemptAt: now.toISOString(),
    nextAttemptAt: new Date(now.getTime() + wait).toISOString(),
  };
}

/** Applies an attempt's outcome: 2xx delivered; 410 and spent attempts failed; else retry as scheduled. */
export function finishAttempt(
  delivery: WebhookDelivery,
  outcome: AttemptOutcome,
  now: Date,
): WebhookDelivery {
  const status = outcome.kind === 'response' ? outcome.status : null;
  const error = outcome.kind === 'error' ? outcome.error : null;
  const recorded = { ...delivery, lastStatus: status, lastError: error };
  if (status !== null && status >= 200 && status < 300) {
    return { ...recorded, state: 'delivered', nextAttemptAt: null, deliveredAt: now.toISOString() };
  }
  if (status === 410 || delivery.attempts >= MAX_DELIVERY_ATTEMPTS) {
    return { ...recorded, state: 'failed', nextAttemptAt: null };
  }
  return recorded;
}

/** Gives up on a delivery without sending (its subscription is disabled, or its attempts are spent). */
export function abandonDelivery(delivery: WebhookDelivery, reason: string): WebhookDelivery {
  return { ...delivery, state: 'failed', nextAttemptAt: null, lastError: reason };
}

/** A fresh id for one replay request: its deliveries are new items, with the same webhook-ids. */
export function newReplayId(now: Date): string {
  return newId('rpl', now);
}

/** The same event sent again: a new delivery (its own attempts) with the same body and webhook-id. */
export function replayDelivery(original: WebhookDelivery, replayId: string, now: Date): WebhookDelivery {
  // A new delivery of the same event, not the original's item: what a newer release stored on
  // the original (the stored schema is loose) is about its attempts, and stays with it.
  const { subscriptionId, eventId, eventType, occurredAt, body } = original;
  return {
    subscriptionId,
    eventId,
    eventType,
    occurredAt,
    body,
    id: stableId('whd', `${original.subscriptionId}:${original.eventId}:${replayId}`),
    replayId,
    state: 'pending',
    attempts: 0,
    lastStatus: null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: now.toISOString(),
    deliveredAt: null,
    createdAt: now.toISOString(),
    version: 0,
  };
}

/** Why an endpoint URL is refused; null when it is acceptable. */
export function webhookUrlProblem(raw: string, options: { production: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.toLowerCase();
  const loopbackName = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  if (url.protocol === 'http:') {
    if (options.production || !loopbackName)
      return 'must use https (http only for localhost outside production)';
  } else if (url.protocol !== 'https:') {
    return 'must use https';
  }
  if (options.production && (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))) {
    return 'must not point at a private, loopback or link-local address';
  }
  return null;
}

/**
 * Whether an IP literal (v4, or v6 with or without brackets) is loopback, private, link-local,
 * CGNAT, multicast or otherwise not a public unicast address. Anything not an IP literal is
 * false: host names are checked where they are resolved (the sender's lookup).
 */
export function isPrivateAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '');
  const v4 = parseIpv4(host);
  if (v4) return isPrivateIpv4(v4);
  const v6 = parseIpv6(host);
  if (!v6) return false;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = v6;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0xffff || f === 0)) {
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), :: and ::1.
    return f === 0 && g === 0 && h <= 1 ? true : isPrivateIpv4([g >> 8, g & 255, h >> 8, h & 255]);
  }
  if (a === 0x64 && b === 0xff9b) return isPrivateIpv4([g >> 8, g & 255, h >> 8, h & 255]);
  return (
    (a & 0xfe00) === 0xfc00 ||
    (a & 0xffc0) === 0xfe80 ||
    (a & 0xff00) === 0xff00 ||
    (a === 0x2001 && b === 0xdb8)
  );
}

function parseIpv4(host: string): number[] | null {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

function isPrivateIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function parseIpv6(host: string): number[] | null {
  if (!host.includes(':') || !/^[0-9a-f:.]+$/i.test(host)) return null;
  let text = host;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = parseIpv4(dotted[1]);
    if (!v4) return null;
    const [p = 0, q = 0, r = 0, s = 0] = v4;
    text = `${text.slice(0, -dotted[1].length)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string | undefined) => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  return all.map((group) => Number.parseInt(group, 16));
}
