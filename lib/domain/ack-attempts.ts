/**
 * How many times an acknowledgement job is tried: the send attempts before its ack is marked
 * failed (AppConfig.ack.maxAttempts) and the ack queue's receives before the job waits in its
 * DLQ (the stack's maxReceiveCount). One value for both: the worker counts a job's receive
 * against it to know the last one (a queued echo let go, an ack marked failed), so a queue
 * that gave more receives would leave jobs to the DLQ, one that gave fewer would let go early.
 */
export const ACK_MAX_ATTEMPTS = 5;
