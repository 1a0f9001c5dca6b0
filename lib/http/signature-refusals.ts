import type { VerifyOutcome } from '#lib/channels/channel.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';

/** What a refusal's log line says for each outcome (the response says it too, in its code). */
const REASONS: Record<Exclude<VerifyOutcome, 'ok'>, string> = {
  missing: 'signature missing',
  invalid: 'signature mismatch',
  expired: 'expired',
  'unknown-source': 'unknown topic',
};

/** One line per channel and reason at most this often per process; the rest are counted in it. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export type SignatureRefusal = {
  /** The provider the route serves: twilio, meta, ses, mailgun. */
  channel: string;
  /** The route's path (a matched route: a fixed set, never what a scanner invents). */
  route: string;
  outcome: Exclude<VerifyOutcome, 'ok'>;
  /** The URLs a signature over the URL was checked against (Twilio's), without their query. */
  urls?: readonly string[];
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
  readonly #clock: Clock;
  /** channel + reason → when its last line was written (epoch ms) and the refusals since. */
  readonly #lines = new Map<string, { at: number; suppressed: number }>();

  constructor(deps: { log: Log; metrics: Metrics; clock: Clock }) {
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    this.#clock = deps.clock;
  }

  refused(refusal: SignatureRefusal): void {
    // A request with no signature at all is no provider's (each signs every webhook): a scanner,
    // logged (rate-limited) but not counted, so it cannot raise the alarm.
    if (refusal.outcome !== 'missing') this.#metrics.count('SignatureRefusals');
    const reason = REASONS[refusal.outcome];
    const key = `${refusal.channel} ${reason}`;
    const now = this.#clock.now().getTime();
    const last = this.#lines.get(key);
    if (last && now - last.at < REFUSAL_LOG_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    this.#lines.set(key, { at: now, suppressed: 0 });
    this.#log.warn('webhook signature refused', {
      channel: refusal.channel,
      route: refusal.route,
      reason,
      ...(refusal.urls ? { urls: refusal.urls.map(withoutQuery) } : {}),
      ...(last?.suppressed ? { suppressed: last.suppressed } : {}),
    });
  }
}

/** A URL's scheme, host and path: its query is the sender's to write. */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return (end === -1 ? url : url.slice(0, end)).slice(0, 300);
}
