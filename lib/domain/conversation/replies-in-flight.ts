// Agents' replies on their way through a provider: in flight (for its echoes) and uncertain
// (looked up before a retry sends again).

import type { SentVia } from './ack-schema.ts';
import type { Conversation } from './schema.ts';

/** The reply is on record: its uncertain try is no longer to be looked for (uncertainReplies). */
function withoutUncertainReply(conversation: Conversation, messageId: string): Conversation {
  const uncertain = conversation.uncertainReplies;
  if (!uncertain || !(messageId in uncertain)) return conversation;
  const { [messageId]: _recorded, ...rest } = uncertain;
  const { uncertainReplies: _all, ...without } = conversation;
  return Object.keys(rest).length > 0 ? { ...without, uncertainReplies: rest } : without;
}

/** Marks an agent's reply in flight until `until` (and forgets those whose time has passed). */
export function replyInFlight(
  conversation: Conversation,
  messageId: string,
  now: Date,
  until: Date,
): Conversation {
  const live = Object.entries(conversation.repliesInFlight ?? {}).filter(
    ([, at]) => Date.parse(at) > now.getTime(),
  );
  return {
    ...conversation,
    repliesInFlight: Object.fromEntries([...live, [messageId, until.toISOString()]]),
  };
}

/**
 * The reply is stored, or the provider refused it (nothing of it is on its way): no longer in
 * flight (the others stay).
 */
export function replyLanded(conversation: Conversation, messageId: string): Conversation {
  const flying = conversation.repliesInFlight;
  if (!flying || !(messageId in flying)) return conversation;
  const { [messageId]: _landed, ...rest } = flying;
  const { repliesInFlight: _all, ...without } = conversation;
  return Object.keys(rest).length > 0 ? { ...without, repliesInFlight: rest } : without;
}

/** How long an uncertain reply is remembered: the agents' tool retries within minutes, not days. */
const UNCERTAIN_REPLY_KEPT_MS = 24 * 60 * 60_000;

/** Remembers an agent's reply whose send is uncertain (uncertainReplies); drops those older than a day. */
export function replyUncertain(
  conversation: Conversation,
  messageId: string,
  at: Date,
  text: string,
  template?: { name: string; language?: string } | null,
  via?: SentVia,
  agent?: string | null,
): Conversation {
  const kept = Object.entries(conversation.uncertainReplies ?? {}).filter(
    ([id, reply]) => id !== messageId && Date.parse(reply.at) > at.getTime() - UNCERTAIN_REPLY_KEPT_MS,
  );
  // The latest try: one before it was looked for and not found, or it would not have been sent.
  return {
    ...conversation,
    uncertainReplies: Object.fromEntries([
      ...kept,
      [
        messageId,
        {
          at: at.toISOString(),
          text,
          ...(template ? { template } : {}),
          ...(via ? { via } : {}),
          ...(agent ? { agent } : {}),
        },
      ],
    ]),
  };
}

/** Whether an agent's reply may be on its way through the provider now. */
export function replyMayBeInFlight(conversation: Conversation, now: Date): boolean {
  return Object.values(conversation.repliesInFlight ?? {}).some((at) => Date.parse(at) > now.getTime());
}

// Shared with the modules beside this one; ../conversation.ts does not re-export it.
export { withoutUncertainReply };
