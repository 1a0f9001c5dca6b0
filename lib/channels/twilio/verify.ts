// Only the signature helpers: the whole twilio package costs ~175 ms of cold start (MEASURED.md).
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import type { VerifyOutcome, WebhookRequest } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { parseTwilioForm } from './schema.ts';

/**
 * Checks `X-Twilio-Signature` over request.url (the public URL Twilio was configured with,
 * query kept verbatim) or request.receivedUrl (the URL it arrived on, which is what
 * twilio-node's own middleware checks: Twilio signs the URL it called, and until every number
 * is moved to a new custom domain that is the API's own endpoint), and ALL form params of the
 * raw body. Either URL still needs an HMAC under our token (docs/security.md). Port variants (`:443`/`:80`
 * present or not) are accepted as twilio-node does; the comparison is constant-time.
 * `authTokens` is the primary and, while it is rotated, the secondary: Twilio signs with the
 * primary until the secondary is promoted, then with the new one at once, and never posts a
 * refused webhook again. The public URL under the primary token is tried first and the first
 * match ends the check: the usual webhook costs one or two HMACs, not one per URL, token and
 * port variant (which token or URL matched is no secret: each comparison is constant-time).
 */
export function verifyTwilioSignature(request: WebhookRequest, authTokens: readonly string[]): VerifyOutcome {
  // An empty key would make every signature forgeable by anyone.
  if (authTokens.length === 0 || authTokens.includes(''))
    throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is not configured');
  const signature = request.headers.get('x-twilio-signature');
  // twilio-node's middleware treats an empty header as absent too.
  if (!signature) return 'missing';
  try {
    const params = parseTwilioForm(request.rawBody);
    const urls = request.receivedUrl ? [request.url, request.receivedUrl] : [request.url];
    return urls.some((url) => authTokens.some((token) => validates(token, signature, url, params)))
      ? 'ok'
      : 'invalid';
  } catch {
    return 'invalid';
  }
}

function validates(token: string, signature: string, url: string, params: Record<string, string | string[]>) {
  try {
    return validateRequest(token, signature, url, params);
  } catch {
    // twilio-node falls back to `new URL(url)`, which throws on a URL it cannot parse.
    return false;
  }
}
