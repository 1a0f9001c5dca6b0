/** How many requests a key may make in each fixed window of `windowSeconds`. */
export type Budget = { limit: number; windowSeconds: number };

/** Counts requests per key in fixed windows, shared by every instance. */
export interface RateLimiter {
  /**
   * Takes one request from `key`'s budget for the window `now` falls in; when the budget is
   * spent, `retryAfterSeconds` until that window ends.
   */
  take(
    key: string,
    budget: Budget,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}
