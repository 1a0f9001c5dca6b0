import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '#lib/domain/message.ts';
import { inboundJobs, MAX_JOB_BYTES } from '#lib/http/defer.ts';
import { InboundJobSchema, MAX_INBOUND_JOB_EVENTS } from '#lib/ports/ack-queue.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';

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
  it('should keep a job’s whole body within the budget when its events alone just fit (its own fields count too)', () => {
    // Prepare: two customers' messages whose bytes on the queue come to 40 under the budget
    const base = (psid: string) => queueBody(messengerMessage(0, psid, '')).length;
    const first = MAX_JOB_BYTES - 2_000 - base('psidA') - 1;
    const second = 2_000 - 40 - base('psidB') - 1;
    const events = [
      messengerMessage(0, 'psidA', 'x'.repeat(first)),
      messengerMessage(1, 'psidB', 'x'.repeat(second)),
    ];

    // Act
    const jobs = inboundJobs('meta', new Date('2026-11-25T09:00:00Z'), events);

    // Assess: each body (the events with kind, provider and receipt time) within the budget
    expect(jobs.map((job) => queueBody(job).length <= MAX_JOB_BYTES)).toEqual(jobs.map(() => true));
    expect(jobs.flatMap((job) => job.events)).toEqual(events);
  });

  it('should put any webhook’s events in jobs the worker reads, each body within the budget, nothing lost or reordered', () => {
    // Prepare: customers writing texts of any size and script, ASCII to astral
    const text = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.string({ unit: 'grapheme', maxLength: 50 }),
      fc.nat({ max: 40_000 }).map((n) => 'x'.repeat(n)),
      fc.nat({ max: 12_000 }).map((n) => 'ż'.repeat(n)),
      fc.nat({ max: 6_000 }).map((n) => '😀'.repeat(n)),
    );
    const batch = fc.array(fc.tuple(fc.nat({ max: 5 }), text), { minLength: 1, maxLength: 300 });
    fc.assert(
      fc.property(batch, fc.constantFrom('meta', 'twilio'), (written, provider) => {
        const events = written.map(([customer, body], n) => messengerMessage(n, `psid${customer}`, body));

        // Act
        const jobs = inboundJobs(provider, new Date('2026-11-25T09:00:00Z'), events);

        // Assess
        for (const job of jobs) {
          expect(InboundJobSchema.safeParse(job).success).toBe(true);
          expect(job.events.length).toBeLessThanOrEqual(MAX_INBOUND_JOB_EVENTS);
          expect(queueBody(job).length).toBeLessThanOrEqual(MAX_JOB_BYTES);
        }
        const queued = jobs.flatMap((job) => job.events);
        expect(queued).toHaveLength(events.length);
        for (const customer of [0, 1, 2, 3, 4, 5]) {
          const mine = (list: InboundEvent[]) =>
            list.filter((e) => e.type === 'message' && e.message.from === `psid${customer}`);
          expect(mine(queued)).toEqual(mine(events));
        }
      }),
      fuzzRuns(200),
    );
  });
});
