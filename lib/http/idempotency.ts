import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Clock } from '#lib/ports/clock.ts';
import type { IdempotencyStore } from '#lib/ports/idempotency-store.ts';
import type { AuthEnv } from './auth.ts';
import { errorBody } from './errors.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * What an acting route sees behind `idempotent()`: `requestKey` names this request, its API key,
 * Idempotency-Key and body, so that what it stores under a stable id (a reply, a note) is the
 * same item for every retry of it, and another item for another body under a key reused once its
 * record expired (after 24 hours a key is free again, as the Idempotency-Key draft lets a server
 * say: it must not answer a new request with an old one).
 */
export type ActingEnv = {
  Variables: AuthEnv['Variables'] & {
    requestKey: string;
    /**
     * The key releases before stop 25 derived a reply's or note's id from (the API key and
     * Idempotency-Key alone), set only on a retry of a request that failed or died: its earlier
     * attempt, before the deploy, may have stored the reply under that id. A first attempt has
     * nothing under it to find. Remove 24 hours after stop 25 is deployed, when every record an
     * earlier release began has expired.
     */
    legacyRequestKey: string | null;
  };
};

/**
 * Every acting API call carries an Idempotency-Key: the first answer is stored and replayed
 * to any retry with the same key (per API key, method and path), so a retry never sends a
 * second reply. The same key with another body is refused (422); one still running, 409.
 */
export function idempotent(deps: {
  idempotency: IdempotencyStore;
  clock: Clock;
}): MiddlewareHandler<ActingEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (!key || !KEY.test(key)) {
      return c.json(
        errorBody('IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header (1 to 255 visible characters)'),
        400,
      );
    }
    const body = await c.req.raw.clone().text();
    const scope = `${c.get('principal').keyId}:${c.req.method}:${c.req.path}:${key}`;
    const fingerprint = createHash('sha256').update(body).digest('hex');
    const now = deps.clock.now();
    c.set('requestKey', `${c.get('principal').keyId}:${key}:${fingerprint}`);
    const begun = await deps.idempotency.begin(scope, fingerprint, now);
    c.set(
      'legacyRequestKey',
      begun.state === 'new' && begun.retry ? `${c.get('principal').keyId}:${key}` : null,
    );
    if (begun.state === 'done') {
      c.header('idempotent-replayed', 'true');
      return c.json(begun.outcome.body as object, begun.outcome.status as 200);
    }
    if (begun.state === 'mismatch') {
      return c.json(
        errorBody('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request'),
        422,
      );
    }
    if (begun.state === 'in-progress') {
      return c.json(
        errorBody('REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still running; retry later'),
        409,
      );
    }
    try {
      await next();
    } catch (error) {
      await deps.idempotency.abandon(scope);
      throw error;
    }
    const status = c.res.status;
    // Server errors are not answers: the retry must be free to act.
    if (status >= 500) {
      await deps.idempotency.abandon(scope);
      return undefined;
    }
    const stored = await c.res
      .clone()
      .json()
      .catch(() => null);
    await deps.idempotency.finish(scope, { status, body: stored }, deps.clock.now());
    return undefined;
  };
}
