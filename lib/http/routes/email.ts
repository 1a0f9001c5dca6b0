import { type Context, Hono } from 'hono';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import type { MailgunChannel } from '#lib/channels/mailgun/index.ts';
import type { SesChannel } from '#lib/channels/ses/index.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { errorBody, SignatureError } from '../errors.ts';
import { type IngestDeps, ingest } from '../ingest.ts';
import type { SignatureRefusals } from '../signature-refusals.ts';
import { webhookRequest } from '../webhook-request.ts';

export type EmailRouteDeps = IngestDeps & {
  publicUrl: string;
  ses: SesChannel | null;
  mailgun: MailgunChannel | null;
  store: ConversationStore;
  clock: Clock;
  signatureRefusals: SignatureRefusals;
};

// Longer than a timestamp stays acceptable (MAILGUN_MAX_AGE_MS), so a token can never come back valid.
const REPLAY_TTL_SECONDS = 10 * 60 * 60;

/** Inbound mail: SES (receipt rule → SNS → HTTPS) and Mailgun routes, mounted at /webhooks/email. */
export function emailRoutes(deps: EmailRouteDeps): Hono {
  const routes = new Hono();
  const { ses, mailgun } = deps;

  if (ses) {
    routes.post('/ses', async (c) => {
      const request = await webhookRequest(c, deps.publicUrl);
      // Verified before anything else: the SNS signature covers the whole message.
      const verified = await ses.webhook.verify(request);
      if (verified !== 'ok') {
        deps.signatureRefusals.refused({ channel: 'ses', route: c.req.path, outcome: verified });
        throw new SignatureError(verified);
      }
      const payload = ses.webhook.parse(request);
      if (payload.envelope.Type === 'SubscriptionConfirmation') {
        const confirmed = await ses.confirmSubscription(payload);
        deps.log.info('SNS subscription confirmation', { confirmed });
        return confirmed
          ? c.json({ ok: true })
          : c.json(errorBody('SUBSCRIPTION_REFUSED', 'Topic not allowed'), 403);
      }
      await ingest(deps, 'ses', await ses.webhook.normalize(payload));
      return c.json({ ok: true });
    });
  }

  if (mailgun) {
    // Mailgun retries anything but 200 and 406 for 8 hours, with the form it first signed. 406
    // only where no retry of that form could ever be accepted: a timestamp past the window (it
    // only gets older) and a token bound to another mail (a forgery). A signature that does not
    // match is 403 and retried: Mailgun signs with a rotated key at once, and an instance given
    // the new key records the retry (docs/deploy.md). A form we cannot read is 400, retried too:
    // Mailgun posts only its own format, so it is our bug, and a fixed release records it.
    const stop = (c: Context, code: string, message: string) => c.json(errorBody(code, message), 406);
    routes.post('/mailgun', async (c) => {
      const request = await webhookRequest(c, deps.publicUrl);
      const verified = await mailgun.webhook.verify(request);
      if (verified !== 'ok') {
        deps.signatureRefusals.refused({ channel: 'mailgun', route: c.req.path, outcome: verified });
        const refusal = new SignatureError(verified);
        if (verified === 'expired') return stop(c, refusal.code, refusal.message);
        throw refusal;
      }
      let payload: Parameters<typeof mailgun.webhook.normalize>[0];
      try {
        payload = mailgun.webhook.parse(request);
      } catch (error) {
        if (error instanceof MalformedPayloadError) {
          deps.log.warn('signed Mailgun form could not be read; Mailgun retries it', { code: error.code });
        }
        throw error;
      }
      // Bound before anything is stored, in one conditional write: a copy of the signature on
      // another form is refused even while the first is being stored or after it failed, and
      // Mailgun's own retry of the first (the same content) gets through.
      const guard = mailgun.webhook.replayGuard?.(payload);
      if (
        guard &&
        !(await deps.store.bindOnce(guard.key, guard.content, REPLAY_TTL_SECONDS, deps.clock.now()))
      ) {
        return stop(c, 'REPLAYED', 'This token was already used for another delivery');
      }
      await ingest(deps, 'mailgun', await mailgun.webhook.normalize(payload));
      return c.json({ ok: true });
    });
  }

  return routes;
}
