import { afterEach, describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { countCalls } from '#test/support/faults.ts';
import { memoryLog } from '#test/support/silent-log.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Stop 26: a conversation's sweep time (gsi2sk) is computed by the release that wrote it, from
// that release's business config. After a deploy that changed working hours, holidays or the
// notice's lead, a late notice already scheduled went at the old time: too late, or too early.

/** Thursday's hours begin at 09:45 instead of 09:00: a notice 30 working minutes before Thursday 10:00 moves to Wednesday 16:45. */
const LATER_THURSDAY: BusinessConfig = parseBusinessConfig({
  ...DEFAULT_BUSINESS_CONFIG,
  hours: { ...DEFAULT_BUSINESS_CONFIG.hours, thu: ['09:45-17:00'] },
});

describe('sweep times after a business-config change', () => {
  let sb: TestSwitchboard;
  afterEach(async () => {
    await sb.stop();
  });

  /** The next release, deployed over the same table with another business config. */
  function deploy(business: BusinessConfig): Runtime {
    return createRuntime({
      config: { ...sb.config, business },
      dynamodb: sb.backends.dynamodb,
      sqs: sb.backends.sqs,
      log: memoryLog(),
      clock: sb.clock,
    });
  }

  it('should send a scheduled late notice at the time the new config gives, and leave the promise the customer heard', async () => {
    // Prepare: an SMS Wednesday 10:00, promised Thursday 10:00; its notice is due Thursday 09:30
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const before = await sb.onlyOpenConversation();
    expect(before.replyBy).toBe('2026-11-26T10:00:00.000+01:00');

    // Act: the new hours are deployed at noon; the sweeper runs then and at the new notice time
    const next = deploy(LATER_THURSDAY);
    sb.clock.set('2026-11-25T12:00:00+01:00');
    await sweep(next.sweepDeps);
    sb.clock.set('2026-11-25T16:46:00+01:00');
    const due = await sweep(next.sweepDeps);

    // Assess: the notice is requested at Wednesday 16:46, not Thursday 09:30; the promise stands
    expect(due.notices).toBe(1);
    const after = await sb.onlyOpenConversation();
    expect(after.notice).toMatchObject({ state: 'pending', episode: 1 });
    expect(after.replyBy).toBe(before.replyBy);
    expect(after.promise).toEqual(before.promise);
  });

  it('should not send a notice early when the new config moves it later', async () => {
    // Prepare: notices scheduled under Thursday 09:45 (Wednesday 16:45), then 09:00 again
    sb = await startTestSwitchboard({
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
      business: LATER_THURSDAY,
    });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const next = deploy(DEFAULT_BUSINESS_CONFIG);
    sb.clock.set('2026-11-25T12:00:00+01:00');
    await sweep(next.sweepDeps);

    // Act: the old time, then the new one
    sb.clock.set('2026-11-25T16:46:00+01:00');
    const old = await sweep(next.sweepDeps);
    sb.clock.set('2026-11-26T09:31:00+01:00');
    const due = await sweep(next.sweepDeps);

    // Assess: not read at the old time at all (its sweep time moved), sent at the new one
    expect(old).toMatchObject({ due: 0, notices: 0 });
    expect(due.notices).toBe(1);
  });

  it('should read the index no more once done for a configuration, and move the times again for the next one (a rollback)', async () => {
    // Prepare: the new hours deployed, their pass and the pass after the deploy settled done
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const next = deploy(LATER_THURSDAY);
    sb.clock.set('2026-11-25T12:00:00+01:00');
    await sweep(next.sweepDeps);
    sb.clock.set('2026-11-25T12:16:00+01:00');
    await sweep(next.sweepDeps);
    // The backfill's reads of the whole index (the sweeper's own read is bounded by now).
    const passes = countCalls(sb.backends.dynamodb, 'QueryCommand', (input) => {
      const text = JSON.stringify(input);
      return text.includes('SWEEP') && !text.includes(':until');
    });

    // Act: another run; then a rollback to the old hours, whose notice time is Thursday 09:30 again
    sb.clock.set('2026-11-25T12:17:00+01:00');
    await sweep(next.sweepDeps);
    const afterDone = passes.count;
    const rollback = deploy(DEFAULT_BUSINESS_CONFIG);
    sb.clock.set('2026-11-25T12:18:00+01:00');
    await sweep(rollback.sweepDeps);
    sb.clock.set('2026-11-25T16:46:00+01:00');
    const atLaterTime = await sweep(rollback.sweepDeps);
    sb.clock.set('2026-11-26T09:31:00+01:00');
    const atOldTime = await sweep(rollback.sweepDeps);

    // Assess
    expect(afterDone).toBe(0);
    expect(passes.count).toBeGreaterThan(0);
    expect(atLaterTime).toMatchObject({ due: 0, notices: 0 });
    expect(atOldTime.notices).toBe(1);
  });
});
