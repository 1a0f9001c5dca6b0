// A try of an ack or late notice its worker did not store (it died after the provider took it),
// put on record from the provider's report of it.

import { type Conversation, type Slot, sendChannelOf } from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import type { SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';

/**
 * The message `messageId` of an ack or notice that the provider reported taking (Twilio's status
 * callback names it: ConversationStore.reportedSend) though no worker stored it: read back from
 * the provider by its id (ChannelSender.fetchSent: the text the customer got, when), stored
 * under `messageId` with its provider id, as its worker would have (an earlier store is kept).
 * Null when nothing was reported or the provider has no such message. Stamped no earlier than
 * `notBefore` (the job's requestedAt: after the message it answers; Twilio's time is whole
 * seconds). Throws the sender's SendError when the provider cannot tell now: the job is tried
 * again. Reads: the report (one item); with one, the provider, then one write.
 */
export async function reportedTry(
  deps: { store: ConversationStore; senders: SenderRegistry },
  conversation: Conversation,
  slot: Slot,
  messageId: string,
  notBefore: string,
): Promise<Message | null> {
  const reported = await deps.store.reportedSend(messageId);
  const { route } = conversation;
  const channel = sendChannelOf(route);
  if (!reported || !channel || reported.provider !== route.provider) return null;
  // The registry is keyed by the route's channel: a call's SMS is sent by the voice entry.
  const sender = deps.senders(route.provider, route.channel, route.businessId);
  const read = sender?.fetchSent ? await sender.fetchSent(reported.providerMessageId) : null;
  if (!read) return null;
  const at = Math.max(read.at.getTime(), Date.parse(notBefore) + 1 || 0);
  const { message } = await deps.store.putMessage({
    id: messageId,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: slot,
    channel,
    provider: reported.provider,
    providerMessageId: reported.providerMessageId,
    from: route.business,
    to: route.customer,
    text: read.text,
    media: [],
    createdAt: new Date(at).toISOString(),
    contactKey: conversation.contact.key,
  });
  return message;
}
