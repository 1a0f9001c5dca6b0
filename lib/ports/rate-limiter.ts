/** Counts requests per key in fixed one-minute windows, shared by every instance. */
export interface RateLimiter {
  /** Takes one request from `key`'s budget; `retryAfterSeconds` when the budget is spent. */
  take(
    key: string,
    limitPerMinute: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}
