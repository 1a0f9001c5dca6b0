import { Hono } from 'hono';
import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { HandshakeQuery, HandshakeResult } from '#lib/channels/meta/handshake.ts';
import { errorBody, SignatureError } from '../errors.ts';
import { type IngestDeps, ingest } from '../ingest.ts';
import { webhookRequest } from '../webhook-request.ts';

export type MetaRouteDeps = IngestDeps & {
  publicUrl: string;
  webhook: ProviderWebhook<unknown>;
  handshake: (query: HandshakeQuery) => HandshakeResult;
};

/** Meta's one webhook for Messenger, Instagram and WhatsApp Cloud, mounted at /webhooks/meta. */
export function metaRoutes(deps: MetaRouteDeps): Hono {
  const routes = new Hono();

  // The subscription handshake. The keys contain dots: read them literally.
  routes.get('/', (c) => {
    const result = deps.handshake({
      mode: c.req.query('hub.mode'),
      token: c.req.query('hub.verify_token'),
      challenge: c.req.query('hub.challenge'),
    });
    if (!result.ok) return c.json(errorBody('HANDSHAKE_REFUSED', 'The verify token does not match'), 403);
    return c.text(result.challenge, 200);
  });

  routes.post('/', async (c) => {
    const request = await webhookRequest(c, deps.publicUrl);
    const verified = await deps.webhook.verify(request);
    if (verified !== 'ok') throw new SignatureError(verified);
    const events = await deps.webhook.normalize(deps.webhook.parse(request));
    await ingest(deps, 'meta', events);
    return c.json({ ok: true });
  });

  return routes;
}
