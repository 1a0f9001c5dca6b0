import {
  type Attempt,
  gatewayLostAnswer,
  postJson,
  type RetryOptions,
  retryAfterMs,
  retryWithinBudget,
} from '#lib/channels/http-retry.ts';
import { refuseTooLong } from '#lib/channels/too-long.ts';
import type { Channel } from '#lib/domain/channel.ts';
import { phoneNumberOf } from '#lib/domain/contact.ts';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import { SendError, SwitchboardError } from '#lib/ports/errors.ts';
import { isBusinessScopedUserId } from './schema.ts';

/** A current Graph API version (2026-07-29); pin what the Meta app's webhooks are set to. */
export const DEFAULT_GRAPH_VERSION = 'v26.0';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';

export type MetaSenderOptions = Partial<RetryOptions> & {
  accessToken: string;
  graphBaseUrl?: string;
  graphVersion?: string;
  fetch?: typeof globalThis.fetch;
};

// Graph codes that say "try again": temporary / unknown errors, app, user and page rate limits,
// Messenger's 1200 "Temporary send message failure. Please try again later." (the Send API's
// error table), the business-use-case rate limits of the Pages, Instagram and Messenger APIs
// (80001, 80002, 80006: page and system-user tokens are counted per business use case) and of
// a WhatsApp Business Account (80007), WhatsApp throughput, spam and pair rate limits, and
// WhatsApp's own "something went wrong".
const TRANSIENT_CODES = new Set([
  1, 2, 4, 17, 32, 341, 613, 1200, 80001, 80002, 80006, 80007, 130429, 131000, 131016, 131048, 131056,
]);
/** WhatsApp's "Re-engagement message": more than 24 hours since the customer last wrote. */
const WHATSAPP_OUTSIDE_WINDOW = 131047;
// Code 10 with these subcodes: outside the 24 h window. Messenger 2018278 (2018065 when only the
// News Messaging permission would allow it); Instagram 2534022 (Meta's Instagram error table is
// not in the docs we could read; three integrators' code reads it so).
const OUTSIDE_WINDOW_SUBCODES = new Set([2018278, 2018065, 2534022]);
// Code 10 with this subcode is about the person: "This person isn't receiving messages from you".
const RECIPIENT_SUBCODES = new Set([2018108]);
// Refusals of our token, app or business account, never of the customer: 190 access token
// expired or invalid, 102 session, 0 (WhatsApp) could not authenticate, 3 capability, 368
// temporarily blocked for a policy violation, 131005 access denied, 131031 business account
// locked, 131042 payment problem, 131045 and 133010 our number's registration. Code 10
// (permission denied) is ours too unless its subcode says the window or the person (above).
// 200-299 stay permanent: Messenger also answers (#200) for a person who blocked the Page.
const OUR_ACCOUNT_CODES = new Set([0, 3, 102, 190, 368, 131005, 131031, 131042, 131045, 133010]);
// A template send refused for the template we configured, never for the customer: 132000 its
// parameter count, 132001 no such name in that language, 132005 its text too long once filled
// in, 132007 its format against the character policy, 132012 a parameter's format, 132015
// paused and 132016 disabled for its quality, 132018 a parameter's text (a newline, a tab, more
// than four spaces: templateText removes them). Fixed in WhatsApp Manager or our configuration.
const TEMPLATE_CODES = new Set([132000, 132001, 132005, 132007, 132012, 132015, 132016, 132018]);

/**
 * Our id of a message as a send carries it (Messenger's and Instagram's `metadata`, at most 1,000
 * characters; WhatsApp's `biz_opaque_callback_data`, at most 512, templates too) and Meta gives
 * it back on the echo or status of that message: `switchboard:` and the message id (some 40
 * characters). What lets a send whose answer was lost be found (docs/channels.md).
 */
export function sendTagOf(messageId: string): string {
  return `${SEND_TAG}${messageId}`;
}

/** The message id a send tag names (sendTagOf), or undefined for any other string. */
export function messageIdOfTag(tag: string | undefined): string | undefined {
  if (!tag?.startsWith(SEND_TAG)) return undefined;
  const id = tag.slice(SEND_TAG.length);
  // No longer than a message id is (64, OutboundEcho/DeliveryUpdate.ourMessageId): another app's
  // longer string would make a queued webhook's job unreadable, the customer's messages with it.
  return /^msg_[0-9a-z]{1,60}$/.test(id) ? id : undefined;
}

const SEND_TAG = 'switchboard:';

type GraphError = { code?: number; subcode?: number; transient: boolean };

/**
 * Whether a Graph error code (and subcode) says the messaging window is closed: as the Send
 * API answers it, or as a WhatsApp status webhook reports it after the send was taken.
 */
export function isOutsideWindow(code: number | undefined, subcode?: number | undefined): boolean {
  if (code === WHATSAPP_OUTSIDE_WINDOW) return true;
  return code === 10 && subcode !== undefined && OUTSIDE_WINDOW_SUBCODES.has(subcode);
}

/** Our token, permissions or account, not the customer: fixed by us, the same send works. */
function isOurs(status: number, { code, subcode }: GraphError): boolean {
  if (status === 401) return true;
  if (code === undefined) return false;
  if (code === 10) {
    return (
      subcode === undefined || !(OUTSIDE_WINDOW_SUBCODES.has(subcode) || RECIPIENT_SUBCODES.has(subcode))
    );
  }
  return OUR_ACCOUNT_CODES.has(code) || TEMPLATE_CODES.has(code);
}

function graphErrorOf(json: unknown): GraphError {
  const error = (json as { error?: Record<string, unknown> } | undefined)?.error;
  const int = (value: unknown) => (Number.isInteger(value) ? (value as number) : undefined);
  return {
    code: int(error?.code),
    subcode: int(error?.error_subcode),
    transient: error?.is_transient === true,
  };
}

/** Our stable name for the Graph error, or `code[:subcode]`, as SendError.providerCode. */
function providerCodeOf({ code, subcode }: GraphError): string | undefined {
  if (code === undefined) return undefined;
  if (isOutsideWindow(code, subcode)) return 'outside-window';
  if (TEMPLATE_CODES.has(code)) return `template:${code}`;
  // 551: the person is not available (blocked the page, deactivated); 131026: not on WhatsApp,
  // old client, or terms not accepted; 10/2018108: not receiving messages from us. None clears
  // by retrying.
  if (
    code === 551 ||
    code === 131026 ||
    (code === 10 && subcode !== undefined && RECIPIENT_SUBCODES.has(subcode))
  ) {
    return 'undeliverable';
  }
  return subcode === undefined ? String(code) : `${code}:${subcode}`;
}

async function errorOf(response: Response, label: string): Promise<Attempt<SendReceipt>> {
  const graph = graphErrorOf(await response.json().catch(() => undefined));
  const retryable =
    response.status === 408 ||
    response.status === 429 ||
    response.status >= 500 ||
    graph.transient ||
    (graph.code !== undefined && TRANSIENT_CODES.has(graph.code));
  const providerCode = providerCodeOf(graph);
  // Graph's own message can quote the recipient; only the status and codes go out.
  const codes =
    graph.code === undefined ? '' : ` (error ${graph.code}${graph.subcode ? `/${graph.subcode}` : ''})`;
  // A 500 that carries no Graph error did not come from the Graph API (which answers its own
  // failures with a code, 1 or 2 "wait and retry") but from something in front of it that lost
  // the answer, as a 502 or 504 does: Meta may have taken the message.
  const uncertain =
    gatewayLostAnswer(response.status) || (response.status === 500 && graph.code === undefined);
  const error = new SendError(`${label} answered HTTP ${response.status}${codes}`, {
    permanent: !retryable,
    ours: isOurs(response.status, graph),
    uncertain,
    providerCode,
  });
  return { done: false, error, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
}

function createGraphSender(
  options: MetaSenderOptions,
  channel: Channel,
  label: string,
  path: string,
  bodyOf: (message: OutboundText) => unknown,
  idOf: (json: Record<string, unknown>) => unknown,
): ChannelSender {
  const {
    accessToken,
    graphBaseUrl = DEFAULT_GRAPH_BASE_URL,
    graphVersion = DEFAULT_GRAPH_VERSION,
    fetch = globalThis.fetch,
    timeoutMs = 5000,
    maxRetries = 2,
    totalBudgetMs = 8000,
    baseDelayMs = 300,
  } = options;
  const endpoint = `${graphBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(graphVersion)}/${path}`;
  // The header, never the access_token query: URLs end up in logs and error causes.
  const headers = { authorization: `Bearer ${accessToken}` };

  async function attempt(body: unknown, timeout: number): Promise<Attempt<SendReceipt>> {
    const result = await postJson(fetch, endpoint, headers, body, timeout, label);
    if ('error' in result) return { done: false, error: result.error };
    if (!result.response.ok) return errorOf(result.response, label);
    const json = (await result.response.json().catch(() => ({}))) as Record<string, unknown>;
    const id = idOf(json);
    return { done: true, value: { providerMessageId: typeof id === 'string' ? id : null, status: 'sent' } };
  }

  return {
    // Meta reports each send it took by webhook, carrying the tag the send set (sendTagOf).
    reportsSends: true,
    async send(message) {
      refuseTooLong('meta', channel, message, label);
      const body = bodyOf(message);
      return retryWithinBudget((timeout) => attempt(body, timeout), {
        timeoutMs,
        maxRetries,
        totalBudgetMs,
        baseDelayMs,
      });
    },
  };
}

/**
 * Messenger Platform's message type: a reply inside the 24-hour window is a RESPONSE; a person's
 * reply after it (up to 7 days) is tagged HUMAN_AGENT, which Meta allows for people only, so
 * never for an automatic message, whatever the caller says.
 */
function messagingType(message: OutboundText): { messaging_type: string; tag?: string } {
  return message.humanAgent && !message.automatic
    ? { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }
    : { messaging_type: 'RESPONSE' };
}

function requireToken(token: string, what: string): void {
  // Fail at start-up, not on the first send.
  if (!token) throw new SwitchboardError('CONFIG_INVALID', `${what} access token is not configured`);
}

/** Messenger text through the Send API (`/me/messages`, Page token); at most 2,000 characters. */
export function createMessengerSender(options: MetaSenderOptions): ChannelSender {
  requireToken(options.accessToken, 'Messenger');
  return createGraphSender(
    options,
    'messenger',
    'Messenger Send API',
    'me/messages',
    (message) => ({
      recipient: { id: message.to },
      ...messagingType(message),
      message: { text: message.text, metadata: sendTagOf(message.idempotencyKey) },
    }),
    (json) => json.message_id,
  );
}

/**
 * Instagram text through the Messenger Platform Send API (`/me/messages`, the Page token of the
 * linked Page); Meta documents "1000 bytes or less" (of UTF-8), which also keeps it under 1,000
 * characters.
 */
export function createInstagramSender(options: MetaSenderOptions): ChannelSender {
  requireToken(options.accessToken, 'Instagram');
  return createGraphSender(
    options,
    'instagram',
    'Instagram Send API',
    'me/messages',
    (message) => ({
      recipient: { id: message.to },
      ...messagingType(message),
      message: { text: message.text, metadata: sendTagOf(message.idempotencyKey) },
    }),
    (json) => json.message_id,
  );
}

/**
 * WhatsApp text through the Cloud API (`/{phone-number-id}/messages`); a body of at most 4,096
 * characters. A message with a `template` goes as that template, its parameters as the body's.
 */
export function createWhatsAppCloudSender(
  options: MetaSenderOptions & { phoneNumberId: string },
): ChannelSender {
  requireToken(options.accessToken, 'WhatsApp');
  if (!/^\d{1,32}$/.test(options.phoneNumberId)) {
    throw new SwitchboardError('CONFIG_INVALID', 'WhatsApp phone number id is not configured');
  }
  return createGraphSender(
    options,
    'whatsapp',
    'WhatsApp Cloud API',
    `${options.phoneNumberId}/messages`,
    (message) => ({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      // Cloud API takes the number without `+` (or the wa_id); whatsapp:/+ prefixes are ours. A
      // user known by a business-scoped user id only goes as `recipient`, the whole id.
      ...(isBusinessScopedUserId(message.to)
        ? { recipient: message.to }
        : { to: phoneNumberOf(message.to).replace(/\D/g, '') }),
      ...(message.template
        ? {
            type: 'template',
            template: {
              name: message.template.name,
              language: { policy: 'deterministic', code: message.template.language ?? '' },
              components: [
                {
                  type: 'body',
                  parameters: message.template.parameters.map((text) => ({ type: 'text', text })),
                },
              ],
            },
          }
        : { type: 'text', text: { body: message.text, preview_url: false } }),
      biz_opaque_callback_data: sendTagOf(message.idempotencyKey),
    }),
    (json) => (json.messages as Array<{ id?: unknown }> | undefined)?.[0]?.id,
  );
}
