import type { MiddlewareHandler } from 'hono';
import type { Clock } from '#lib/ports/clock.ts';
import type { RateLimiter } from '#lib/ports/rate-limiter.ts';
import type { AuthEnv } from './auth.ts';
import { errorBody } from './errors.ts';

/**
 * A per-API-key budget of requests a minute: past it, 429 with Retry-After, so one runaway
 * tool cannot starve the others (or run up the bill).
 */
export function rateLimit(deps: {
  limiter: RateLimiter;
  clock: Clock;
  perMinute: number;
}): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const verdict = await deps.limiter.take(
      c.get('principal').keyId,
      { limit: deps.perMinute, windowSeconds: 60 },
      deps.clock.now(),
    );
    if (!verdict.allowed) {
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      return c.json(
        errorBody(
          'RATE_LIMITED',
          `More than ${deps.perMinute} requests a minute with this key; retry in ${verdict.retryAfterSeconds} s`,
        ),
        429,
      );
    }
    await next();
    return undefined;
  };
}
