import type { BusinessConfig } from '#lib/domain/business-config.ts';
import {
  applyAgentReply,
  asksSomething,
  type Conversation,
  type ReplyContext,
} from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import { computePromise } from '#lib/domain/promise.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';

/** Re-reads and retries on a lost race this many times; each writer wins within a few. */
export const MAX_WRITES = 8;

/** Saves if nobody changed the conversation since `version`; null when someone did. */
export async function trySave(
  store: ConversationStore,
  conversation: Conversation,
  version: number,
): Promise<Conversation | null> {
  try {
    return await store.saveConversation(conversation, version);
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) return null;
    throw error;
  }
}

/**
 * Read-modify-write of one conversation with optimistic concurrency: `change` is a pure
 * transition; returning the same object means "nothing to write". `read`: the conversation
 * as the caller just read it, used for the first attempt instead of reading it again.
 */
export async function updateConversation(
  store: ConversationStore,
  id: string,
  change: (current: Conversation) => Conversation,
  read?: Conversation,
): Promise<Conversation | null> {
  for (let attempt = 1; attempt <= MAX_WRITES; attempt++) {
    const current = attempt === 1 && read ? read : await store.getConversation(id);
    if (!current) return null;
    const next = change(current);
    if (next === current) return current;
    const saved = await trySave(store, next, current.version);
    if (saved) return saved;
  }
  throw new ConcurrentUpdateError(`conversation ${id}`);
}

/** What a reply needs from the business to open the episode of a message newer than it. */
export function replyContext(business: BusinessConfig): ReplyContext {
  return {
    promiseFor: (receivedAt, channel) => computePromise(business, { receivedAt, channel }),
    quietAfterReplyMs: business.ack.quietMinutesAfterReply * 60_000,
  };
}

/**
 * A stored reply (an agent's, or one a person wrote in the provider's inbox) applied to its
 * conversation at the time it was stored: the waiting episode ends and `reply.sent` is
 * announced (a customer message newer than the reply opens the next episode). Applying it
 * again (a retry, its report) changes nothing and announces nothing: the conversation lists it
 * (appliedReplies; one older than that list: no state, its event under the same id). A follow-up on a resolved
 * conversation is also kept on the contact (one more write, on that path only): the customer's
 * answer to it opens a new conversation, which the quiet time after a reply must reach.
 */
export async function applyStoredReply(
  deps: { store: ConversationStore; business: BusinessConfig },
  message: Message,
  agent: string | null,
  /** Written in the provider's own inbox (an echo), not sent through our API. */
  inbox = false,
): Promise<Conversation | null> {
  const context = replyContext(deps.business);
  const at = new Date(message.createdAt);
  const updated = await updateConversation(deps.store, message.conversationId, (current) =>
    applyAgentReply(
      current,
      {
        messageId: message.id,
        at,
        agent,
        inbox,
        channel: message.channel,
        ...(message.template ? { template: message.template.name } : {}),
        asked: asksSomething(message.text),
      },
      context,
    ),
  );
  if (updated?.status === 'resolved')
    await deps.store.keepLastReply(updated.contact.key, at, asksSomething(message.text));
  return updated;
}
