import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';

/**
 * The provider's message for a try of ours whose outcome we do not know (SendError.uncertain),
 * or null when the provider has none: the oldest it lists for `message` since `since` that is
 * not already on record as another of our messages. An agent's earlier reply with the same
 * words (or an ack) is listed too; adopting it would record a message that never went as sent,
 * under another's SID. One alias read per candidate, and only after an uncertain try. Throws
 * the sender's SendError when the provider cannot tell.
 */
export async function findUncertainSend(
  store: Pick<ConversationStore, 'findByProviderId'>,
  sender: ChannelSender & Required<Pick<ChannelSender, 'find'>>,
  message: OutboundText,
  since: Date,
  messageId: string,
): Promise<SendReceipt | null> {
  for (const candidate of await sender.find(message, since)) {
    if (!candidate.providerMessageId) continue;
    const known = await store.findByProviderId(message.provider, candidate.providerMessageId);
    // Ours under this id already (a crash after its alias): it is this try's message.
    if (!known || known.id === messageId) return candidate;
  }
  return null;
}

/** Whether the provider can be asked for a message it may have taken (ChannelSender.find). */
export function canLookUp(
  sender: ChannelSender,
): sender is ChannelSender & Required<Pick<ChannelSender, 'find'>> {
  return sender.find !== undefined;
}
