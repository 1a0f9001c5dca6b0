import { applyAgentReply, type Conversation } from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
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

/**
 * A stored reply (an agent's, or one a person wrote in the provider's inbox) applied to its
 * conversation at the time it was stored: the waiting episode ends and `reply.sent` is
 * announced. Applying it again (a retry) changes no state, and its event keeps its id.
 */
export function applyStoredReply(
  store: ConversationStore,
  message: Message,
  agent: string | null,
): Promise<Conversation | null> {
  return updateConversation(store, message.conversationId, (current) =>
    applyAgentReply(current, {
      messageId: message.id,
      at: new Date(message.createdAt),
      agent,
      channel: message.channel,
    }),
  );
}
