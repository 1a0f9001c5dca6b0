// The ack worker's entry: one job's acknowledgement or late notice sent at most once, its outcome counted.

import type { Slot } from '#lib/domain/conversation.ts';
import type { AckJob } from '#lib/ports/ack-queue.ts';
import { AckRetryError, type SendAckDeps, type SendAckResult } from './send-ack-deps.ts';
import { sendAutomatic } from './send-automatic.ts';

export type { SendAckDeps, SendAckResult } from './send-ack-deps.ts';
export { AckRetryError } from './send-ack-deps.ts';
export { UNCERTAIN_WAIT_MS } from './send-once.ts';

/**
 * Sends one episode's acknowledgement, or its late notice, at most once: re-checks that the
 * customer still waits, claims it with a conditional write (pending → sending with a lease),
 * sends, stores the outbound message, marks it sent (a notice also moves the promise, keeping
 * the first one for measuring). `receiveCount` is the queue's delivery count of this job.
 */
export async function sendAck(deps: SendAckDeps, job: AckJob, receiveCount = 1): Promise<SendAckResult> {
  const slot: Slot = job.kind ?? 'ack';
  try {
    const result = await sendAutomatic(deps, job, receiveCount);
    countOutcome(deps, slot, result.kind);
    return result;
  } catch (error) {
    if (error instanceof AckRetryError && error.final) countOutcome(deps, slot, 'failed');
    throw error;
  }
}

function countOutcome(deps: SendAckDeps, slot: Slot, outcome: SendAckResult['kind']): void {
  if (outcome === 'nothing-to-do') return;
  if (slot === 'notice') {
    if (outcome === 'sent') deps.metrics.count('NoticesSent');
    else if (outcome === 'failed') deps.metrics.count('NoticesFailed');
    return;
  }
  // A spoken ack (a call's SMS refused for the number) told the customer the promise: sent.
  const sent = outcome === 'sent' || outcome === 'spoken';
  deps.metrics.count(sent ? 'AcksSent' : outcome === 'skipped' ? 'AcksSkipped' : 'AcksFailed');
}
