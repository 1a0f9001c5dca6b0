import { type Context, Hono } from 'hono';
import type { ProviderWebhook } from '#lib/channels/channel.ts';
import {
  emptyTwiml,
  SIGNATURE_SETTINGS_HEADER,
  signatureRefusalDetails,
  TWIML_CONTENT_TYPE,
  type TwilioChannel,
} from '#lib/channels/twilio/index.ts';
import { voiceGreetingTwiml, voiceRecordedTwiml } from '#lib/channels/twilio/voice-twiml.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { LocaleSchema } from '#lib/domain/channel.ts';
import type { InboundEvent } from '#lib/domain/message.ts';
import { computePromise } from '#lib/domain/promise.ts';
import { composeAck } from '#lib/domain/texts/index.ts';
import { LEAVE_A_MESSAGE, MESSAGE_RECORDED } from '#lib/domain/texts/voice-prompts.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { type DeferDeps, ingestOrDefer, type Received } from '../defer.ts';
import { SignatureError } from '../errors.ts';
import type { SignatureRefusals } from '../signature-refusals.ts';
import { webhookRequest } from '../webhook-request.ts';

export type TwilioRouteDeps = DeferDeps & {
  publicUrl: string;
  twilio: TwilioChannel;
  business: BusinessConfig;
  clock: Clock;
  signatureRefusals: SignatureRefusals;
  /**
   * Twilio switched off without its auth token while a shared key is set
   * (TwilioChannel.verifiesTokenSignatures false): answers a webhook without Twilio's Settings
   * header, which only the token could verify, as the switched-off channel's (503
   * CHANNEL_MISCONFIGURED, counted in ChannelMisconfigured: refuseSwitchedOff).
   */
  refuseUnverifiable?: (c: Context) => Response;
};

/**
 * Verifies, parses, normalizes and stores one Twilio webhook; returns what was stored.
 *
 * Twilio does not post a webhook again after a 5xx (by default it retries only a connection
 * that failed, once, within its 15 s): a message we failed to store would be lost. So when the
 * store fails (DynamoDB unavailable or throttling, a crash of one of its writes, a voicemail
 * whose call is not stored yet), the verified events go on the work queue, and the worker
 * records them (the same idempotent steps, with this receipt time); Twilio gets its 200.
 * Only when the queue refuses them too does Twilio get the 5xx (ingestOrDefer).
 */
async function receive(
  deps: TwilioRouteDeps,
  c: Context,
  webhook: ProviderWebhook<unknown>,
): Promise<Received> {
  const request = await webhookRequest(c, deps.publicUrl);
  const verified = await webhook.verify(request);
  if (verified !== 'ok') {
    deps.signatureRefusals.refused({
      channel: 'twilio',
      route: c.req.path,
      outcome: verified,
      urls: request.receivedUrl ? [request.url, request.receivedUrl] : [request.url],
      details: signatureRefusalDetails(verified, request.headers),
    });
    throw new SignatureError(verified);
  }
  const events: InboundEvent[] = await webhook.normalize(webhook.parse(request));
  return ingestOrDefer(deps, 'twilio', events);
}

function twiml(c: Context, body: string) {
  return c.body(body, 200, { 'content-type': TWIML_CONTENT_TYPE });
}

/**
 * Twilio's webhooks, mounted at /webhooks/twilio. Every one is answered only after what it
 * carries is stored; messaging and status callbacks get empty TwiML (the ack is queued), a
 * call gets the spoken greeting with the promise and the chance to leave a message.
 */
export function twilioRoutes(deps: TwilioRouteDeps): Hono {
  const routes = new Hono();
  const url = (path: string) => `${deps.publicUrl}/webhooks/twilio${path}`;
  const { refuseUnverifiable } = deps;
  if (!deps.twilio.verifiesTokenSignatures) {
    routes.use('*', async (c, next) => {
      // The Settings header says a shared key signed it: only those can be checked here (and
      // are, with the configured keys only); a webhook without it is never verified.
      if (c.req.header(SIGNATURE_SETTINGS_HEADER)?.trim()) return next();
      if (refuseUnverifiable) return refuseUnverifiable(c);
      throw new SignatureError('invalid');
    });
  }

  routes.post('/messaging', async (c) => {
    await receive(deps, c, deps.twilio.messaging);
    return twiml(c, emptyTwiml());
  });

  routes.post('/status', async (c) => {
    await receive(deps, c, deps.twilio.status);
    return twiml(c, emptyTwiml());
  });

  routes.post('/voice', async (c) => {
    const { messages, deferred } = await receive(deps, c, deps.twilio.voice);
    const call = messages[0];
    const locale = call?.locale ?? deps.business.defaultLocale;
    const now = deps.clock.now();
    // A caller already waiting may hold a promise that has passed: never speak a time gone by,
    // speak the one we can keep from now. A call the worker will record later (the store was
    // down) is promised what the calendar gives now: recorded with this receipt time, it gets
    // the same promise (or an earlier one it already held).
    const promise =
      deferred || (call?.promise && Date.parse(call.promise.replyBy) <= now.getTime())
        ? computePromise(deps.business, { receivedAt: now, channel: 'voice' })
        : call?.promise;
    const sentences = promise
      ? [
          composeAck(deps.business, {
            locale,
            channel: 'voice',
            now,
            promise,
          }).text,
          LEAVE_A_MESSAGE[locale],
        ]
      : [LEAVE_A_MESSAGE[locale]];
    return twiml(
      c,
      voiceGreetingTwiml({
        locale,
        sentences,
        recordingStatusCallback: url('/voice/recording'),
        transcribeCallback: url('/voice/transcription'),
        // The caller hears the thank-you in the greeting's language (the URL is signed whole).
        recordAction: `${url('/voice/recorded')}?lang=${locale}`,
      }),
    );
  });

  // Where <Record> goes when the caller finishes: a thank-you, never the greeting again.
  routes.post('/voice/recorded', async (c) => {
    await receive(deps, c, deps.twilio.recordAction);
    const asked = LocaleSchema.safeParse(c.req.query('lang'));
    const locale = asked.success ? asked.data : deps.business.defaultLocale;
    return twiml(c, voiceRecordedTwiml({ locale, sentence: MESSAGE_RECORDED[locale] }));
  });

  routes.post('/voice/recording', async (c) => {
    await receive(deps, c, deps.twilio.recording);
    return twiml(c, emptyTwiml());
  });

  routes.post('/voice/transcription', async (c) => {
    await receive(deps, c, deps.twilio.transcription);
    return twiml(c, emptyTwiml());
  });

  return routes;
}
