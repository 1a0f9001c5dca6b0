import type { InboundEvent } from '#lib/domain/message.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';

/** A provider's webhook request as it reached us, before anything trusted it. */
export type WebhookRequest = {
  /**
   * The public URL the provider called: the configured PUBLIC_URL + the path and query
   * exactly as received. Behind API Gateway stages or custom domains the URL the app sees is
   * not the one the provider signed, so signatures are always checked against this.
   */
  url: string;
  /**
   * The URL the request arrived on as the runtime saw it, when it is not `url`: on Lambda the
   * host API Gateway names (requestContext.domainName: its own execute-api endpoint, or the
   * custom domain), locally the Host header. A provider that signs the URL it called (Twilio)
   * signs this one while its console still points at the API's own endpoint (docs/security.md).
   */
  receivedUrl?: string;
  headers: Headers;
  /** The raw body text, exactly as sent (already base64-decoded on Lambda). */
  rawBody: string;
  /** The same body as bytes: multipart attachments are binary and do not survive UTF-8 text. */
  rawBytes?: Uint8Array;
};

/**
 * `missing`: no signature at all; `invalid`: a signature that does not match (or could not be
 * checked); `expired`: signed longer ago than any retry of it could still be accepted, so the
 * provider may be told to stop retrying (Mailgun's timestamp, SNS's past its window);
 * `unknown-source`: signed by the provider for a source that is not ours (an SNS topic not in
 * SES_TOPIC_ARNS), answered as `invalid` but logged apart: a renamed topic looks like this;
 * `unsupported-algorithm` and `unconfigured-key`: signed under a scheme the request names
 * (Twilio's Webhook Settings header) with an algorithm we do not know, or with a key we were
 * not given, answered as `invalid` but logged apart: ops have a key to configure.
 */
export type VerifyOutcome =
  | 'ok'
  | 'missing'
  | 'invalid'
  | 'expired'
  | 'unknown-source'
  | 'unsupported-algorithm'
  | 'unconfigured-key';

/** The body is not what the provider documents; answered with 400, nothing stored. */
export class MalformedPayloadError extends SwitchboardError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = []) {
    super('MALFORMED_PAYLOAD', message);
    this.issues = issues;
  }
}

/**
 * One provider webhook endpoint: proves the request is genuine (on the raw body, before
 * parsing), validates it against the provider's documented shape, and turns it into zero or
 * more normalized events. Routes in lib/http wire these to the use cases; a channel knows
 * nothing of DynamoDB or SQS. `verify` and `normalize` may be async where the provider needs
 * I/O (an SNS signing certificate, a mail stored in S3).
 */
export interface ProviderWebhook<TPayload> {
  verify(request: WebhookRequest): VerifyOutcome | Promise<VerifyOutcome>;
  /** Throws MalformedPayloadError when the body does not match the provider's schema. */
  parse(request: WebhookRequest): TPayload;
  normalize(payload: TPayload): InboundEvent[] | Promise<InboundEvent[]>;
  /**
   * For providers whose signature does not cover the body (Mailgun's covers its token): `key`
   * is a value the provider never sends twice for distinct deliveries, `content` what this
   * delivery says. The route binds the key to the first content it sees and refuses the key
   * with any other; the same content again is the provider's retry.
   */
  replayGuard?(payload: TPayload): { key: string; content: string };
}
