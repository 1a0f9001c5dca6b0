import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '#lib/domain/message.ts';
import { inboundJobs, MAX_JOB_BYTES } from '#lib/http/defer.ts';
import { InboundJobSchema } from '#lib/ports/ack-queue.ts';

function messengerMessage(n: number, psid: string, text: string): InboundEvent {
  return {
    type: 'message',
    message: {
      direction: 'inbound',
      kind: 'message',
      channel: 'messenger',
      provider: 'meta',
      providerMessageId: `m_${n}`,
      from: psid,
      to: '104857600123456',
      text,
      media: [],
      contactKey: `messenger:${psid}`,
      sentAt: new Date(1_763_985_600_000 + n * 1000).toISOString(),
    },
  } as InboundEvent;
}

/** The body the SQS adapter sends: ASCII JSON. */
function queueBody(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

describe('inboundJobs', () => {
  it('should split Meta’s largest batch (1000 entries) into jobs of at most 100 events, each one readable by the worker', () => {
    // Prepare
    const events = Array.from({ length: 1000 }, (_, n) => messengerMessage(n, `psid${n}`, `Wiadomość ${n}`));

    // Act
    const jobs = inboundJobs('meta', new Date('2026-11-25T09:00:00Z'), events);

    // Assess
    expect(jobs).toHaveLength(10);
    expect(jobs.every((job) => InboundJobSchema.safeParse(job).success)).toBe(true);
    expect(jobs.flatMap((job) => job.events)).toHaveLength(1000);
  });

  it('should keep each job’s body under the byte budget, a customer’s run going on in the next job from where its receipt times stood', () => {
    // Prepare: one customer's 60 long Polish messages (6 bytes a character once escaped)
    const text = 'żółć '.repeat(400);
    const events = Array.from({ length: 60 }, (_, n) => messengerMessage(n, 'psid', text));
    const receivedAt = new Date('2026-11-25T09:00:00Z');

    // Act
    const jobs = inboundJobs('meta', receivedAt, events);

    // Assess: several jobs, each under the budget; each starts its receipt times where the run stood
    expect(jobs.length).toBeGreaterThan(2);
    expect(jobs.every((job) => queueBody(job).length <= MAX_JOB_BYTES)).toBe(true);
    let before = 0;
    for (const job of jobs) {
      expect(Date.parse(job.receivedAt) - receivedAt.getTime()).toBe(before);
      before += job.events.length;
    }
  });
});
