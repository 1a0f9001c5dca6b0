import type { MailStore } from '#lib/adapters/mail-store.ts';
import { createSesSender, type SesEmailClient } from '#lib/channels/email/send-ses.ts';
import { createMailgunChannel } from '#lib/channels/mailgun/index.ts';
import { createMetaChannel } from '#lib/channels/meta/index.ts';
import { createSesChannel } from '#lib/channels/ses/index.ts';
import { createTwilioChannel } from '#lib/channels/twilio/index.ts';
import type { AppConfig, MisconfiguredChannel } from '#lib/config/app-config.ts';
import { voiceSmsAllowed } from '#lib/domain/ack-policy.ts';
import type { Channel } from '#lib/domain/channel.ts';
import { waitingChannelKey } from '#lib/domain/conversation.ts';
import type { Providers } from '#lib/http/app.ts';
import type { ChannelSender, SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { SendError } from '#lib/ports/errors.ts';
import { WaitingChannels } from '#lib/use-cases/sweep-waiting.ts';

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
  options: {
    outbox?: ChannelSender;
    fetch?: typeof fetch;
    mailStore: MailStore;
    clock: Clock;
    emailClient?: SesEmailClient;
  },
): ChannelWiring {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  const twilio = config.twilio
    ? createTwilioChannel({
        accountSid: config.twilio.accountSid,
        authToken: config.twilio.authToken,
        secondaryAuthToken: config.twilio.secondaryAuthToken,
        webhookSharedKeys: config.twilio.webhookSharedKeys,
        apiBaseUrl: config.twilio.apiBaseUrl,
        statusCallbackUrl: `${config.publicUrl}/webhooks/twilio/status`,
        clock: options.clock,
        ...fetchOption,
      })
    : null;
  const meta = config.meta
    ? createMetaChannel({
        appSecret: config.meta.appSecret,
        verifyToken: config.meta.verifyToken,
        graphBaseUrl: config.meta.graphBaseUrl,
        ...(config.meta.appId ? { appId: config.meta.appId } : {}),
        ...(config.meta.pageAccessToken ? { pageAccessToken: config.meta.pageAccessToken } : {}),
        pageAccessTokens: config.meta.pageAccessTokens,
        ...(config.meta.instagramAccessToken
          ? { instagramAccessToken: config.meta.instagramAccessToken }
          : {}),
        instagramAccessTokens: config.meta.instagramAccessTokens,
        ...(config.meta.whatsappAccessToken && config.meta.whatsappPhoneNumberIds.length > 0
          ? {
              whatsappAccessToken: config.meta.whatsappAccessToken,
              whatsappPhoneNumberIds: config.meta.whatsappPhoneNumberIds,
            }
          : {}),
        ...fetchOption,
      })
    : null;

  const ourAddresses = ourEmailAddresses(config.email.fromAddress);
  const mailDeps = {
    saveAttachment: (name: string, type: string, bytes: Uint8Array) =>
      options.mailStore.saveAttachment(name, type, bytes),
    ourAddresses,
  };
  const ses =
    config.email.sesTopicArns.length > 0
      ? createSesChannel({
          topicArns: config.email.sesTopicArns,
          fetchCertificate: (url) => fetchCertificate(url, options.fetch ?? fetch),
          now: () => options.clock.now(),
          getObject: (bucket, key) => options.mailStore.getObject(bucket, key),
          ...mailDeps,
          ...fetchOption,
        })
      : null;
  const mailgun = config.mailgun
    ? createMailgunChannel({
        signingKey: config.mailgun.signingKey,
        now: () => options.clock.now(),
        ...mailDeps,
      })
    : null;
  // Email acknowledgements go out through SES, whichever provider brought the mail in; with
  // mail received but no address to send from (misconfiguredChannels 'email'), a switched-off one.
  const email =
    options.emailClient && config.email.fromAddress
      ? createSesSender({
          client: options.emailClient,
          from: config.email.fromAddress,
          ...(config.email.configurationSet ? { configurationSetName: config.email.configurationSet } : {}),
        })
      : switchedOffSenders(config, 'email').email;

  // provider → channel → sender. A call is answered by SMS from the number the caller dialled.
  const registry: Record<string, Partial<Record<Channel, ChannelSender>>> = {
    twilio: twilio?.sender
      ? { sms: twilio.sender, mms: twilio.sender, whatsapp: twilio.sender, voice: twilio.sender }
      : switchedOffSenders(config, 'twilio'),
    meta: { ...switchedOffSenders(config, 'meta'), ...meta?.senders },
    ses: { email },
    mailgun: { email },
  };
  const senders: SenderRegistry = (provider, channel, businessId) => {
    const entries = registry[provider];
    if (!entries || !(channel in entries)) return undefined;
    let sender = entries[channel];
    // From the number, Page or account the customer wrote to (none: not one we send from).
    // Checked before the outbox stands in, so that npm start refuses what AWS would.
    if (businessId !== undefined && provider === 'meta' && meta && !sender?.switchedOff) {
      if (!meta.sendsFrom(channel, businessId)) return undefined;
      if (channel === 'messenger' || channel === 'instagram' || channel === 'whatsapp')
        sender = meta.senderFor(channel, businessId) ?? sender;
    }
    // Locally the outbox stands in even where no provider credentials are configured.
    return options.outbox ?? sender;
  };
  const canSendOn = (provider: string, channel: Channel, customer: string) => {
    if (!senders(provider, channel)) return false;
    return channel !== 'voice' || voiceSmsAllowed(config.business.ack.voiceSms, customer);
  };
  return {
    providers: { twilio, meta, ses, mailgun },
    senders,
    canSendOn,
    ourAppIds: config.meta?.appId ? [config.meta.appId] : [],
  };
}

/**
 * Senders for the channels a production function switched off for their configuration by half
 * (AppConfig.misconfiguredChannels; Twilio without its account SID too, whose webhooks stay
 * up; Messenger or Instagram without its token, AppConfig.tokenlessChannels): they say so (ChannelSender.switchedOff), and an ack or a late notice then waits without
 * spending a try (pending, CHANNEL_MISCONFIGURED, set aside until a sweeper can send it: waitingChannels)
 * until a deployment with the completed configuration sends it; so does the lookup of an
 * uncertain try (not taken as "none"). Each send is refused as ours (SendError `ours`) should
 * anything call it. Without them the
 * worker found no sender and skipped it for good (channel-cannot-send), as for a channel never
 * configured.
 */
function switchedOffSenders(
  config: AppConfig,
  provider: 'twilio' | 'meta' | 'email',
): Partial<Record<Channel, ChannelSender>> {
  const refused = (channel: Channel) =>
    new SendError(`${channel} is switched off in this deployment: its configuration is incomplete`, {
      permanent: false,
      ours: true,
    });
  // Nor can it be asked whether it took an earlier try that may have gone (an uncertain send):
  // the lookup waits and asks again (find throws: "cannot tell now"), instead of taking the
  // provider for one that has none and skipping the ack or notice the customer may have got.
  const off = (channel: Channel): ChannelSender => ({
    switchedOff: true,
    send: async () => {
      throw refused(channel);
    },
    find: async () => {
      throw refused(channel);
    },
  });
  const senders: Partial<Record<Channel, ChannelSender>> = {};
  // Email keeps its webhooks (SES and Mailgun): its mail is recorded, and its acks wait.
  const theirs: Record<
    'twilio' | 'meta' | 'email',
    Partial<Record<MisconfiguredChannel['channel'], Channel[]>>
  > = {
    twilio: {
      twilio: ['sms', 'mms', 'whatsapp', 'voice'],
      'twilio-sending': ['sms', 'mms', 'whatsapp', 'voice'],
    },
    meta: { meta: ['messenger', 'instagram', 'whatsapp'], whatsapp: ['whatsapp'] },
    email: { email: ['email'] },
  };
  for (const { channel } of config.misconfiguredChannels) {
    for (const name of theirs[provider][channel] ?? []) senders[name] = off(name);
  }
  // Messenger or Instagram without its token: its messages are recorded (the webhook is up).
  if (provider === 'meta')
    for (const { channel } of config.tokenlessChannels) senders[channel] = off(channel);
  return senders;
}

/**
 * Every sender an ack or notice can wait for (switchedOffSenders' entries, by provider and the
 * route's channel), and whether this deployment has it switched off: the sweeper reads each
 * one's waits (SweepDeps.waitingChannels), those of a sender it can use to release them, whether
 * or not an earlier deployment switched it off.
 */
export function waitingChannels(senders: SenderRegistry): WaitingChannels {
  const pairs: ReadonlyArray<readonly [string, Channel]> = [
    ['twilio', 'sms'],
    ['twilio', 'mms'],
    ['twilio', 'whatsapp'],
    ['twilio', 'voice'],
    ['meta', 'messenger'],
    ['meta', 'instagram'],
    ['meta', 'whatsapp'],
    ['ses', 'email'],
    ['mailgun', 'email'],
  ];
  const off = new Set(
    pairs
      .filter(([provider, channel]) => senders(provider, channel)?.switchedOff === true)
      .map(([provider, channel]) => waitingChannelKey(provider, channel)),
  );
  return new WaitingChannels(
    pairs.map(([provider, channel]) => waitingChannelKey(provider, channel)),
    (channel) => off.has(channel),
  );
}

/** The bare address of "Name <address>" (or the address itself), lower-cased. */
function ourEmailAddresses(from: string | undefined): string[] {
  if (!from) return [];
  const match = /<([^>]+)>/.exec(from);
  return [(match?.[1] ?? from).trim().toLowerCase()];
}

/** Downloads an SNS signing certificate (the verifier checked its URL is SNS's own). */
async function fetchCertificate(url: string, fetcher: typeof fetch): Promise<string> {
  const response = await fetcher(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`certificate download answered ${response.status}`);
  return response.text();
}
