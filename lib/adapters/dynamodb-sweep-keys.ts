import { type Conversation, waitingChannelOf } from '#lib/domain/conversation.ts';
import { shardKey } from './dynamodb-shards.ts';

/*
 * A conversation's entry in the sweeper's index (gsi2): under `SWEEP`, sorted by its sweep
 * time, while the sweeper has something to do for it; under `WAITING#<provider>:<channel>`
 * while its ack or notice waits for that channel's configuration (waitingChannelOf), sorted by
 * whatever else comes due (a breach, a late notice, undelivered events), `~` when nothing does.
 * The sweeper reads a waiting key only for what comes due while the channel stays switched off
 * (and counts it), and all of it once a deployment can send there: a wait costs no write, and
 * no read of its item, until something changes. A waiting key is not sharded (one Query reads
 * it): it is written only while a channel is switched off, once per waiting customer, far below
 * the 1,000 writes a second an index partition takes, and the sweeper reads each one every 10
 * minutes even when nothing waits.
 */

/** The index partition base of the conversations waiting for `channel` (waitingChannelKey). */
export function waitingBase(channel: string): string {
  return `WAITING#${channel}`;
}

/** Sorts after every sweep time: a waiting conversation with nothing else coming due. */
export const NOTHING_DUE = '~';

/** The conversation's gsi2 keys, or null when the sweeper has nothing to do for it. */
export function sweepIndexKey(
  conversation: Conversation,
  sweepAt: string | null,
  shards: number,
): { pk: string; sk: string } | null {
  const waiting = waitingChannelOf(conversation);
  if (waiting) {
    return {
      pk: waitingBase(waiting),
      sk: `${sweepAt ?? NOTHING_DUE}#${conversation.id}`,
    };
  }
  return sweepAt
    ? { pk: shardKey('SWEEP', conversation.id, shards), sk: `${sweepAt}#${conversation.id}` }
    : null;
}
