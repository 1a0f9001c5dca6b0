// Resolved conversations and first-contact resolution: follow-ups, reopenings, the 7-day outcome.

import { promisedNobody } from './ack-policy.ts';
import type { Channel } from './channel.ts';
import type { DomainEvent } from './events.ts';
import { FCR_WINDOW_MS } from './service-level-counts.ts';

/** Where a resolution's record lives: the business day it was resolved on, its channel, the conversation. */
export type ResolutionKey = { date: string; channel: Channel; conversationId: string };

/** One resolved conversation, kept on its day for first-contact resolution. */
export type Resolution = ResolutionKey & {
  resolvedAt: string;
  /** Agent replies the conversation got (distinct reply messages). */
  replies: number;
  /** The customer's next conversation, when it opened within the window. */
  followUpAt?: string | undefined;
  /**
   * The conversation's latest reopening noted on the record. After `resolvedAt`, an agent
   * reopened it: it counts when (if) it is resolved again, on that day. Before it, it belongs to
   * an earlier resolution of the same day the record has moved on from.
   */
  reopenedAt?: string | undefined;
};

/** Whether a conversation opened at `openedAt` follows up the one resolved at `resolvedAt`. */
export function isFollowUp(resolvedAt: string, openedAt: string): boolean {
  const gap = Date.parse(openedAt) - Date.parse(resolvedAt);
  return gap > 0 && gap <= FCR_WINDOW_MS;
}

/**
 * Whether an event is the customer coming (back) to us in its conversation: a
 * conversation.opened, unless a message nobody is to answer opened it (their mailbox's
 * out-of-office reply to our answer, a list post, HELP); then the message.received of their
 * first question in it (`firstQuestion`, stop 25), when it came.
 */
export function isCustomerOpening(event: DomainEvent): boolean {
  if (event.type === 'message.received') return event.data.firstQuestion === true;
  if (event.type !== 'conversation.opened') return false;
  const reason = event.data.noAckReason;
  return !promisedNobody(typeof reason === 'string' ? reason : undefined);
}

/** Whether a resolution was reopened after it was made (a reopening of the same record before it does not count). */
export function wasReopened(resolution: Pick<Resolution, 'resolvedAt' | 'reopenedAt'>): boolean {
  return (
    resolution.reopenedAt !== undefined &&
    Date.parse(resolution.reopenedAt) > Date.parse(resolution.resolvedAt)
  );
}

/**
 * When the resolution at `resolvedAt` was reopened, as far as the conversation's bookkeeping
 * tells when it is noted (events come in any order): its latest reopening, if later; else the
 * time of a later resolution noted before it (it cannot have been resolved again unreopened).
 */
export function reopenedSince(
  resolvedAt: string,
  noted: { reopenedAt: string | null; latestResolvedAt: string | null },
): string | undefined {
  const at = Date.parse(resolvedAt);
  if (noted.reopenedAt && Date.parse(noted.reopenedAt) > at) return noted.reopenedAt;
  if (noted.latestResolvedAt && Date.parse(noted.latestResolvedAt) > at) return noted.latestResolvedAt;
  return undefined;
}

export type FcrOutcome = 'first-contact' | 'not-first-contact' | 'pending' | 'superseded';

/**
 * First-contact resolution of one resolved conversation at `now`: one agent reply and no new
 * customer conversation within 7 days. Undecided (pending) while the 7 days run, unless a
 * follow-up or a second reply already decided it.
 */
export function fcrOutcome(resolution: Resolution, now: Date): FcrOutcome {
  if (wasReopened(resolution)) return 'superseded';
  if (resolution.followUpAt || resolution.replies !== 1) return 'not-first-contact';
  return now.getTime() >= Date.parse(resolution.resolvedAt) + FCR_WINDOW_MS ? 'first-contact' : 'pending';
}

export type FcrTally = { firstContact: number; resolved: number; pending: number };

export function tallyResolutions(resolutions: readonly Resolution[], now: Date): FcrTally {
  const tally: FcrTally = { firstContact: 0, resolved: 0, pending: 0 };
  for (const resolution of resolutions) {
    const outcome = fcrOutcome(resolution, now);
    if (outcome === 'pending') tally.pending++;
    if (outcome === 'first-contact' || outcome === 'not-first-contact') tally.resolved++;
    if (outcome === 'first-contact') tally.firstContact++;
  }
  return tally;
}
