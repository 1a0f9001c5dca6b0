import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';

/**
 * The provider's message for a try of ours whose outcome we do not know (SendError.uncertain),
 * or null when the provider has none: what it reported of `messageId` by webhook (Meta's echo or
 * status, ChannelSender.reportsSends), else the oldest it lists for `message` since `since` that
 * is not already on record as another of our messages. An agent's earlier reply with the same
 * words (or an ack) is listed too; adopting it would record a message that never went as sent,
 * under another's SID. One alias read per candidate, and only after an uncertain try. Throws
 * the sender's SendError when the provider cannot tell.
 */
export async function findUncertainSend(
  store: Pick<ConversationStore, 'findByProviderId' | 'reportedSend'>,
  sender: ChannelSender,
  message: OutboundText,
  since: Date,
  messageId: string,
): Promise<SendReceipt | null> {
  const candidates: SendReceipt[] = [];
  if (sender.reportsSends) {
    const reported = await store.reportedSend(messageId);
    if (reported?.provider === message.provider)
      candidates.push({ providerMessageId: reported.providerMessageId, status: 'sent' });
  }
  if (sender.find) candidates.push(...(await sender.find(message, since)));
  for (const candidate of candidates) {
    if (!candidate.providerMessageId) continue;
    const known = await store.findByProviderId(message.provider, candidate.providerMessageId);
    // Ours under this id already (a crash after its alias): it is this try's message.
    if (!known || known.id === messageId) return candidate;
  }
  return null;
}

/**
 * Whether the provider can be asked for a message it may have taken (ChannelSender.find), or
 * tells us of what it took (ChannelSender.reportsSends).
 */
export function canLookUp(sender: ChannelSender): boolean {
  return sender.find !== undefined || sender.reportsSends === true;
}
