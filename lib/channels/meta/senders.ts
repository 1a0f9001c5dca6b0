// Meta's senders by our side's id: a WhatsApp phone number id, a Page id, an Instagram account id.
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import {
  createInstagramSender,
  createMessengerSender,
  createWhatsAppCloudSender,
  type MetaSenderOptions,
} from './send.ts';

export type MetaSenderChannel = 'messenger' | 'instagram' | 'whatsapp';

export type MetaSendersOptions = {
  /** Answers every Page not in pageAccessTokens (META_PAGE_ACCESS_TOKEN). */
  pageAccessToken?: string | undefined;
  /** Page id → its token (META_PAGE_ACCESS_TOKENS). */
  pageAccessTokens?: Readonly<Record<string, string>> | undefined;
  instagramAccessToken?: string | undefined;
  instagramAccessTokens?: Readonly<Record<string, string>> | undefined;
  whatsappAccessToken?: string | undefined;
  /** Every number answered from, the default first. */
  whatsappPhoneNumberIds?: readonly string[] | undefined;
};

/** One channel's senders: by our id, and the one for an id not named (none: not answered). */
type ById = { byId: Map<string, ChannelSender>; fallback: ChannelSender | undefined };

export type MetaSenders = {
  /** One sender per channel that can send: for a route without our id (one stored before ids). */
  defaults: Partial<Record<MetaSenderChannel, ChannelSender>>;
  /** The sender from our address with this id, or undefined when we do not answer from it. */
  senderFor(channel: MetaSenderChannel, businessId: string): ChannelSender | undefined;
  /** Whether a channel answers only the ids it names (no sender for any other). */
  answersOnly(channel: MetaSenderChannel): readonly string[] | undefined;
};

function messagingSenders(
  create: (options: MetaSenderOptions) => ChannelSender,
  common: Omit<MetaSenderOptions, 'accessToken'>,
  single: string | undefined,
  map: Readonly<Record<string, string>> | undefined,
): ById {
  const byId = new Map(
    Object.entries(map ?? {}).map(([id, token]) => [id, create({ ...common, accessToken: token })]),
  );
  return { byId, fallback: single ? create({ ...common, accessToken: single }) : undefined };
}

/**
 * A route stored before Messenger's and Instagram's messages named our id (ReplyRoute.businessId)
 * still goes from the Page it came to: the send's `from` is that Page (account) id.
 */
function byFrom({ byId, fallback }: ById, label: string): ChannelSender | undefined {
  if (byId.size === 0) return fallback;
  return {
    reportsSends: true,
    async send(message) {
      const sender = byId.get(message.from) ?? fallback;
      if (!sender) {
        throw new SendError(`${label}: no access token for the Page this customer wrote to`, {
          permanent: true,
        });
      }
      return sender.send(message);
    },
  };
}

/** Every Meta sender the configuration names. */
export function createMetaSenders(
  options: MetaSendersOptions,
  common: Omit<MetaSenderOptions, 'accessToken'>,
): MetaSenders {
  const messenger = messagingSenders(
    createMessengerSender,
    common,
    options.pageAccessToken,
    options.pageAccessTokens,
  );
  const instagram = messagingSenders(
    createInstagramSender,
    common,
    options.instagramAccessToken,
    options.instagramAccessTokens,
  );
  const numbers = options.whatsappAccessToken ? (options.whatsappPhoneNumberIds ?? []) : [];
  const whatsapp: ById = {
    byId: new Map(
      numbers.map((phoneNumberId) => [
        phoneNumberId,
        createWhatsAppCloudSender({
          ...common,
          accessToken: options.whatsappAccessToken ?? '',
          phoneNumberId,
        }),
      ]),
    ),
    fallback: undefined,
  };
  const channels: Record<MetaSenderChannel, ById> = { messenger, instagram, whatsapp };
  const defaults: MetaSenders['defaults'] = {};
  const [first] = numbers;
  const whatsappDefault = first === undefined ? undefined : whatsapp.byId.get(first);
  if (whatsappDefault) defaults.whatsapp = whatsappDefault;
  const messengerDefault = byFrom(messenger, 'Messenger Send API');
  if (messengerDefault) defaults.messenger = messengerDefault;
  const instagramDefault = byFrom(instagram, 'Instagram Send API');
  if (instagramDefault) defaults.instagram = instagramDefault;
  return {
    defaults,
    senderFor: (channel, businessId) => {
      const { byId, fallback } = channels[channel];
      return byId.get(businessId) ?? fallback;
    },
    answersOnly: (channel) => {
      const { byId, fallback } = channels[channel];
      return byId.size > 0 && !fallback ? [...byId.keys()] : undefined;
    },
  };
}
