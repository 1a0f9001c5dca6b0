// The replies applied to a conversation lately, by message id: what makes applying one again a
// no-op (one reply.sent per reply), and what tells a retry whether its stored reply was applied.

import type { Conversation } from './schema.ts';

/** How long an applied reply is listed: the agents' tool retries within minutes, not days (as uncertainReplies). */
export const APPLIED_REPLY_KEPT_MS = 24 * 60 * 60_000;

/** How many applied replies are listed at most: a conversation answered on and on stays small (~3 KB). */
export const MAX_APPLIED_REPLIES = 50;

/**
 * Whether the reply `messageId`, stored at `at`, is applied to the conversation: true or false
 * when the list can tell (listed; or not listed, though every reply applied after its `since`
 * is), null when it cannot (stored before the list began, or dropped from it since).
 */
export function replyApplied(conversation: Conversation, messageId: string, at: string): boolean | null {
  const applied = conversation.appliedReplies;
  if (!applied) return conversation.lastReplyAt ? null : false;
  if (Object.hasOwn(applied.ids, messageId)) return true;
  if (unlistedSince(conversation)) return null;
  return applied.since === null || Date.parse(at) > Date.parse(applied.since) ? false : null;
}

/**
 * A reply may have been applied by a release before stop 32 (a rolling deploy, a rollback), which
 * keeps the list but adds nothing to it: a later reply than any listed (only applyReply moves
 * lastReplyAt), or any write since the last by a release that lists (the list's `version` is not
 * the item's: a reply stored before the last one applied moves nothing but the version, and its
 * retry would announce reply.sent again). The list cannot tell until `since` moves past it
 * (withReplyApplied).
 */
function unlistedSince(conversation: Conversation): boolean {
  const applied = conversation.appliedReplies;
  if (applied?.version !== undefined && applied.version !== conversation.version) return true;
  if (!applied || !conversation.lastReplyAt) return false;
  const times = [applied.since, ...Object.values(applied.ids)].flatMap((t) => (t ? [Date.parse(t)] : []));
  return !(Date.parse(conversation.lastReplyAt) <= Math.max(...times));
}

/**
 * Lists the reply applied now on `conversation` (`before`: as it was before the reply). The
 * first listing starts after the last reply before it (one applied before the list began is
 * never taken for unapplied), and so does one after a reply applied outside it; those older than a day before this one, and the oldest past
 * MAX_APPLIED_REPLIES, are dropped, `since` moving past them.
 */
export function withReplyApplied(
  conversation: Conversation,
  before: Conversation,
  messageId: string,
  at: Date,
): Conversation {
  // Begun after the last reply before it; begun again after one a release before it applied.
  const listed =
    before.appliedReplies && !unlistedSince(before)
      ? before.appliedReplies
      : { since: before.lastReplyAt ?? null, ids: before.appliedReplies?.ids ?? {} };
  const entries = [...Object.entries(listed.ids), [messageId, at.toISOString()] as [string, string]].sort(
    ([, a], [, b]) => Date.parse(b) - Date.parse(a),
  );
  const oldest = at.getTime() - APPLIED_REPLY_KEPT_MS;
  const kept = entries.filter(([, when], index) => index < MAX_APPLIED_REPLIES && Date.parse(when) > oldest);
  const dropped = entries.filter((entry) => !kept.includes(entry)).map(([, when]) => Date.parse(when));
  const since = Math.max(...(listed.since ? [Date.parse(listed.since)] : []), ...dropped);
  return {
    ...conversation,
    appliedReplies: {
      since: Number.isFinite(since) ? new Date(since).toISOString() : null,
      ids: Object.fromEntries(kept),
    },
  };
}

/**
 * The conversation as this release writes it (`version`: the version it is written at): its list
 * of applied replies names that version, so a write by a release that does not list them shows
 * (unlistedSince). Every write of a conversation goes through here (the store's).
 */
export function withListVersion(conversation: Conversation): Conversation {
  const applied = conversation.appliedReplies;
  if (!applied || applied.version === conversation.version) return conversation;
  return { ...conversation, appliedReplies: { ...applied, version: conversation.version } };
}
