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
 * reaches us as an echo, on the same queue, often as another job): every receive the echo's job
 * still has, so that whatever kept it from being placed on one (her message not recorded yet,
 * one of our sends in flight, a store still throttling) it is placed, or let go, on its last
 * receive before the ack's re-check at send time. That is ACK_MAX_ATTEMPTS - 1 of the ack
 * queue's intervals between a job's receives (its visibility timeout, 3 minutes: six times the
 * worker's 30 s) and one receive's run after the last: 12.5 minutes. (Stop 27 held it one
 * interval, 4 minutes: a reply whose job waited for her message, or failed, on two receives was
 * placed after the ack had gone.) switchboard-stack.test.ts fails if the queue's receives grow
 * further apart.
 */
export const LATE_ACK_HOLD_MS = (ACK_MAX_ATTEMPTS - 1) * 3 * 60_000 + 30_000;
