import { Hono } from 'hono';
import { z } from 'zod';
import { type ApiKey, ApiKeyIdSchema, issueApiKey, publicKey, ScopeSchema } from '#lib/domain/api-key.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { actingName, listedPerson } from '#lib/domain/signer.ts';
import type { ApiKeyStore } from '#lib/ports/api-key-store.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { MAX_CURSOR_LENGTH } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import { type AuthEnv, requireScope } from '../auth.ts';
import { bodyLimit } from '../body-limit.ts';
import { agentNotListed, errorBody, NotFoundError, parseRequest, readJsonBody } from '../errors.ts';

export const CreateKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(ScopeSchema).min(1).max(10),
  agentName: z.string().trim().min(1).max(100).nullable().optional(),
});

/** As GET /api/webhooks pages: follow nextCursor until it is null. */
export const KeysQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
});

export const MAX_KEY_BODY_BYTES = 16 * 1024;

/** Key management, mounted at /api/admin; every route needs the admin scope. */
export function adminRoutes(deps: {
  keys: ApiKeyStore;
  clock: Clock;
  log: Log;
  /** Who may sign replies: a key's agent name must name one of them. */
  business: BusinessConfig;
}): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  routes.use('*', requireScope('admin'));

  routes.post('/keys', bodyLimit(MAX_KEY_BODY_BYTES), async (c) => {
    const body = parseRequest(CreateKeyBody, await readJsonBody(c.req.raw));
    // Its replies would go out with no direct contact, or be refused: say so now, to the admin.
    const person = body.agentName ? listedPerson(deps.business, body.agentName) : undefined;
    if (body.agentName && !person) {
      return c.json(errorBody('AGENT_NOT_LISTED', agentNotListed(body.agentName)), 422);
    }
    // The person's id signs the key's replies (a rename in the config keeps signing as them);
    // the name as listed now is for people reading the key list.
    const { key, token } = issueApiKey(
      { name: body.name, scopes: body.scopes, agentName: person?.name ?? null, agentId: person?.id ?? null },
      deps.clock.now(),
    );
    await deps.keys.create(key);
    deps.log.info('api key created', { keyId: key.id, scopes: key.scopes, by: c.get('principal').keyId });
    const { id, name, scopes, agentName, agentId, createdAt } = key;
    // The token exists only in this response: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ id, token, name, scopes, agentName, agentId, createdAt }, 201);
  });

  routes.get('/keys', async (c) => {
    const page = await deps.keys.list(parseRequest(KeysQuery, c.req.query()));
    return c.json({
      items: page.items.map((key) => publicKey(namedNow(deps.business, key))),
      nextCursor: page.nextCursor,
    });
  });

  routes.delete('/keys/:id', async (c) => {
    const id = c.req.param('id');
    if (!ApiKeyIdSchema.safeParse(id).success) throw new NotFoundError('API key');
    if (!(await deps.keys.revoke(id, deps.clock.now()))) throw new NotFoundError('API key');
    deps.log.info('api key revoked', { keyId: id, by: c.get('principal').keyId });
    return c.body(null, 204);
  });

  return routes;
}

/** A key whose person is listed under another name now (renamed in the config): listed with it. */
function namedNow(business: BusinessConfig, key: ApiKey): ApiKey {
  return { ...key, agentName: actingName(business, { name: key.agentName, id: key.agentId }) };
}
