import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import type { WebhookRequest } from '#lib/channels/channel.ts';

export type TwilioFixture =
  | 'sms-polish'
  | 'mms-two-media'
  | 'whatsapp-profile'
  | 'whatsapp-stop'
  | 'sms-start'
  | 'status-delivered'
  | 'status-undelivered-30007'
  | 'status-whatsapp-read'
  | 'voice-incoming'
  | 'record-action'
  | 'recording-completed'
  | 'recording-absent'
  | 'transcription-completed';

/** The auth token the fixtures are signed with in tests; not a real credential. */
export const TEST_AUTH_TOKEN = '12345678901234567890123456789012';
/** The public URL Twilio is configured to call in tests. */
export const TEST_WEBHOOK_URL = 'https://hooks.switchboard.example/webhooks/twilio/messaging?tenant=acme';

/** The public URL of one Twilio webhook route in tests (same host and query as the messaging one). */
export function testWebhookUrl(route: string): string {
  return `https://hooks.switchboard.example/webhooks/twilio/${route}?tenant=acme`;
}

/** A fresh SID of Twilio's shape: two-letter prefix and 32 lower-case hex digits. */
export function twilioSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/** A captured inbound webhook body, as the form params Twilio sent (order and encoding kept). */
export function twilioFixture(name: TwilioFixture): URLSearchParams {
  const raw = readFileSync(new URL(`../fixtures/twilio/${name}.txt`, import.meta.url), 'utf8');
  return new URLSearchParams(raw.trimEnd());
}

/**
 * A variation of a fixture: each override replaces every value of that param (an array
 * repeats the param), `undefined` removes it. A message fixture gets a new MessageSid (and
 * its legacy copies) unless one is given; voice fixtures keep their SIDs, which tie the call,
 * its recording and its transcription together.
 */
export function twilioForm(
  name: TwilioFixture,
  overrides: Record<string, string | string[] | undefined> = {},
): URLSearchParams {
  const form = twilioFixture(name);
  const messageSid = form.get('MessageSid');
  if (messageSid) {
    const sid = twilioSid(messageSid.startsWith('MM') ? 'MM' : 'SM');
    for (const key of ['MessageSid', 'SmsSid', 'SmsMessageSid']) if (form.has(key)) form.set(key, sid);
  }
  for (const [key, value] of Object.entries(overrides)) {
    form.delete(key);
    for (const item of typeof value === 'string' ? [value] : (value ?? [])) form.append(key, item);
  }
  return form;
}

// Independent of lib/ on purpose: the params as express.urlencoded hands them to twilio-node.
function asTwilioNodeParams(form: URLSearchParams): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null);
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    params[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return params;
}

/** Signs a form post the way Twilio does, with twilio-node's own signer. */
export function signTwilio(
  url: string,
  params: URLSearchParams | Record<string, string>,
  authToken: string = TEST_AUTH_TOKEN,
): { body: string; headers: Headers } {
  const form = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  const signature = getExpectedTwilioSignature(authToken, url, asTwilioNodeParams(form));
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': signature,
    'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
    'user-agent': 'TwilioProxy/1.1',
  });
  return { body: form.toString(), headers };
}

/** A signed WebhookRequest, as lib/http would hand it to the channel. */
export function signedTwilioRequest(
  params: URLSearchParams | Record<string, string>,
  options: { url?: string; signedUrl?: string; authToken?: string } = {},
): WebhookRequest {
  const url = options.url ?? TEST_WEBHOOK_URL;
  const { body, headers } = signTwilio(options.signedUrl ?? url, params, options.authToken);
  return { url, headers, rawBody: body };
}

/** The header Twilio adds when a Webhook Rule's Setting signs with a SharedKey. */
export const SIGNATURE_SETTINGS_HEADER = 'x-twilio-webhooks-signature-settings';

/**
 * Signs a form post the way Twilio does when a Webhook Rule matches the URL: the same signed
 * string (the URL, then each param name + value, names sorted, repeated values de-duplicated
 * and sorted), an HMAC under the Setting's SharedKey secret with its algorithm, base64, in
 * X-Twilio-Signature; and the Settings header naming the key and algorithm. Written from the
 * documented scheme, independent of lib/.
 */
export function signTwilioWithSharedKey(
  url: string,
  params: URLSearchParams | Record<string, string>,
  secret: string,
  options: { algorithm?: string; keyId?: string } = {},
): { body: string; headers: Headers } {
  const form = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  const values = asTwilioNodeParams(form);
  let data = url;
  for (const name of Object.keys(values).sort()) {
    const value = values[name] as string | string[];
    for (const item of typeof value === 'string' ? [value] : [...new Set(value)].sort()) data += name + item;
  }
  const algorithm = options.algorithm ?? 'HMAC_SHA256';
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': createHmac(algorithm === 'HMAC_SHA1' ? 'sha1' : 'sha256', secret)
      .update(data, 'utf8')
      .digest('base64'),
    [SIGNATURE_SETTINGS_HEADER]: `key=${options.keyId ?? TEST_SHARED_KEY_ID},algorithm=${algorithm}`,
    'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
    'user-agent': 'TwilioProxy/1.1',
  });
  return { body: form.toString(), headers };
}

/**
 * A JSON-bodied callback signed the Webhook-Rule way: Twilio appends `bodySHA256` (hex SHA-256
 * of the raw body) to the URL and signs that URL alone. Returns the URL it was posted to.
 */
export function signTwilioJsonWithSharedKey(
  url: string,
  json: string,
  secret: string,
): { url: string; body: string; headers: Headers } {
  const signedUrl = `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${createHash('sha256').update(json, 'utf8').digest('hex')}`;
  const headers = new Headers({
    'content-type': 'application/json',
    'x-twilio-signature': createHmac('sha256', secret).update(signedUrl, 'utf8').digest('base64'),
    [SIGNATURE_SETTINGS_HEADER]: `key=${TEST_SHARED_KEY_ID},algorithm=HMAC_SHA256`,
  });
  return { url: signedUrl, body: json, headers };
}

/** A SharedKey's id as a Webhook Setting names it in tests (not a secret). */
export const TEST_SHARED_KEY_ID = 'webhooks_shared_key_01kb7ztq3xq6m3j8r2c5v9w4hd';
