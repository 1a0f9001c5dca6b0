// How a Graph API error answer maps to a SendError: retryable, ours, uncertain, the provider code.
import { type Attempt, gatewayLostAnswer, retryAfterMs } from '#lib/channels/http-retry.ts';
import type { SendReceipt } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';

// Graph codes that say "try again": temporary / unknown errors, app, user and page rate limits,
// Messenger's 1200 "Temporary send message failure. Please try again later." (the Send API's
// error table), the business-use-case rate limits of the Pages, Instagram and Messenger APIs
// (80001, 80002, 80006: page and system-user tokens are counted per business use case) and of
// a WhatsApp Business Account (80007), WhatsApp throughput, spam and pair rate limits, and
// WhatsApp's own "something went wrong".
const TRANSIENT_CODES = new Set([
  1, 2, 4, 17, 32, 341, 613, 1200, 80001, 80002, 80006, 80007, 130429, 131000, 131016, 131048, 131056,
]);
// Codes of a WhatsApp `failed` status (taken, then not delivered) that say a later try may go:
// 1 and 2 (API unknown / service: downtime or overload), 131000 something went wrong, 131016
// service unavailable, 130429 throughput (rate limit hit), 131056 pair rate limit, 131057
// account in maintenance, 133004 server temporarily unavailable (Meta's "WhatsApp error codes"
// page, developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes,
// and integrators' copies of its table). Not 131048 (spam rate limit: a quality-based limit a
// resend adds to), nor the final ones: 131026 undeliverable, 131047 the window, 131049 held back
// for engagement, 131050 stopped marketing, 131051 unsupported type, 131021 recipient = sender.
const RETRYABLE_STATUS_CODES = new Set([1, 2, 130429, 131000, 131016, 131056, 131057, 133004]);

/** Whether a WhatsApp `failed` status's error code says a later try of the message may go. */
export function isRetryableFailure(code: number | undefined): boolean {
  return code !== undefined && RETRYABLE_STATUS_CODES.has(code);
}

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

export { errorOf };
