import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { type HandshakeQuery, type HandshakeResult, metaHandshake } from './handshake.ts';
import { normalizeMetaWebhook } from './normalize.ts';
import { type MetaPayload, parseMetaWebhook } from './schema.ts';
import {
  createInstagramSender,
  createMessengerSender,
  createWhatsAppCloudSender,
  type MetaSenderOptions,
} from './send.ts';
import { verifyMetaSignature } from './verify.ts';

export type { HandshakeQuery, HandshakeResult } from './handshake.ts';
export type { MetaPayload } from './schema.ts';
export { DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION } from './send.ts';

export type MetaChannelOptions = {
  appSecret: string;
  verifyToken: string;
  pageAccessToken?: string;
  /** Page token of the Page linked to the Instagram account (Messenger Platform flavour). */
  instagramAccessToken?: string;
  whatsappAccessToken?: string;
  whatsappPhoneNumberId?: string;
  graphBaseUrl?: string;
  graphVersion?: string;
  /** Our Meta app's id: echoes carrying it are our own sends. */
  appId?: string;
  fetch?: typeof globalThis.fetch;
  /** Per send attempt. */
  timeoutMs?: number;
};

export type MetaSenderChannel = 'messenger' | 'instagram' | 'whatsapp';

export type MetaChannel = {
  provider: 'meta';
  webhook: ProviderWebhook<MetaPayload>;
  /** The GET subscription check; the route reads `hub.mode` etc. literally (dots in the names). */
  handshake(query: HandshakeQuery): HandshakeResult;
  /** One sender per channel whose token is configured. */
  senders: Partial<Record<MetaSenderChannel, ChannelSender>>;
  /**
   * Whether we send from the business address with this provider id: on WhatsApp only the
   * configured number (WHATSAPP_PHONE_NUMBER_ID), not the account's others.
   */
  sendsFrom(channel: string, businessId: string): boolean;
  appId: string | undefined;
};

/** Meta's webhook (Messenger, Instagram, WhatsApp Cloud API), its handshake and its senders. */
export function createMetaChannel(options: MetaChannelOptions): MetaChannel {
  const { appSecret, verifyToken } = options;
  // Fail at start-up, not on the first webhook.
  if (!appSecret) throw new SwitchboardError('CONFIG_INVALID', 'Meta appSecret is required');
  const common: Omit<MetaSenderOptions, 'accessToken'> = {
    graphBaseUrl: options.graphBaseUrl,
    graphVersion: options.graphVersion,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  };
  const senders: MetaChannel['senders'] = {};
  if (options.pageAccessToken) {
    senders.messenger = createMessengerSender({ ...common, accessToken: options.pageAccessToken });
  }
  if (options.instagramAccessToken) {
    senders.instagram = createInstagramSender({ ...common, accessToken: options.instagramAccessToken });
  }
  if (options.whatsappAccessToken) {
    if (!options.whatsappPhoneNumberId) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        'whatsappPhoneNumberId is required with whatsappAccessToken',
      );
    }
    senders.whatsapp = createWhatsAppCloudSender({
      ...common,
      accessToken: options.whatsappAccessToken,
      phoneNumberId: options.whatsappPhoneNumberId,
    });
  }
  return {
    provider: 'meta',
    webhook: {
      verify: (request) => verifyMetaSignature(request, appSecret),
      parse: (request) => parseMetaWebhook(request.rawBody),
      normalize: (payload) =>
        normalizeMetaWebhook(payload, { whatsappPhoneNumberId: options.whatsappPhoneNumberId }),
    },
    handshake: (query) => metaHandshake(query, verifyToken),
    senders,
    // Without a number of our own nothing is another's (as normalizing sees it).
    sendsFrom: (channel, businessId) =>
      channel !== 'whatsapp' ||
      !options.whatsappPhoneNumberId ||
      businessId === options.whatsappPhoneNumberId,
    appId: options.appId,
  };
}
