import { createHmac, timingSafeEqual } from 'node:crypto';
import { MalformedPayloadError, type VerifyOutcome } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { readForm, type WebhookRequestWithBytes } from './form.ts';

/**
 * How old a signed timestamp may be. Mailgun retries a route POST we failed for 8 hours (after
 * 10, 15 and 30 minutes, 1, 2 and 4 hours: Mailgun "Receiving messages via HTTP") with the form it first signed, so a tighter window would
 * refuse the very retry that finishes a mail (and Mailgun would stop). A replay inside it
 * brings nothing new: the content is Mailgun's own, a token is accepted once, and the mail is
 * recorded once by its Message-Id.
 */
export const MAILGUN_MAX_AGE_MS = 9 * 60 * 60 * 1000;
/** How far ahead of our clock a timestamp may be (the clocks' skew). */
export const MAILGUN_MAX_SKEW_MS = 5 * 60 * 1000;

function single(values: string[] | undefined): string | undefined {
  // Two values for a signed field would leave it open which one was signed.
  return values?.length === 1 ? values[0] : undefined;
}

/**
 * Checks a Mailgun route POST: hex HMAC-SHA256 of `timestamp + token` under the HTTP
 * webhook signing key, compared in constant time, and a timestamp no older than Mailgun's
 * retries (MAILGUN_MAX_AGE_MS: `expired`) nor ahead of `now` by more than a skew. The token's single use
 * is the route's job, through `replayKey`.
 */
export function verifyMailgunSignature(
  request: WebhookRequestWithBytes,
  signingKey: string,
  now: Date,
): VerifyOutcome {
  // An empty key would make every signature forgeable by anyone.
  if (signingKey === '')
    throw new SwitchboardError('CONFIG_INVALID', 'Mailgun signing key is not configured');
  let fields: Record<string, string[]>;
  try {
    fields = readForm(request).fields;
  } catch (error) {
    if (error instanceof MalformedPayloadError) return 'invalid';
    throw error;
  }
  if (!fields.signature?.[0]) return 'missing';
  const signature = single(fields.signature);
  const timestamp = single(fields.timestamp);
  const token = single(fields.token);
  if (!signature || !timestamp || !token || !/^\d{1,12}$/.test(timestamp)) return 'invalid';
  const expected = createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest();
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return 'invalid';
  const given = Buffer.from(signature, 'hex');
  if (!(given.length === expected.length && timingSafeEqual(given, expected))) return 'invalid';
  // After the HMAC: `expired` tells Mailgun to stop (406), so only a form signed with our key
  // earns it. One from ahead of our clock is `invalid` (retried): it becomes acceptable later.
  const age = now.getTime() - Number(timestamp) * 1000;
  if (age > MAILGUN_MAX_AGE_MS) return 'expired';
  if (age < -MAILGUN_MAX_SKEW_MS) return 'invalid';
  return 'ok';
}
