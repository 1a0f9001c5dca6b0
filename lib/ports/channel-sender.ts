import type { Channel } from '#lib/domain/channel.ts';

export type OutboundText = {
  channel: Channel;
  provider: string;
  /** The customer's address on the channel (E.164, whatsapp:+…, PSID, email). */
  to: string;
  /** Our address the customer wrote to. */
  from: string;
  text: string;
  subject?: string | null;
  /** Our stable id of the outbound message: lets providers that support it drop duplicates. */
  idempotencyKey: string;
  /**
   * Sent by Switchboard itself (an acknowledgement, a late notice), not written by a person: an
   * email then says so (RFC 3834 `Auto-Submitted: auto-replied`), so that other responders stay quiet.
   */
  automatic?: boolean;
  /**
   * The person who signs the text (the ack's signer, the replying agent): an email shows it as
   * the From display name, the configured sending address unchanged.
   */
  senderName?: string;
  /**
   * A person's reply sent after the 24-hour window, within Meta's 7 days for a human agent:
   * Messenger and Instagram tag it HUMAN_AGENT. Never set for an automatic message.
   */
  humanAgent?: boolean;
  /**
   * WhatsApp after the 24-hour window: sent as this approved template (Meta's name and language
   * code, or Twilio's ContentSid as `name`) with these body parameters, `text` not sent as such
   * (it is what we store of it). Only a person's reply goes so.
   */
  template?: { name: string; language?: string; parameters: string[] };
  /** Email: the customer's thread, so that the answer goes "Re:" their mail (In-Reply-To, References). */
  thread?: { subject: string; messageId?: string; references: string[] };
};

export type SendReceipt = { providerMessageId: string | null; status: string };

/** A sent message read back from its provider (ChannelSender.fetchSent). */
export type SentRead = { text: string; at: Date; channel: Channel; to?: string; from: string | null };

/** Sends text to a customer on one channel; throws SendError (permanent or not). */
export interface ChannelSender {
  send(message: OutboundText): Promise<SendReceipt>;
  /**
   * After an uncertain send (SendError.uncertain: no answer came after the request was written),
   * the messages the provider took that could be it: from our address to the customer's, with
   * this text, created since `since` (the try's start), oldest first; empty when it has none.
   * The caller adopts the first that is not already on record as another of ours
   * (lib/use-cases/uncertain-sends.ts). Throws (SendError) when it cannot tell. Only providers
   * that can be asked have it (Twilio: its Messages list); for the others the next try waits,
   * then sends again.
   */
  find?(message: OutboundText, since: Date): Promise<SendReceipt[]>;
  /**
   * A message the provider reported taking under our id (Twilio's status callback, its URL
   * naming our `idempotencyKey`: ConversationStore.reportedSend) read back by its provider id:
   * its text, when it was created, and where it went as the provider says (its channel, `to`,
   * and `from` when known): the customer's address then, which may not be the route's now; null
   * when the provider has no such message of ours. For a try its worker did not store (it died
   * first): reported-try.ts. Throws (SendError) when it cannot tell.
   */
  fetchSent?(providerMessageId: string): Promise<SentRead | null>;
  /**
   * The provider reports each message it took by webhook, naming our `idempotencyKey` (Meta:
   * Messenger's and Instagram's echo `metadata`, WhatsApp's status `biz_opaque_callback_data`):
   * what it reported (ConversationStore.reportedSend) answers the lookup of an uncertain send.
   */
  reportsSends?: boolean;
  /**
   * This deployment cannot use the provider (its configuration is incomplete:
   * AppConfig.misconfiguredChannels): every send and lookup is refused as ours until a deployment
   * with the configuration completed runs. An ack, a late notice and the lookup of an
   * uncertain try then wait without spending a try (send-automatic.ts, ack-lookups.ts): no
   * provider was asked.
   */
  switchedOff?: boolean;
}

/**
 * Finds the sender for a provider + channel, or undefined when we cannot send there. With
 * `businessId` (ReplyRoute.businessId: the provider's id of our address the customer wrote to),
 * undefined too when we do not send from that address (another WhatsApp number of the account).
 */
export type SenderRegistry = (
  provider: string,
  channel: Channel,
  businessId?: string | undefined,
) => ChannelSender | undefined;
