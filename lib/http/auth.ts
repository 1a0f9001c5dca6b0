import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  authenticateKey,
  BEARER_TOKEN,
  BOOTSTRAP_PRINCIPAL,
  hasScope,
  isLastUseStale,
  LAST_USED_RESOLUTION_MS,
  type Principal,
  parseToken,
  type Scope,
  secretsMatch,
} from '#lib/domain/api-key.ts';
import type { ApiKeyStore } from '#lib/ports/api-key-store.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { type ClientAddress, clientKey } from './client-address.ts';
import { errorBody } from './errors.ts';
import type { FailedLogins } from './failed-logins.ts';

/** The Hono env of every /api route: `c.get('principal')` is the authenticated caller. */
export type AuthEnv = { Variables: { principal: Principal } };

export type AuthDeps = {
  keys: ApiKeyStore;
  /** AGENT_API_TOKEN: the bootstrap admin key, so the first real keys can be created. */
  bootstrapToken: string;
  /**
   * Why the bootstrap token is refused in this deployment (too short for production), or null.
   * It then gets a wrong token's 401 and counts as a failed login; the error line and the
   * `BootstrapTokenRefused` metric (never the answer) say why.
   */
  bootstrapRefused?: string | null;
  metrics?: Metrics;
  clock: Clock;
  log: Log;
  /** Counts wrong tokens per client and refuses a client past the limit (429). */
  failedLogins: FailedLogins;
  /** Where the request came from, as the runtime saw the connection (never a header). */
  clientAddress: ClientAddress;
};

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Authenticates `Authorization: Bearer <token>` against the bootstrap token or a stored key
 * and puts the principal on the context. Unknown, malformed and revoked tokens all get the
 * same 401, so the answer tells nobody which keys exist. A client past its budget of wrong
 * tokens (FailedLogins) gets 429 without its token being checked, the right one included.
 */
export function authenticate(deps: AuthDeps) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    // No token, or one no key can be: nothing was guessed, nothing to count.
    if (token === undefined || !BEARER_TOKEN.test(token)) {
      return c.json(errorBody('UNAUTHORIZED', 'A valid bearer token is required'), 401, {
        'WWW-Authenticate': header === undefined ? 'Bearer' : 'Bearer error="invalid_request"',
      });
    }
    const client = clientKey(deps.clientAddress(c));
    const waiting = deps.failedLogins.blocked(client);
    if (waiting !== null) return tooManyFailures(c, waiting);
    if (deps.bootstrapRefused && secretsMatch(token, deps.bootstrapToken)) {
      // The operator's own token, refused by this deployment: say why to the operator's log and
      // alarms only. The caller gets a wrong token's answer below, and the try counts as one: an
      // answer of its own would tell a guesser that the weak token they tried is the right one.
      deps.log.error('bootstrap token refused', { reason: deps.bootstrapRefused });
      deps.metrics?.count('BootstrapTokenRefused');
    }
    const principal = await resolve(deps, token);
    if (!principal) {
      deps.log.info('login refused', { client });
      const retryAfter = await deps.failedLogins.failed(client);
      if (retryAfter !== null) return tooManyFailures(c, retryAfter);
      return c.json(errorBody('UNAUTHORIZED', 'A valid bearer token is required'), 401, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    c.set('principal', principal);
    return next();
  });
}

function tooManyFailures(c: Context, retryAfterSeconds: number) {
  return c.json(
    errorBody(
      'TOO_MANY_FAILED_LOGINS',
      `Too many wrong tokens from this address; retry in ${retryAfterSeconds} s`,
    ),
    429,
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

async function resolve(deps: AuthDeps, token: string): Promise<Principal | null> {
  if (!deps.bootstrapRefused && secretsMatch(token, deps.bootstrapToken)) return BOOTSTRAP_PRINCIPAL;
  const parsed = parseToken(token);
  if (!parsed) return null;
  const key = await deps.keys.get(parsed.id);
  const outcome = authenticateKey(key, parsed.secret);
  if (outcome.kind !== 'ok') {
    deps.log.info('api key refused', { keyId: parsed.id, reason: outcome.kind });
    return null;
  }
  const now = deps.clock.now();
  if (key && isLastUseStale(key.lastUsedAt, now)) {
    // Awaited (a Lambda may freeze before a floating write lands), but a failed bookkeeping
    // write must not fail the caller's request.
    await deps.keys
      .touch(key.id, now, new Date(now.getTime() - LAST_USED_RESOLUTION_MS))
      .catch((error: Error) => deps.log.warn('api key lastUsedAt not written', { error: error.name }));
  }
  return outcome.principal;
}

/** Lets the request through only if the caller's key carries `scope`; 403 otherwise. */
export function requireScope(scope: Scope) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const principal = c.get('principal') as Principal | undefined;
    if (!principal) {
      // Mounted without authenticate(): refuse rather than let an anonymous caller through.
      return c.json(errorBody('UNAUTHORIZED', 'A valid bearer token is required'), 401, {
        'WWW-Authenticate': 'Bearer',
      });
    }
    if (!hasScope(principal, scope)) {
      return c.json(errorBody('FORBIDDEN', `This key lacks the "${scope}" scope`, { required: scope }), 403, {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
      });
    }
    return next();
  });
}
