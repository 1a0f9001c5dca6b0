import { Hono } from 'hono';
import type { ProviderWebhook } from '#lib/channels/channel.ts';
import { emptyTwiml } from '#lib/channels/twilio/twiml.ts';
import { SignatureError } from '../errors.ts';
import { type IngestDeps, ingest } from '../ingest.ts';
import { webhookRequest } from '../webhook-request.ts';

export type TwilioRouteDeps = IngestDeps & {
  publicUrl: string;
  messaging: ProviderWebhook<unknown>;
};

/** Twilio's webhooks, mounted at /webhooks/twilio. */
export function twilioRoutes(deps: TwilioRouteDeps): Hono {
  const routes = new Hono();
  routes.post('/messaging', async (c) => {
    const request = await webhookRequest(c, deps.publicUrl);
    const verified = await deps.messaging.verify(request);
    if (verified !== 'ok') throw new SignatureError(verified);
    const events = await deps.messaging.normalize(deps.messaging.parse(request));
    await ingest(deps, 'twilio', events);
    // Only now, with the message stored, does Twilio get its 200 (no reply: the ack is queued).
    return c.body(emptyTwiml(), 200, { 'content-type': 'text/xml; charset=utf-8' });
  });
  return routes;
}
