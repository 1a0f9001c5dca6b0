// A customer's STOP or START applied to the conversation, said here or under their other key.

import type { Message } from '../message.ts';
import { endPendingJobs } from './ack-settle.ts';
import type { InboundContext } from './inbound-context.ts';
import type { Conversation } from './schema.ts';

/**
 * A STOP stops what was still to be sent in this conversation (a pending acknowledgement or
 * late notice, requested before it), and what the sweeper would start later; a START allows
 * them again. One already being sent (claimed by the worker) is past stopping. Only the
 * customer's latest word counts: a STOP or START received before the one applied here (a
 * webhook the worker recorded late) changes nothing, as on the contact (setConsent).
 */
function withConsent(conversation: Conversation, message: Message, context: InboundContext): Conversation {
  if (!context.consent) return conversation;
  if (conversation.consentAt && Date.parse(message.createdAt) < Date.parse(conversation.consentAt))
    return conversation;
  const consentAt = message.createdAt;
  if (context.consent === 'opt-in') return { ...conversation, optedOut: false, consentAt };
  return endPendingJobs({ ...conversation, optedOut: true, consentAt }, 'opted-out', context.now);
}

/**
 * A STOP or START the person said in another conversation of theirs, under another key (a
 * WhatsApp BSUID's conversation opened before it was linked to their number): it holds here too,
 * as withConsent. The same object when it changes nothing (an earlier word, or a retry).
 */
export function consentFromElsewhere(
  conversation: Conversation,
  optedOut: boolean,
  consentAt: string,
  now: Date,
): Conversation {
  if (conversation.status !== 'open') return conversation;
  if (conversation.consentAt && Date.parse(consentAt) <= Date.parse(conversation.consentAt))
    return conversation;
  if (!optedOut) return { ...conversation, optedOut: false, consentAt };
  return endPendingJobs({ ...conversation, optedOut: true, consentAt }, 'opted-out', now);
}

// Shared with the modules beside this one; ../conversation.ts does not re-export it.
export { withConsent };
