import type { VerifyOutcome } from '#lib/channels/channel.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { LOG_LINE_INTERVAL_MS, LogThrottle } from './log-throttle.ts';

/** What a refusal's log line says for each outcome (the response says it too, in its code). */
const REASONS: Record<Exclude<VerifyOutcome, 'ok'>, string> = {
  missing: 'signature missing',
  invalid: 'signature mismatch',
  expired: 'expired',
  'unknown-source': 'unknown topic',
  'unsupported-algorithm': 'unsupported signature algorithm',
  'unconfigured-key': 'shared key not configured',
};

/** One line per channel and reason at most this often per process; the rest are counted in it. */
export const REFUSAL_LOG_INTERVAL_MS = LOG_LINE_INTERVAL_MS;

export type SignatureRefusal = {
  /** The provider the route serves: twilio, meta, ses, mailgun. */
  channel: string;
  /** The route's path (a matched route: a fixed set, never what a scanner invents). */
  route: string;
  outcome: Exclude<VerifyOutcome, 'ok'>;
  /** The URLs a signature over the URL was checked against (Twilio's), without their query. */
  urls?: readonly string[];
  /**
   * What the channel can say of the scheme the request named, and what to configure (Twilio's
   * Settings header: the SharedKey's id and the algorithm, never a secret). The channel caps them.
   */
  details?: Readonly<Record<string, string>>;
};

/**
 * Makes a webhook refused for its signature visible: a rotated or mistyped secret (Twilio's auth
 * token, Meta's app secret, Mailgun's key, an SNS topic) refuses every webhook of its channel,
 * and Twilio never posts a refused one again. Each refusal of a signed request counts
 * `SignatureRefusals` (the alarm's metric: one EMF line, as every webhook's WebhookLatency
 * already is); the warn line,
 * which says what to check, is rate-limited per process to one per channel and reason a minute,
 * carrying how many it left out since the last one, so a scanner posting forgeries cannot fill
 * the log. Never the signature, the secret, the body or anything of the customer's.
 */
export class SignatureRefusals {
  readonly #log: Log;
  readonly #metrics: Metrics;
  /** One line per channel + reason a minute. */
  readonly #lines: LogThrottle;

  constructor(deps: { log: Log; metrics: Metrics; clock: Clock }) {
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    this.#lines = new LogThrottle(deps.clock);
  }

  refused(refusal: SignatureRefusal): void {
    // A request with no signature at all is no provider's (each signs every webhook): a scanner,
    // logged (rate-limited) but not counted, so it cannot raise the alarm.
    if (refusal.outcome !== 'missing') this.#metrics.count('SignatureRefusals');
    const reason = REASONS[refusal.outcome];
    const admitted = this.#lines.admit(`${refusal.channel} ${reason}`);
    if (!admitted) return;
    this.#log.warn('webhook signature refused', {
      channel: refusal.channel,
      route: refusal.route,
      reason,
      ...(refusal.urls ? { urls: refusal.urls.map(withoutQuery) } : {}),
      ...refusal.details,
      ...(admitted.suppressed ? { suppressed: admitted.suppressed } : {}),
    });
  }
}

/** A URL's scheme, host and path: its query is the sender's to write. */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return (end === -1 ? url : url.slice(0, end)).slice(0, 300);
}
