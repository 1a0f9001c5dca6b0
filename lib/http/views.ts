import type { Conversation } from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';

/** The public Conversation of the agents' API: the contract, and nothing internal. */
export function conversationView(conversation: Conversation) {
  const ack = conversation.ack;
  return {
    id: conversation.id,
    status: conversation.status,
    contact: conversation.contact,
    channel: conversation.channel,
    openedAt: conversation.openedAt,
    lastMessageAt: conversation.lastMessageAt,
    replyBy: conversation.replyBy,
    ack: ack
      ? {
          state: ack.state,
          ...(ack.reason ? { reason: ack.reason } : {}),
          ...(ack.sentAt ? { sentAt: ack.sentAt } : {}),
        }
      : null,
    ...(conversation.firstReplyAt ? { firstReplyAt: conversation.firstReplyAt } : {}),
  };
}

/** The public Message of the agents' API. */
export function messageView(message: Message) {
  return {
    id: message.id,
    conversationId: message.conversationId,
    direction: message.direction,
    kind: message.kind,
    channel: message.channel,
    provider: message.provider,
    providerMessageId: message.providerMessageId,
    from: message.from,
    to: message.to,
    text: message.text,
    media: message.media,
    createdAt: message.createdAt,
    ...(message.delivery ? { delivery: message.delivery } : {}),
  };
}
