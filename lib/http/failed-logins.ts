import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Budget, RateLimiter } from '#lib/ports/rate-limiter.ts';

/**
 * Wrong tokens one client may present per window before it gets 429 without its token being
 * checked: an agent who mistypes has plenty, a guesser 1,920 tries a day per address.
 */
export const FAILED_LOGIN_BUDGET: Budget = { limit: 20, windowSeconds: 15 * 60 };

/**
 * npm start's budget: the same 20 wrong tokens, in a one-minute window. Every local caller is
 * 127.0.0.1, so the address stands for the whole laptop: a script with an old key would lock the
 * inbox page out for 15 minutes. A minute still bounds a guesser reaching npm start through a
 * tunnel (28,800 tries a day, against a token npm start generates with 192 bits).
 */
export const LOCAL_FAILED_LOGIN_BUDGET: Budget = { limit: 20, windowSeconds: 60 };

/** Addresses remembered as over the limit by one instance; the oldest go first past this. */
const MAX_REMEMBERED = 10_000;

/**
 * Limits failed authentications per client, shared by every instance, at no cost to a request
 * whose token is right. Only a failure is counted (one conditional write on the shared
 * counter); the counter's refusal is remembered here until its window ends, and a remembered
 * client's requests are answered 429 before their token is checked. So a successful request
 * reads nothing, and a guesser gets at most the budget plus one try per warm instance a window;
 * the 429 it gets for the right token says nothing about the token.
 */
export class FailedLogins {
  readonly #limiter: RateLimiter;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #budget: Budget;
  /** client key → when its window ends (epoch ms). */
  readonly #blocked = new Map<string, number>();

  constructor(deps: { limiter: RateLimiter; clock: Clock; log: Log; budget?: Budget }) {
    this.#limiter = deps.limiter;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#budget = deps.budget ?? FAILED_LOGIN_BUDGET;
  }

  /** Seconds until `client` may try again, when this instance knows it is over the limit. */
  blocked(client: string): number | null {
    const until = this.#blocked.get(client);
    if (until === undefined) return null;
    const left = until - this.#clock.now().getTime();
    if (left > 0) return Math.ceil(left / 1000);
    this.#blocked.delete(client);
    return null;
  }

  /**
   * Counts a failed login by `client`; seconds to wait when that took it past the limit. A
   * counter that cannot be written (the table throttled or down) counts nothing: the wrong token
   * is still answered as wrong (401), not as our failure (500), and the API's throttle still
   * bounds the guesses meanwhile.
   */
  async failed(client: string): Promise<number | null> {
    const now = this.#clock.now();
    let verdict: Awaited<ReturnType<RateLimiter['take']>>;
    try {
      verdict = await this.#limiter.take(`LOGIN#${client}`, this.#budget, now);
    } catch (error) {
      this.#log.warn('failed login not counted', {
        client,
        error: error instanceof Error ? error.name : 'unknown',
      });
      return null;
    }
    if (verdict.allowed) return null;
    if (this.#blocked.size >= MAX_REMEMBERED) {
      const oldest = this.#blocked.keys().next();
      if (!oldest.done) this.#blocked.delete(oldest.value);
    }
    this.#blocked.set(client, now.getTime() + verdict.retryAfterSeconds * 1000);
    this.#log.warn('failed logins over the limit', {
      client,
      limit: this.#budget.limit,
      windowSeconds: this.#budget.windowSeconds,
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
    return verdict.retryAfterSeconds;
  }
}
