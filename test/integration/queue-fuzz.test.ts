import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '#lib/domain/events.ts';
import { countEventRecords } from '#lib/runtime/stats-records.ts';
import { handleWorkRecord, UnreadableJobError } from '#lib/runtime/work-records.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { STACK_TRACE } from '#test/support/silent-log.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// The queue consumers under records that are not what they expect (a hand-sent message, a
// redrive of something else, a bug upstream, a newer release's job): a work-queue job this
// release cannot read fails with UnreadableJobError alone (the queue gives it again, then the DLQ
// keeps it; since stop 25, when it was dropped and a rolling deploy lost a newer release's job),
// a stats record is dropped; never another error, never a stack trace.

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    'conv_06gwk0wg90h3ggnh41h2xv7x5n',
    'not-a-date',
    '2026-02-30T25:61:00Z',
    'x'.repeat(5_000),
  ),
);

describe('the queue consumers under hostile records', { timeout: fuzzTimeout(120_000) }, () => {
  let sb: TestSwitchboard;
  let realId: string;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601234567' });
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    realId = items[0]?.id as string;
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('should handle any ack job body, or fail it as unreadable, never with another error', async () => {
    const job = fc.record(
      {
        conversationId: fc.oneof(text, fc.constant('REAL')),
        episode: fc.oneof(fc.integer(), fc.constantFrom(1, 2, 1e9), fc.double()),
        kind: fc.oneof(fc.constantFrom('ack', 'notice'), text),
        delivered: fc.array(text, { maxLength: 5 }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.json({ maxDepth: 3 }),
      job.map((value) => JSON.stringify(value).replace('"REAL"', JSON.stringify(realId))),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 1, max: 10 }), async (raw, receiveCount) => {
        // Act + Assess: resolves, or fails as unreadable (a retryable send failure would throw
        // too; nothing here is one)
        await handleWorkRecord(sb.runtime.workDeps, { body: raw, receiveCount, messageId: 'fuzz' }).catch(
          (error: unknown) => {
            if (!(error instanceof UnreadableJobError)) throw error;
          },
        );
      }),
      fuzzRuns(400),
    );
    for (const line of sb.log.lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
  });

  it('should count, skip or drop any stats record without throwing', async () => {
    const event = fc.record(
      {
        id: text,
        type: fc.oneof(fc.constantFrom(...EVENT_TYPES), text),
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          text,
        ),
        conversationId: fc.oneof(text, fc.constant('REAL')),
        data: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
          fc.record({ channel: text, episode: fc.integer(), replyBy: text, awaitingSince: text }),
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.json({ maxDepth: 3 }),
      event.map((value) => JSON.stringify(value).replace('"REAL"', JSON.stringify(realId))),
      event.map((value) =>
        JSON.stringify({ source: 'switchboard', 'detail-type': value.type, detail: value }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 5 }), async (bodies) => {
        // Act + Assess
        await countEventRecords(
          sb.runtime.statsDeps,
          bodies.map((raw, i) => ({ body: raw, messageId: `fuzz-${i}` })),
        );
      }),
      fuzzRuns(400),
    );
    for (const line of sb.log.lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
    // The service level still reads.
    const report = await sb.api('/api/service-level?from=2026-11-01&to=2026-11-30');
    expect(report.status).toBe(200);
    expect(await report.text()).not.toMatch(/NaN|Infinity/);
  });
});
