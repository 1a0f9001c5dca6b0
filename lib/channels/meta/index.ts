import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { type HandshakeQuery, type HandshakeResult, metaHandshake } from './handshake.ts';
import { normalizeMetaWebhook } from './normalize.ts';
import { type MetaPayload, parseMetaWebhook } from './schema.ts';
import type { MetaSenderOptions } from './send.ts';
import { createMetaSenders, type MetaSenderChannel } from './senders.ts';
import { verifyMetaSignature } from './verify.ts';

export type { HandshakeQuery, HandshakeResult } from './handshake.ts';
export type { MetaPayload } from './schema.ts';
export { DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION } from './send.ts';
export type { MetaSenderChannel } from './senders.ts';

export type MetaChannelOptions = {
  appSecret: string;
  verifyToken: string;
  /** Answers every Page not in pageAccessTokens. */
  pageAccessToken?: string;
  /** Page id → its token: each Page answered with its own. */
  pageAccessTokens?: Record<string, string>;
  /** Page token of the Page linked to the Instagram account (Messenger Platform flavour). */
  instagramAccessToken?: string;
  /** Instagram account id → the token of its linked Page. */
  instagramAccessTokens?: Record<string, string>;
  whatsappAccessToken?: string;
  /** The number answered from by default (WHATSAPP_PHONE_NUMBER_ID). */
  whatsappPhoneNumberId?: string;
  /** More numbers of the account answered from, with the same token. */
  whatsappPhoneNumberIds?: string[];
  graphBaseUrl?: string;
  graphVersion?: string;
  /** Our Meta app's id: echoes carrying it are our own sends. */
  appId?: string;
  fetch?: typeof globalThis.fetch;
  /** Per send attempt. */
  timeoutMs?: number;
};

export type MetaChannel = {
  provider: 'meta';
  webhook: ProviderWebhook<MetaPayload>;
  /** The GET subscription check; the route reads `hub.mode` etc. literally (dots in the names). */
  handshake(query: HandshakeQuery): HandshakeResult;
  /** One sender per channel whose token is configured (for a route that names no id of ours). */
  senders: Partial<Record<MetaSenderChannel, ChannelSender>>;
  /**
   * The sender from our address with this provider id (ReplyRoute.businessId): on WhatsApp
   * the configured numbers only, not the account's others; on Messenger (Instagram) the Page
   * (account) with its own token, else META_PAGE_ACCESS_TOKEN's; undefined: we do not send from it.
   */
  senderFor(channel: MetaSenderChannel, businessId: string): ChannelSender | undefined;
  /** Whether we send from the business address with this provider id (senderFor's). */
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
  const whatsappPhoneNumberIds = [
    ...new Set([
      ...(options.whatsappPhoneNumberId ? [options.whatsappPhoneNumberId] : []),
      ...(options.whatsappPhoneNumberIds ?? []),
    ]),
  ];
  if (options.whatsappAccessToken && whatsappPhoneNumberIds.length === 0) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'whatsappPhoneNumberId is required with whatsappAccessToken',
    );
  }
  const senders = createMetaSenders({ ...options, whatsappPhoneNumberIds }, common);
  const isMetaChannel = (channel: string): channel is MetaSenderChannel =>
    channel === 'messenger' || channel === 'instagram' || channel === 'whatsapp';
  // Which of our ids are answered (none named: every one, as normalizing sees it).
  const normalizeOptions = {
    whatsappPhoneNumberIds,
    answersOnly: {
      messenger: senders.answersOnly('messenger'),
      instagram: senders.answersOnly('instagram'),
    },
  };
  return {
    provider: 'meta',
    webhook: {
      verify: (request) => verifyMetaSignature(request, appSecret),
      parse: (request) => parseMetaWebhook(request.rawBody),
      normalize: (payload) => normalizeMetaWebhook(payload, normalizeOptions),
    },
    handshake: (query) => metaHandshake(query, verifyToken),
    senders: senders.defaults,
    senderFor: (channel, businessId) => senders.senderFor(channel, businessId),
    // Without a sender on the channel nothing is another's (as normalizing sees it).
    sendsFrom: (channel, businessId) =>
      !isMetaChannel(channel) ||
      !senders.defaults[channel] ||
      senders.senderFor(channel, businessId) !== undefined,
    appId: options.appId,
  };
}
