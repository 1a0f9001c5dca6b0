// Only the signature helpers: the whole twilio package costs ~175 ms of cold start (MEASURED.md).
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import type { VerifyOutcome, WebhookRequest } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { parseTwilioForm } from './schema.ts';

/**
 * Checks `X-Twilio-Signature` over request.url (the public URL Twilio was configured with,
 * query kept verbatim) and ALL form params of the raw body. Port variants (`:443`/`:80`
 * present or not) are accepted as twilio-node does; the comparison is constant-time.
 */
export function verifyTwilioSignature(request: WebhookRequest, authToken: string): VerifyOutcome {
  // An empty key would make every signature forgeable by anyone.
  if (authToken === '') throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is not configured');
  const signature = request.headers.get('x-twilio-signature');
  // twilio-node's middleware treats an empty header as absent too.
  if (!signature) return 'missing';
  try {
    return validateRequest(authToken, signature, request.url, parseTwilioForm(request.rawBody))
      ? 'ok'
      : 'invalid';
  } catch {
    // twilio-node falls back to `new URL(url)`, which throws on a URL it cannot parse.
    return 'invalid';
  }
}
