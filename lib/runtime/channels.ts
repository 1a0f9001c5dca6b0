import { createMetaChannel } from '#lib/channels/meta/index.ts';
import { createTwilioChannel } from '#lib/channels/twilio/index.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import { voiceSmsAllowed } from '#lib/domain/ack-policy.ts';
import type { Channel } from '#lib/domain/channel.ts';
import type { Providers } from '#lib/http/app.ts';
import type { ChannelSender, SenderRegistry } from '#lib/ports/channel-sender.ts';

export type ChannelWiring = {
  providers: Providers;
  senders: SenderRegistry;
  /** Whether an answer can go to this customer on this provider + channel. */
  canSendOn: (provider: string, channel: Channel, customer: string) => boolean;
  /** App ids whose echoes are our own sends. */
  ourAppIds: string[];
};

/**
 * The channel registry: one entry per provider (adding a provider = one folder under
 * lib/channels and one entry here). `outbox` replaces every provider sender locally.
 */
export function wireChannels(
  config: AppConfig,
  options: { outbox?: ChannelSender; fetch?: typeof fetch },
): ChannelWiring {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  const twilio = createTwilioChannel({
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    apiBaseUrl: config.twilio.apiBaseUrl,
    ...fetchOption,
  });
  const meta = config.meta
    ? createMetaChannel({
        appSecret: config.meta.appSecret,
        verifyToken: config.meta.verifyToken,
        graphBaseUrl: config.meta.graphBaseUrl,
        ...(config.meta.appId ? { appId: config.meta.appId } : {}),
        ...(config.meta.pageAccessToken ? { pageAccessToken: config.meta.pageAccessToken } : {}),
        ...(config.meta.instagramAccessToken
          ? { instagramAccessToken: config.meta.instagramAccessToken }
          : {}),
        ...(config.meta.whatsappAccessToken && config.meta.whatsappPhoneNumberId
          ? {
              whatsappAccessToken: config.meta.whatsappAccessToken,
              whatsappPhoneNumberId: config.meta.whatsappPhoneNumberId,
            }
          : {}),
        ...fetchOption,
      })
    : null;

  // provider → channel → sender. A call is answered by SMS from the number the caller dialled.
  const registry: Record<string, Partial<Record<Channel, ChannelSender>>> = {
    twilio: { sms: twilio.sender, mms: twilio.sender, whatsapp: twilio.sender, voice: twilio.sender },
    meta: meta ? { ...meta.senders } : {},
  };
  const senders: SenderRegistry = (provider, channel) => {
    const sender = registry[provider]?.[channel];
    if (!sender) return undefined;
    return options.outbox ?? sender;
  };
  const canSendOn = (provider: string, channel: Channel, customer: string) => {
    if (!senders(provider, channel)) return false;
    return channel !== 'voice' || voiceSmsAllowed(config.business.ack.voiceSms, customer);
  };
  return {
    providers: { twilio, meta },
    senders,
    canSendOn,
    ourAppIds: config.meta?.appId ? [config.meta.appId] : [],
  };
}
