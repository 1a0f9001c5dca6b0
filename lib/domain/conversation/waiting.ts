// Whether the episode owes the customer its promise, and whether a customer waits for a person.

import { promisedNobody } from '../ack-policy.ts';
import type { Conversation } from './schema.ts';

/**
 * Whether the current episode owes the customer the reply it promised: not when nobody was
 * promised anything, a customer who opted out or an episode only a message not to be answered
 * opened (STOP, HELP, an auto-reply, a list post). Neither a breach nor a promise kept is
 * counted for those.
 */
export function promiseOwed(conversation: Conversation): boolean {
  const { ack } = conversation;
  const current = ack?.episode === conversation.episode ? ack : null;
  // Nobody was promised anything: a customer who opted out, or an episode only a message not to
  // be answered opened (STOP, an auto-reply, a list post). Except a caller's: the greeting spoke
  // the promise, and STOP stops our texts, not our word.
  const spoken = current?.state === 'sent' && current.reason === 'spoken-on-call';
  if (conversation.optedOut && !spoken) return false;
  const skipped = current?.state === 'skipped' ? current.reason : undefined;
  // (opted out before this conversation began, the STOP recorded in an earlier one; not when a
  // START was recorded here since)
  return !((skipped === 'opted-out' && conversation.optedOut !== false) || promisedNobody(skipped));
}

/**
 * Whether a customer waits for a person here: an episode is open, and not one only a message
 * nobody is to answer began (their mailbox's out-of-office reply, HELP, a list post) with no
 * question of theirs since (one is usually acknowledged late, the skip gone; one that could not
 * be, from a customer who opted out meanwhile, is told by `questionEpisode`). A customer who
 * opted out and asked something waits too, though no promise was made to them.
 */
export function customerWaiting(conversation: Conversation): boolean {
  if (conversation.status !== 'open' || conversation.awaitingSince === null) return false;
  const { ack } = conversation;
  const skipped = ack?.episode === conversation.episode && ack.state === 'skipped' ? ack.reason : undefined;
  if (!promisedNobody(skipped)) return true;
  return conversation.questionEpisode === conversation.episode;
}

/**
 * What the open episode waits for, as the agents see it: `reply`, a customer waits for a person
 * (by `replyBy`); `no-reply-needed`, only messages nobody is to answer came since our last reply
 * (an out-of-office reply, a list post, a bounce, a keyword): recorded and shown, but
 * not among those waiting, until a question of the customer's joins them; null, nothing (answered,
 * or resolved).
 */
export type Awaiting = 'reply' | 'no-reply-needed' | null;

export function awaitingOf(conversation: Conversation): Awaiting {
  if (conversation.status !== 'open' || conversation.awaitingSince === null) return null;
  return customerWaiting(conversation) ? 'reply' : 'no-reply-needed';
}
