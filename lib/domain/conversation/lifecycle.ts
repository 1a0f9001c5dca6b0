// The conversation as a whole: the customer's address changed, resolved, reopened, assigned.

import type { Channel } from '../channel.ts';
import { withEvent } from '../events.ts';
import { endPendingJobs } from './ack-settle.ts';
import type { Conversation } from './schema.ts';

/**
 * The customer's address on a channel changed (a WhatsApp user's new BSUID, Meta's
 * `user_changed_user_id`; their new number, `user_changed_number`): an open conversation
 * answered at the old one through that provider is answered at the new one, its ack, late notice
 * and replies alike. The same object when it is not answered there.
 */
export function readdressed(
  conversation: Conversation,
  change: { channel: Channel; provider: string; from: string; to: string },
): Conversation {
  const { route } = conversation;
  if (
    conversation.status !== 'open' ||
    route.channel !== change.channel ||
    route.provider !== change.provider ||
    route.customer !== change.from
  )
    return conversation;
  return { ...conversation, route: { ...route, customer: change.to } };
}

/**
 * A new number's contact (`key`) takes the open conversation over (a changed number): named on
 * it, so that its resolve and reopen reach that contact's pointer too. The same object when it
 * is not open or already names it.
 */
export function takenOver(conversation: Conversation, key: string): Conversation {
  const takers = conversation.takenOverBy ?? [];
  if (conversation.status !== 'open' || conversation.contact.key === key || takers.includes(key))
    return conversation;
  return { ...conversation, takenOverBy: [...takers, key] };
}

/**
 * Resolves the conversation (idempotent): pending automatic messages are no longer needed.
 * `reason` 'thanks': by itself, the customer only thanked us for our answer (thanks-resolve.ts).
 * Any other resolve drops a thanks marker in the same write (one an older release's reopen kept):
 * resolved so, the customer's next message moves to a new conversation, as after any agent's
 * resolve, never reopening this one as resolved by itself (reopenedByMessage).
 */
export function resolveConversation(
  conversation: Conversation,
  at: Date,
  agent: string | null,
  reason?: 'thanks',
): Conversation {
  // Resolved by the customer's thanks a moment before (the agent's tab from before them): the
  // marker goes all the same, so a report that the answer failed leaves it as a person resolved it.
  if (conversation.status === 'resolved' && (reason === 'thanks' || !conversation.thanksResolved))
    return conversation;
  if (conversation.status === 'resolved') {
    const { thanksResolved: _marker, ...byHand } = conversation;
    return byHand;
  }
  if (conversation.thanksResolved && reason !== 'thanks') {
    const { thanksResolved: _marker, ...plain } = conversation;
    return resolveConversation(plain, at, agent, reason);
  }
  // A pending one is skipped (`ack.skipped`, resolved), unless its last try may have gone
  // (endPendingJobs). One a worker is sending stays its worker's to settle: sent, or, if the
  // worker died, skipped by the next claim, which finds the conversation resolved
  // (ackNoLongerNeeded). Marking it skipped here would announce a skip for an ack that then
  // goes out.
  const resolved = endPendingJobs(
    { ...conversation, status: 'resolved', resolvedAt: at.toISOString(), awaitingSince: null },
    'resolved',
    at,
  );
  return withEvent(resolved, 'conversation.resolved', at.toISOString(), at, {
    agent,
    episode: conversation.episode,
    ...(reason ? { reason } : {}),
  });
}

/** Opens a resolved conversation again (idempotent). */
export function reopenConversation(conversation: Conversation, at: Date, agent: string | null): Conversation {
  if (conversation.status === 'open') return conversation;
  const { resolvedAt: _resolved, thanksResolved: _byItself, ...rest } = conversation;
  return withEvent({ ...rest, status: 'open' }, 'conversation.reopened', at.toISOString(), at, { agent });
}

/** Assigns the conversation to a person (null: unassigned); a no-op when nothing changes. */
export function assignConversation(
  conversation: Conversation,
  assignee: string | null,
  at: Date,
  agent: string | null,
): Conversation {
  if (conversation.assignee === assignee) return conversation;
  return withEvent(
    { ...conversation, assignee },
    'conversation.assigned',
    `${at.toISOString()}:${assignee ?? ''}`,
    at,
    {
      assignee,
      agent,
    },
  );
}
