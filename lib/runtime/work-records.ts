import { type IngestDeps, type IngestResult, ingest } from '#lib/http/ingest.ts';
import { AckJobSchema, type InboundJob, InboundJobSchema } from '#lib/ports/ack-queue.ts';
import { type SendAckDeps, type SendAckResult, sendAck } from '#lib/use-cases/send-ack.ts';

/** What the worker needs for the jobs on the work queue. */
export type WorkDeps = { sendAck: SendAckDeps; ingest: IngestDeps };

/**
 * One queue record → one job: an acknowledgement or late notice to send (sendAck), or a
 * webhook the store could not take while its provider waited, to record now. A body that is
 * neither can never succeed: it is logged and dropped rather than retried into the DLQ. A
 * retryable failure throws, so the queue redelivers the record (the Lambda reports it as a
 * batch item failure), and after its last receive it waits in the DLQ.
 */
export async function handleWorkRecord(
  deps: WorkDeps,
  record: { body: string; receiveCount: number; messageId: string },
): Promise<SendAckResult | { kind: 'recorded'; result: IngestResult } | { kind: 'invalid' }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch {
    parsed = undefined;
  }
  const inbound = InboundJobSchema.safeParse(parsed);
  if (inbound.success) return { kind: 'recorded', result: await recordDeferred(deps.ingest, inbound.data) };
  const job = AckJobSchema.safeParse(parsed);
  if (!job.success) {
    deps.sendAck.log.error('work queue job is not valid; dropped', { messageId: record.messageId });
    return { kind: 'invalid' };
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
