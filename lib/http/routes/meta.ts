import { Hono } from 'hono';
import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { HandshakeQuery, HandshakeResult, MetaPayload } from '#lib/channels/meta/index.ts';
import { NotYetError } from '#lib/ports/errors.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import {
  refuseSwitchedOff,
  reportUnanswered,
  type SwitchedOffChannel,
  type UnansweredChannel,
} from '../channel-off.ts';
import { type DeferDeps, ingestOrDefer } from '../defer.ts';
import { errorBody, SignatureError } from '../errors.ts';
import type { LogThrottle } from '../log-throttle.ts';
import type { SignatureRefusals } from '../signature-refusals.ts';
import { webhookRequest } from '../webhook-request.ts';

export type MetaRouteDeps = DeferDeps & {
  publicUrl: string;
  webhook: ProviderWebhook<MetaPayload>;
  handshake: (query: HandshakeQuery) => HandshakeResult;
  signatureRefusals: SignatureRefusals;
  metrics: Metrics;
  /** WhatsApp Cloud switched off (configured by half): its posts get 503, Messenger's and Instagram's go on. */
  whatsappOff?: SwitchedOffChannel;
  /** Messenger or Instagram without its token: recorded, each message reported (reportUnanswered). */
  unansweredChannels?: readonly UnansweredChannel[];
  /** The switched-off channels' error lines, one a minute per channel (refuseSwitchedOff). */
  switchedOffLines: LogThrottle;
};

/**
 * Meta's one webhook for Messenger, Instagram and WhatsApp Cloud, mounted at /webhooks/meta.
 * Answered once the batch is stored, or, while the store fails, queued for the worker.
 */
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
    if (verified !== 'ok') {
      deps.signatureRefusals.refused({ channel: 'meta', route: c.req.path, outcome: verified });
      throw new SignatureError(verified);
    }
    const payload = deps.webhook.parse(request);
    // Checked after the signature: a stranger learns nothing of our configuration.
    if (deps.whatsappOff && payload.object === 'whatsapp_business_account') {
      return refuseSwitchedOff(c, deps, deps.whatsappOff);
    }
    const events = await deps.webhook.normalize(payload);
    // Meta retries a webhook we fail, but Messenger unsubscribes the app from the Page after an
    // hour of failed deliveries: while the store is down, the batch goes on the work queue and
    // Meta gets its 200. An echo that cannot be placed yet (NotYetError: what it answers is
    // still being recorded) keeps its 503: Meta's retry is the wait it needs.
    const received = await ingestOrDefer(deps, 'meta', events, (error) => error instanceof NotYetError);
    // Each message once: Meta's retry of one recorded before is a duplicate, not counted again
    // (queued for the worker, the store down: counted as they come, as before).
    const recorded = received.deferred
      ? events.flatMap((event) => (event.type === 'message' ? [event.message.channel] : []))
      : received.messages.filter((message) => message.kind === 'recorded').map((message) => message.channel);
    reportUnanswered(deps, deps.unansweredChannels ?? [], recorded);
    return c.json({ ok: true });
  });

  return routes;
}
