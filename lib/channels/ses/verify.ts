// Hand-written on purpose: the maintained validators (sns-validator, sns-payload-validator)
// download the certificate themselves with https.get and offer no way to inject the fetch,
// which tests without internet need; the check itself is ~40 lines of node:crypto.
import { createVerify, X509Certificate } from 'node:crypto';
import type { VerifyOutcome, WebhookRequest } from '#lib/channels/channel.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';

/** Downloads a signing certificate (PEM). Only ever called with a URL that passed isSnsCertUrl. */
export type FetchCertificate = (url: string) => Promise<string>;

/** The certificate could not be had: the request fails with 5xx, so SNS retries it later. */
export class CertificateUnavailableError extends SwitchboardError {
  constructor(cause: unknown) {
    super('SNS_CERTIFICATE_UNAVAILABLE', 'The SNS signing certificate could not be fetched', { cause });
  }
}

// AWS's own validators: https, host sns.<region>.amazonaws.com(.cn), path ending .pem. The
// middle label must be a region ("eu-west-1", "us-gov-west-1", "cn-north-1"): a looser one
// would let "sns.s3-eu-west-1.amazonaws.com", the address of an S3 bucket named "sns" that
// anyone could own, serve a certificate of its own.
const SNS_HOST = /^sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}\.amazonaws\.com(\.cn)?$/;
const MAX_CACHED = 32;

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_FIELDS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

/** True for an SNS certificate URL: https on an SNS host, default port, a `.pem` path. */
export function isSnsCertUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === 'https:' &&
    url.port === '' &&
    url.username === '' &&
    url.password === '' &&
    SNS_HOST.test(url.hostname) &&
    url.pathname.endsWith('.pem') &&
    url.search === '' &&
    url.hash === ''
  );
}

/** The string SNS signs: `Name\nvalue\n` for each signed field present, in this fixed order. */
export function snsStringToSign(message: Record<string, unknown>): string {
  const fields = message.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  let text = '';
  for (const field of fields) {
    const value = message[field];
    if (typeof value === 'string') text += `${field}\n${value}\n`;
  }
  return text;
}

export type SnsVerifierOptions = {
  topicArns: readonly string[];
  fetchCertificate: FetchCertificate;
  /** The clock the signed Timestamp is judged by (now by default). */
  now?: () => Date;
};

/**
 * How old a signed SNS message may be. SNS retries a delivery for an hour at most under our
 * delivery policy; a replay inside the window is a duplicate (the mail is recorded once by its
 * SES id, and message records do not expire), so the window only has to refuse what is old.
 */
export const SNS_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** How far ahead of our clock a Timestamp may be (the clocks' skew). */
export const SNS_MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Checks an SNS HTTP/S delivery on its raw body: signed within the replay window, the
 * TopicArn is one of ours, the certificate URL is an SNS one (checked before anything is
 * fetched), and the v1 (RSA-SHA1)
 * or v2 (RSA-SHA256) signature holds over the canonical string. Certificates are cached per
 * URL (the promise, so concurrent requests fetch once); a failed fetch is not cached.
 */
export function createSnsVerifier(options: SnsVerifierOptions) {
  const topics = new Set(options.topicArns);
  const cache = new Map<string, Promise<X509Certificate>>();

  function certificate(url: string): Promise<X509Certificate> {
    const cached = cache.get(url);
    if (cached) return cached;
    const pending = options.fetchCertificate(url).then(
      (pem) => new X509Certificate(pem),
      (cause: unknown) => {
        throw new CertificateUnavailableError(cause);
      },
    );
    pending.catch(() => cache.delete(url));
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(url, pending);
    return pending;
  }

  return async function verifySns(request: WebhookRequest): Promise<VerifyOutcome> {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(request.rawBody);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'invalid';
      message = parsed as Record<string, unknown>;
    } catch {
      return 'invalid';
    }
    const { Signature, SignatureVersion, SigningCertURL, TopicArn, Type, Timestamp } = message;
    if (typeof Signature !== 'string' || Signature === '') return 'missing';
    // A replay window, judged before anything is fetched (Timestamp is among the signed fields).
    const signedAt = typeof Timestamp === 'string' ? Date.parse(Timestamp) : Number.NaN;
    const age = (options.now?.() ?? new Date()).getTime() - signedAt;
    if (age > SNS_MAX_AGE_MS) return 'expired';
    if (!(age >= -SNS_MAX_SKEW_MS)) return 'invalid';
    const algorithm = SignatureVersion === '1' ? 'RSA-SHA1' : SignatureVersion === '2' ? 'RSA-SHA256' : null;
    if (!algorithm) return 'invalid';
    if (typeof TopicArn !== 'string') return 'invalid';
    if (!topics.has(TopicArn)) return 'unknown-source';
    if (
      Type !== 'Notification' &&
      Type !== 'SubscriptionConfirmation' &&
      Type !== 'UnsubscribeConfirmation'
    ) {
      return 'invalid';
    }
    if (typeof SigningCertURL !== 'string' || !isSnsCertUrl(SigningCertURL)) return 'invalid';
    let cert: X509Certificate;
    try {
      cert = await certificate(SigningCertURL);
    } catch (error) {
      if (error instanceof CertificateUnavailableError) throw error;
      // Not a certificate at all (the PEM did not parse): nothing can verify against it.
      return 'invalid';
    }
    const verifier = createVerify(algorithm);
    verifier.update(snsStringToSign(message), 'utf8');
    try {
      return verifier.verify(cert.publicKey, Buffer.from(Signature, 'base64')) ? 'ok' : 'invalid';
    } catch {
      return 'invalid';
    }
  };
}
