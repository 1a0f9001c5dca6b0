// Only the signature helpers: the whole twilio package costs ~175 ms of cold start (MEASURED.md).
import { validateBody, validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import type { VerifyOutcome, WebhookRequest } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { twilioFormOf } from './schema.ts';
import { validateRequestWithHash } from './signed-url.ts';

/**
 * Added by Twilio when a Webhook Rule matches the URL and its Setting signs with a SharedKey:
 * `key=<the SharedKey the Setting names>,algorithm=HMAC_SHA256` (or HMAC_SHA1). X-Twilio-Signature
 * then holds the HMAC under that key's secret, base64, over the same string as ever.
 */
export const SIGNATURE_SETTINGS_HEADER = 'x-twilio-webhooks-signature-settings';

const HASHES: Readonly<Record<string, 'sha1' | 'sha256'>> = { HMAC_SHA1: 'sha1', HMAC_SHA256: 'sha256' };

/** The Settings header's key and algorithm as sent (either may be missing); null without the header. */
export function signatureSettingsOf(headers: Headers): { key?: string; algorithm?: string } | null {
  const value = headers.get(SIGNATURE_SETTINGS_HEADER)?.trim();
  if (!value) return null;
  const settings: { key?: string; algorithm?: string } = {};
  for (const part of value.split(',')) {
    const equals = part.indexOf('=');
    const name = part.slice(0, equals).trim().toLowerCase();
    if (equals > 0 && (name === 'key' || name === 'algorithm'))
      settings[name] = part.slice(equals + 1).trim();
  }
  return settings;
}

/**
 * Checks `X-Twilio-Signature` over request.url (the public URL Twilio was configured with,
 * query kept verbatim) or request.receivedUrl (the URL it arrived on, which is what
 * twilio-node's own middleware checks: Twilio signs the URL it called, and until every number
 * is moved to a new custom domain that is the API's own endpoint), and ALL form params of the
 * raw body; a JSON body instead by the `bodySHA256` Twilio puts in the URL it signs alone (as
 * twilio-node's middleware does). Either URL still needs an HMAC under our key (docs/security.md).
 * Port variants (`:443`/`:80` present or not) are accepted as twilio-node does; the comparison
 * is constant-time.
 *
 * Without the Settings header the key is the auth token, HMAC-SHA1 (none configured: never
 * accepted, CONFIG_INVALID thrown): `authTokens` is the primary and, while it is rotated, the
 * secondary (Twilio signs with the primary until the secondary is promoted, then with the new
 * one at once, and never posts a refused webhook again). With it,
 * the key is one of `sharedKeys` (a second one while a Rule splits traffic between the old
 * Setting and the new: docs/deploy.md) under the header's algorithm; an algorithm we do not know
 * or no shared key configured is refused with its own outcome, which the log names. The first
 * match ends the check: the usual webhook costs one or two HMACs, not one per URL, key and
 * port variant (which key or URL matched is no secret: each comparison is constant-time).
 */
export function verifyTwilioSignature(
  request: WebhookRequest,
  authTokens: readonly string[],
  sharedKeys: readonly string[] = [],
): VerifyOutcome {
  // An empty key would make every signature forgeable by anyone.
  if (authTokens.includes('')) throw new SwitchboardError('CONFIG_INVALID', 'A Twilio auth token is empty');
  if (sharedKeys.includes(''))
    throw new SwitchboardError('CONFIG_INVALID', 'A Twilio webhook shared key is empty');
  if (authTokens.length === 0 && sharedKeys.length === 0)
    throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is not configured');
  const signature = request.headers.get('x-twilio-signature');
  // twilio-node's middleware treats an empty header as absent too.
  if (!signature) return 'missing';
  const settings = signatureSettingsOf(request.headers);
  let hash: 'sha1' | 'sha256' = 'sha1';
  let keys = authTokens;
  if (settings) {
    const named = settings.algorithm?.toUpperCase() ?? '';
    if (!Object.hasOwn(HASHES, named)) return 'unsupported-algorithm';
    if (sharedKeys.length === 0) return 'unconfigured-key';
    hash = HASHES[named] as 'sha1' | 'sha256';
    keys = sharedKeys;
  } else if (authTokens.length === 0) {
    // Without the auth token (a production secret that lost it, a shared key set) a webhook
    // the token would sign cannot be checked: never accepted. The routes refuse it before (503).
    throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is not configured');
  }
  try {
    const query = new URL(request.url).searchParams;
    if (query.has('bodySHA256') && !validateBody(request.rawBody, query.get('bodySHA256') ?? ''))
      return 'invalid';
    const params = query.has('bodySHA256') ? {} : twilioFormOf(request);
    const urls = request.receivedUrl ? [request.url, request.receivedUrl] : [request.url];
    return urls.some((url) => keys.some((key) => validates(hash, key, signature, url, params)))
      ? 'ok'
      : 'invalid';
  } catch {
    return 'invalid';
  }
}

function validates(
  hash: 'sha1' | 'sha256',
  key: string,
  signature: string,
  url: string,
  params: Record<string, string | string[]>,
) {
  try {
    return hash === 'sha1'
      ? validateRequest(key, signature, url, params)
      : validateRequestWithHash(hash, key, signature, url, params);
  } catch {
    // twilio-node falls back to `new URL(url)`, which throws on a URL it cannot parse.
    return false;
  }
}

const FIXES: Partial<Record<VerifyOutcome, string>> = {
  'unconfigured-key':
    'put the secret of the SharedKey this Webhook Setting names into the provider secret as TWILIO_WEBHOOK_SHARED_KEY (docs/deploy.md), then touch every function',
  'unsupported-algorithm':
    "set the Webhook Setting's signature algorithm to HMAC_SHA256 (or HMAC_SHA1): Switchboard checks only those",
};

/**
 * What a refusal's log line can say of a request that named Twilio's Settings header: the
 * SharedKey's id and the algorithm as sent (ids, not secrets; cut to a short run of safe
 * characters, since anyone can send the header), and what to configure. Nothing without it.
 */
export function signatureRefusalDetails(
  outcome: VerifyOutcome,
  headers: Headers,
): Record<string, string> | undefined {
  const settings = signatureSettingsOf(headers);
  if (!settings) return undefined;
  const fix = FIXES[outcome];
  return {
    signingKey: printable(settings.key),
    algorithm: printable(settings.algorithm),
    ...(fix ? { fix } : {}),
  };
}

function printable(value: string | undefined): string {
  return (value ?? '').replace(/[^\w.:-]/g, '?').slice(0, 64) || '(none)';
}
