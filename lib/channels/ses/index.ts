import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { SaveAttachment } from '#lib/channels/email/normalize-mail.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { confirmSubscription, type GetObject, normalizeSesPayload } from './normalize.ts';
import { parseSesPayload, type SesPayload } from './schema.ts';
import { createSnsVerifier, type FetchCertificate } from './verify.ts';

export type { GetObject } from './normalize.ts';
export type { SesPayload } from './schema.ts';
export { CertificateUnavailableError, type FetchCertificate } from './verify.ts';

export type SesChannelOptions = {
  /** The SNS topics SES publishes received mail to; anything else is refused. */
  topicArns: string[];
  fetchCertificate: FetchCertificate;
  getObject: GetObject;
  saveAttachment: SaveAttachment;
  /** Our own addresses: mail from them is recorded, never acknowledged. */
  ourAddresses: string[];
  /** For confirming subscriptions; the global fetch by default. */
  fetch?: typeof globalThis.fetch;
  /** The clock SNS's signed Timestamp is judged by. */
  now?: () => Date;
};

export type SesChannel = {
  provider: 'ses';
  webhook: ProviderWebhook<SesPayload>;
  /** Confirms a verified SubscriptionConfirmation for an allowed topic; false when refused. */
  confirmSubscription(payload: SesPayload): Promise<boolean>;
};

/**
 * SES inbound mail delivered by a receipt rule through SNS over HTTPS. SNS posts JSON as
 * `text/plain`, so the raw body text is parsed here, never by a body-parser.
 */
export function createSesChannel(options: SesChannelOptions): SesChannel {
  const { topicArns, fetchCertificate, getObject, saveAttachment, ourAddresses } = options;
  // An empty allow-list would accept any topic signed by SNS, including someone else's.
  if (topicArns.length === 0) throw new SwitchboardError('CONFIG_INVALID', 'No SNS topic ARN is configured');
  const fetch = options.fetch ?? globalThis.fetch;
  return {
    provider: 'ses',
    webhook: {
      verify: createSnsVerifier({
        topicArns,
        fetchCertificate,
        ...(options.now ? { now: options.now } : {}),
      }),
      parse: (request) => parseSesPayload(request.rawBody),
      normalize: (payload) =>
        normalizeSesPayload(payload, {
          getObject,
          saveAttachment,
          ourAddresses,
          ...(options.now ? { now: options.now } : {}),
        }),
    },
    confirmSubscription: (payload) => confirmSubscription(payload, fetch, topicArns),
  };
}
