import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyOutcome, WebhookRequest } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body under the App
 * Secret, in constant time. The legacy SHA-1 `X-Hub-Signature` alone is refused: Meta sends
 * both headers, so a request with only the weaker one did not come from Meta as it is today.
 */
export function verifyMetaSignature(request: WebhookRequest, appSecret: string): VerifyOutcome {
  // An empty key would make every signature forgeable by anyone.
  if (appSecret === '') throw new SwitchboardError('CONFIG_INVALID', 'Meta app secret is not configured');
  const header = request.headers.get('x-hub-signature-256');
  if (!header) return request.headers.get('x-hub-signature') ? 'invalid' : 'missing';
  const hex = SIGNATURE.exec(header.trim())?.[1];
  if (!hex) return 'invalid';
  // Meta signs the bytes it sent: those, as received (re-serialized JSON would differ, and a
  // body that is not valid UTF-8 would not survive decoding and re-encoding).
  const signed = request.rawBytes ?? Buffer.from(request.rawBody, 'utf8');
  const expected = createHmac('sha256', appSecret).update(signed).digest();
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}
