import type { InboundEvent } from '#lib/domain/message.ts';
import { type InboundJob, MAX_INBOUND_JOB_EVENTS } from '#lib/ports/ack-queue.ts';
import { type IngestDeps, type IngestResult, ingest, lanesOf } from './ingest.ts';

export type DeferDeps = IngestDeps & {
  /** Puts a webhook the store could not take on the work queue, for the worker to record. */
  deferInbound: (job: InboundJob) => Promise<void>;
};

export type Received = IngestResult & { deferred: boolean };

/**
 * A job's body on the queue at most: under SQS's 256 KiB (its default before 2025, still the
 * setting of many queues; 1 MiB at most), with room for the job's own fields. Written as ASCII
 * JSON (lib/adapters/sqs-ack-queue.ts): a character past ASCII takes six bytes.
 */
export const MAX_JOB_BYTES = 240 * 1024;

/**
 * Stores a verified webhook's events (ingest); when the store fails (DynamoDB unavailable or
 * throttling, a crash of one of its writes), puts them on the work queue instead, for the worker
 * to record with this receipt time, and the provider gets its 200. Only when the queue refuses
 * them too does the error go on (the provider's 5xx). The recording steps are idempotent: what
 * the failed try stored is found and finished by the worker, never doubled, and so is what a
 * provider's retry of the same webhook brings. `retryable`: a failure the provider's own retry
 * should answer (its 5xx kept, nothing queued).
 */
export async function ingestOrDefer(
  deps: DeferDeps,
  provider: string,
  events: InboundEvent[],
  retryable: (error: unknown) => boolean = () => false,
): Promise<Received> {
  const receivedAt = deps.clock.now();
  try {
    return { ...(await ingest(deps, provider, events)), deferred: false };
  } catch (error) {
    if (retryable(error)) throw error;
    const jobs = inboundJobs(provider, receivedAt, events);
    try {
      // Several at once (a Meta batch of a thousand): one refused fails the webhook, and the
      // provider's retry records again what the others carry, found and changed by nothing.
      await Promise.all(jobs.map((job) => deps.deferInbound(job)));
    } catch (queueError) {
      deps.log.error('webhook not stored, nor queued: the provider gets a 5xx', {
        provider,
        error: (error as Error).name,
        queueError: (queueError as Error).name,
      });
      throw error;
    }
    // Its name only: a message may quote what the customer wrote.
    deps.log.warn('webhook not stored now: queued for the worker to record', {
      provider,
      error: (error as Error).name,
      jobs: jobs.length,
    });
    return { messages: [], updates: 0, ignored: 0, deferred: true };
  }
}

/**
 * A webhook's events as work-queue jobs of at most MAX_INBOUND_JOB_EVENTS events and
 * MAX_JOB_BYTES each. One customer's events stay in one job when they fit in one, in the order
 * ingest stores them; a longer run goes on in the next job, whose receipt time starts where the
 * run stood (the worker gives the events of one customer in one job a millisecond each from its
 * receipt time), so each keeps the time it would have had in one job, and the order.
 */
export function inboundJobs(provider: string, receivedAt: Date, events: InboundEvent[]): InboundJob[] {
  // The job's own fields count too: its body, not only its events, stays within MAX_JOB_BYTES.
  const envelope = jsonBytes({ kind: 'inbound', provider, receivedAt: receivedAt.toISOString(), events: [] });
  const chunks: Array<{ events: InboundEvent[]; bytes: number; offset: number }> = [];
  let chunk = { events: [] as InboundEvent[], bytes: envelope, offset: 0 };
  const full = (count: number, bytes: number) =>
    chunk.events.length + count > MAX_INBOUND_JOB_EVENTS || chunk.bytes + bytes > MAX_JOB_BYTES;
  const start = (offset: number) => {
    chunk = { events: [], bytes: envelope, offset };
    chunks.push(chunk);
  };
  chunks.push(chunk);
  for (const lane of lanesOf(events)) {
    const sizes = lane.map(jsonBytes);
    if (chunk.events.length > 0 && full(lane.length, sum(sizes))) start(0);
    lane.forEach((event, index) => {
      const size = sizes[index] as number;
      if (chunk.events.length > 0 && full(1, size)) start(index);
      chunk.events.push(event);
      chunk.bytes += size;
    });
  }
  return chunks
    .filter((c) => c.events.length > 0)
    .map((c) => ({
      kind: 'inbound',
      provider,
      receivedAt: new Date(receivedAt.getTime() + c.offset).toISOString(),
      events: c.events,
    }));
}

/** The bytes of `value` in the queue's ASCII JSON, and a comma. */
function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  let wide = 0;
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) >= 0x7f) wide++;
  return json.length + 5 * wide + 1;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
