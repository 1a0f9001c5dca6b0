import { type IngestDeps, type IngestResult, ingest } from '#lib/http/ingest.ts';
import { AckJobSchema, type InboundJob, InboundJobSchema } from '#lib/ports/ack-queue.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { type SendAckDeps, type SendAckResult, sendAck } from '#lib/use-cases/send-ack.ts';

/** What the worker needs for the jobs on the work queue. */
export type WorkDeps = { sendAck: SendAckDeps; ingest: IngestDeps };

/**
 * A work-queue job this release cannot read. Only our own functions may send to the queue, so
 * such a job is a newer release's (a rolling deploy: an older worker receives a kind it does
 * not know) or our bug, never noise: the record fails, so the queue gives it again, and after
 * its receives (maxReceiveCount) it waits in the DLQ under its alarm, to be redriven once every
 * function runs the release that reads it. A job that can never be read ends there too, after
 * those few receives, never retried for ever.
 */
export class UnreadableJobError extends SwitchboardError {
  constructor() {
    super(
      'JOB_UNREADABLE',
      'This release cannot read the work-queue job; it goes back to the queue, then to the DLQ',
    );
  }
}

/**
 * One queue record → one job: an acknowledgement or late notice to send (sendAck), or a
 * webhook the store could not take while its provider waited, to record now. A body that is
 * neither throws UnreadableJobError, as a retryable failure does: the queue redelivers the
 * record (the Lambda reports it as a batch item failure), and after its last receive it waits
 * in the DLQ.
 */
export async function handleWorkRecord(
  deps: WorkDeps,
  record: { body: string; receiveCount: number; messageId: string },
): Promise<SendAckResult | { kind: 'recorded'; result: IngestResult }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch {
    parsed = undefined;
  }
  const inbound = InboundJobSchema.safeParse(parsed);
  if (inbound.success) {
    // Its last receive lets go of an echo still waiting for its customer, rather than the DLQ.
    const lastReceive = record.receiveCount >= deps.sendAck.ack.maxAttempts;
    return { kind: 'recorded', result: await recordDeferred({ ...deps.ingest, lastReceive }, inbound.data) };
  }
  const job = AckJobSchema.safeParse(parsed);
  if (!job.success) {
    // The kind names the job type (ours, never customer data); the body is not logged.
    const kind = (parsed as { kind?: unknown } | undefined)?.kind;
    deps.sendAck.log.error('work queue job this release cannot read; back to the queue, then the DLQ', {
      messageId: record.messageId,
      receiveCount: record.receiveCount,
      ...(typeof kind === 'string' && /^[\w-]{1,40}$/.test(kind) ? { kind } : {}),
    });
    throw new UnreadableJobError();
  }
  return sendAck(deps.sendAck, job.data, record.receiveCount);
}

/**
 * Records a deferred webhook's events as the webhook would have: the same idempotent steps (a
 * part a crash stored is found and finished, never doubled), each message at its receipt time.
 */
async function recordDeferred(deps: IngestDeps, job: InboundJob): Promise<IngestResult> {
  const result = await ingest({ ...deps, receivedAt: new Date(job.receivedAt) }, job.provider, job.events);
  deps.log.info('deferred webhook recorded', {
    provider: job.provider,
    messages: result.messages.length,
    updates: result.updates,
  });
  return result;
}
