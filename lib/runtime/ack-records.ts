import { AckJobSchema } from '#lib/ports/ack-queue.ts';
import { type SendAckDeps, type SendAckResult, sendAck } from '#lib/use-cases/send-ack.ts';

/**
 * One queue record → one sendAck. A body that is not an AckJob can never succeed: it is
 * logged and dropped rather than retried into the DLQ. A retryable send failure throws, so
 * the queue redelivers the record (the Lambda reports it as a batch item failure).
 */
export async function handleAckRecord(
  deps: SendAckDeps,
  record: { body: string; receiveCount: number; messageId: string },
): Promise<SendAckResult | { kind: 'invalid' }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch {
    parsed = undefined;
  }
  const job = AckJobSchema.safeParse(parsed);
  if (!job.success) {
    deps.log.error('ack job is not valid; dropped', { messageId: record.messageId });
    return { kind: 'invalid' };
  }
  return sendAck(deps, job.data, record.receiveCount);
}
