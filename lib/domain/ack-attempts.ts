/**
 * How many times an acknowledgement job is tried: the send attempts before its ack is marked
 * failed (AppConfig.ack.maxAttempts) and the ack queue's receives before the job waits in its
 * DLQ (the stack's maxReceiveCount). One value for both: the worker counts a job's receive
 * against it to know the last one (a queued echo let go, an ack marked failed), so a queue
 * that gave more receives would leave jobs to the DLQ, one that gave fewer would let go early.
 */
export const ACK_MAX_ATTEMPTS = 5;

/**
 * How long the acknowledgement of a message the worker recorded late (a webhook the store could
 * not take) waits, on a provider whose own inbox a person may answer from (Meta: that reply
 * reaches us as an echo, on the same queue, often as another job): the ack queue's interval
 * between a job's receives (its visibility timeout, 3 minutes: six times the worker's 30 s) and
 * one receive's run after it. An echo job received with the customer's (it found no conversation
 * yet), or failed by a store still throttling, is placed on its next receive, before the ack's
 * re-check at send time; lambda-limits.test.ts fails if the queue's receives grow further apart.
 */
export const LATE_ACK_HOLD_MS = 4 * 60_000;
