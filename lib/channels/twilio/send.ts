import { z } from 'zod';
import {
  type Attempt,
  gatewayLostAnswer,
  noAnswerError,
  retryAfterMs,
  retryWithinBudget,
} from '#lib/channels/http-retry.ts';
import { refuseTooLong } from '#lib/channels/too-long.ts';
import { phoneNumberOf } from '#lib/domain/contact.ts';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { fetchSentOf } from './fetch-sent.ts';
import { TwilioMessageResourceSchema } from './schema.ts';
import { statusCallbackOf } from './status-url.ts';

export type TwilioSenderOptions = {
  accountSid: string;
  authToken: string;
  apiBaseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt, for 429, 5xx, network errors and timeouts. */
  maxRetries?: number;
  /** All attempts and waits together; keep it well under the worker's Lambda timeout. */
  totalBudgetMs?: number;
  /** Cap of the first backoff; doubles per retry, full jitter. */
  baseDelayMs?: number;
  /** A lookup after an uncertain send (find): short, it runs after the send's own budget. */
  lookupTimeoutMs?: number;
  /** Where Twilio reports the delivery state of what we send (our /webhooks/twilio/status). */
  statusCallbackUrl?: string;
};

// Twilio answers these with 400 although a later attempt may succeed (rate / queue limits).
const TRANSIENT_CODES = new Set([20429, 21611]);
// Refusals of our credentials or account, never of the customer's number: 20003 authenticate
// (a rotated or wrong auth token, a deleted API key), 20005 account not active, 20008 test
// credentials, 20403 account suspended or closed, 70051 authorization failed (an API key
// without the permission), 21660 the From number belongs to another account, 21408 the To
// number's country is not enabled in our Messaging Geo Permissions ("resolved entirely in
// Console"), 21606 our From is not a message-capable number of this account (released, voice
// only, still porting), 21212 our From is not a valid sender. The From is always the number the
// customer wrote to, so a refusal of it is our set-up. Fixed on our side, the same send works:
// retried by the queue, kept in the DLQ, never failed for good.
const OUR_ACCOUNT_CODES = new Set([20003, 20005, 20008, 20403, 70051, 21660, 21408, 21606, 21212]);
// A Content template send refused for the template we configured, never for the customer: 21654
// ContentVariables without a ContentSid, 21655 a ContentSid that is not one of this account's,
// 21656 ContentVariables Twilio cannot read, 63027 no such template for the language (or sent
// with the wrong parameters), 63028 a variable count other than the template's. Twilio reports
// the WhatsApp ones (63027, 63028) mostly in the status callback, where they fail the delivery.
const TEMPLATE_CODES = new Set([21654, 21655, 21656, 63027, 63028]);
// Refusals for what the customer's number is (SendError.recipient): 21610 it texted STOP (Twilio's
// blocklist, until START), 21635 a landline (Twilio tries none outside the US, Canada and the
// UK), 21614 not a mobile number.
const RECIPIENT_CODES: ReadonlyMap<number, 'opted-out' | 'no-sms'> = new Map([
  [21610, 'opted-out'],
  [21635, 'no-sms'],
  [21614, 'no-sms'],
]);
/** WhatsApp through Twilio: a free-form message more than 24 hours after the customer last wrote. */
export const TWILIO_OUTSIDE_WINDOW = 63016;

function address(channel: OutboundText['channel'], value: string): string {
  // Twilio routes by the prefix: without it a WhatsApp reply would go out as an SMS.
  return channel === 'whatsapp' ? `whatsapp:${phoneNumberOf(value)}` : value;
}

function formOf(message: OutboundText, statusCallbackUrl: string | undefined): URLSearchParams {
  const form = new URLSearchParams({ To: address(message.channel, message.to) });
  // A Content template goes without Body (Twilio refuses one with it outside the window):
  // ContentVariables is a JSON object of the body's numbered variables.
  if (message.template) {
    form.set('ContentSid', message.template.name);
    form.set(
      'ContentVariables',
      JSON.stringify(
        Object.fromEntries(message.template.parameters.map((value, i) => [String(i + 1), value])),
      ),
    );
  } else form.set('Body', message.text);
  if (statusCallbackUrl)
    form.set('StatusCallback', statusCallbackOf(statusCallbackUrl, message.idempotencyKey));
  // A Messaging Service SID is a sender too, but Twilio takes it under its own name.
  if (/^MG[0-9a-fA-F]{32}$/.test(message.from)) form.set('MessagingServiceSid', message.from);
  else form.set('From', address(message.channel, message.from));
  return form;
}

/**
 * How far before the try's start (our clock) a lookup accepts Twilio's `date_created`: Twilio
 * stamps it to the whole second (up to 1 s earlier than the instant), and its clock and ours
 * (Lambda's, synced by the Amazon Time Sync Service to within a millisecond) are both kept by
 * NTP, so a few seconds cover them with room. Reaching back further only widens the window in
 * which another message with the same text could pass for this try's (the caller also skips
 * any already on record as another of ours).
 */
const LOOKUP_SKEW_MS = 5_000;

/** The fields of Twilio's Messages list page a lookup reads; the rest passes through. */
const TwilioMessagePageSchema = z.object({
  messages: z.array(
    TwilioMessageResourceSchema.extend({
      status: z.string(),
      messaging_service_sid: z.string().nullable().optional(),
    }),
  ),
});

async function errorOf(response: Response): Promise<Attempt<never>> {
  const json = (await response.json().catch(() => undefined)) as { code?: unknown } | undefined;
  const parsed = Number(json?.code);
  const code = Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
  const retryable =
    response.status === 408 ||
    response.status === 429 ||
    response.status >= 500 ||
    (code !== undefined && TRANSIENT_CODES.has(code));
  const template = code !== undefined && TEMPLATE_CODES.has(code);
  const ours = response.status === 401 || template || (code !== undefined && OUR_ACCOUNT_CODES.has(code));
  // Twilio documents its 500 (20500) as "an error in the server handling logic or a timeout in
  // the API", after which a retried message POST "may" text the customer twice: it may have been
  // taken, like a gateway's 502 or 504. Its 503 (20503) is retried.
  const uncertain = response.status === 500 || gatewayLostAnswer(response.status);
  // Twilio's own message often quotes the phone number, so only the status and code go out.
  const error = new SendError(
    `Twilio answered HTTP ${response.status}${code === undefined ? '' : ` (error ${code})`}`,
    {
      permanent: !retryable,
      ours,
      uncertain,
      ...(code !== undefined && RECIPIENT_CODES.has(code) ? { recipient: RECIPIENT_CODES.get(code) } : {}),
      // The window's refusal has one name on every provider: the ack is skipped, never failed.
      providerCode:
        code === TWILIO_OUTSIDE_WINDOW
          ? 'outside-window'
          : code === undefined
            ? undefined
            : template
              ? `template:${code}`
              : String(code),
    },
  );
  return { done: false, error, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
}

/** Sends texts through Twilio's Messages API with fetch, retrying transient failures within a budget. */
export function createTwilioSender(options: TwilioSenderOptions): ChannelSender {
  const {
    accountSid,
    authToken,
    apiBaseUrl = 'https://api.twilio.com',
    fetch = globalThis.fetch,
    timeoutMs = 5000,
    maxRetries = 2,
    totalBudgetMs = 8000,
    baseDelayMs = 300,
    lookupTimeoutMs = 2000,
  } = options;
  const endpoint = `${apiBaseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  async function attempt(form: URLSearchParams, timeout: number): Promise<Attempt<SendReceipt>> {
    const signal = AbortSignal.timeout(timeout);
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form,
        signal,
      });
    } catch (cause) {
      return { done: false, error: noAnswerError(cause, timeout, 'Twilio') };
    }
    if (!response.ok) return errorOf(response);
    const json = (await response.json().catch(() => ({}))) as { sid?: unknown; status?: unknown };
    return {
      done: true,
      value: {
        providerMessageId: typeof json.sid === 'string' ? json.sid : null,
        status: typeof json.status === 'string' ? json.status : 'unknown',
      },
    };
  }

  /**
   * Twilio's Messages list (newest first) filtered on the customer's address and ours, read for
   * our messages with the same body created since `since` (less LOOKUP_SKEW_MS), returned
   * oldest first. One page of 20 is enough: it is read a moment after the send, and minutes
   * later at most.
   */
  async function find(message: OutboundText, since: Date): Promise<SendReceipt[]> {
    const form = formOf(message, undefined);
    const query = new URLSearchParams({ To: form.get('To') ?? '', PageSize: '20' });
    const from = form.get('From');
    if (from) query.set('From', from);
    let response: Response;
    try {
      response = await fetch(`${endpoint}?${query}`, {
        headers: { authorization, accept: 'application/json' },
        signal: AbortSignal.timeout(lookupTimeoutMs),
      });
    } catch (cause) {
      // A lookup is a read: resending it is harmless, but it did not tell us anything.
      throw new SendError(
        `Twilio lookup failed: ${noAnswerError(cause, lookupTimeoutMs, 'Twilio').message}`,
        {
          permanent: false,
          uncertain: true,
          cause,
        },
      );
    }
    if (!response.ok) {
      const { error } = (await errorOf(response)) as { error: SendError };
      throw new SendError(`Twilio lookup failed: ${error.message}`, {
        permanent: false,
        uncertain: true,
        ours: error.ours,
        ...(error.providerCode ? { providerCode: error.providerCode } : {}),
      });
    }
    const page = TwilioMessagePageSchema.safeParse(await response.json().catch(() => undefined));
    if (!page.success)
      throw new SendError('Twilio lookup failed: an unreadable page', { permanent: false, uncertain: true });
    const after = since.getTime() - LOOKUP_SKEW_MS;
    return page.data.messages
      .filter(
        (candidate) =>
          candidate.direction.startsWith('outbound') &&
          // A template's body is the template's text with our parameters in it.
          (message.template
            ? message.template.parameters.every((parameter) => candidate.body.includes(parameter))
            : candidate.body === message.text) &&
          Date.parse(candidate.date_created) >= after &&
          (!form.get('MessagingServiceSid') ||
            candidate.messaging_service_sid === form.get('MessagingServiceSid')),
      )
      .reverse()
      .map((found) => ({ providerMessageId: found.sid, status: found.status }));
  }

  return {
    find,
    fetchSent: fetchSentOf({ endpoint, authorization, fetch, timeoutMs: lookupTimeoutMs }),
    async send(message) {
      // Twilio would refuse it (21617) after a round trip; it is never cut.
      refuseTooLong('twilio', message.channel, message, 'Twilio send');
      const form = formOf(message, options.statusCallbackUrl);
      return retryWithinBudget((timeout) => attempt(form, timeout), {
        timeoutMs,
        maxRetries,
        totalBudgetMs,
        baseDelayMs,
      });
    },
  };
}
