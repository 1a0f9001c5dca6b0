import { afterEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '#lib/domain/message.ts';
import { recordInbound } from '#lib/use-cases/record-inbound.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// The PromiseBreaches metric feeds the breach alarm; nothing else pinned it until a manual
// mutation review (stop 25). Each test fails under the mutation named above it.

const breaches = (metrics: ReturnType<typeof countingMetrics>) =>
  metrics.counted.filter(({ name }) => name === 'PromiseBreaches').reduce((sum, { value }) => sum + value, 0);

describe('the PromiseBreaches metric (what the breach alarm watches)', () => {
  let sb: TestSwitchboard | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  // Kills: sweep.ts without `deps.metrics.count('PromiseBreaches')`.
  it('should be counted once when the sweeper finds a promise passed unanswered', async () => {
    // Prepare: an SMS Wednesday 10:00, acknowledged, promised Thursday 10:00; nobody answers
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    expect((await sb.onlyOpenConversation()).replyBy).toBe('2026-11-26T10:00:00.000+01:00');
    const metrics = countingMetrics();

    // Act: the sweeper passes after the promise, twice
    sb.clock.set('2026-11-26T10:01:00+01:00');
    const first = await sweep({ ...sb.runtime.sweepDeps, metrics });
    sb.clock.set('2026-11-26T10:02:00+01:00');
    await sweep({ ...sb.runtime.sweepDeps, metrics });

    // Assess
    expect(first.breaches).toBe(1);
    expect(breaches(metrics)).toBe(1);
  });

  // Kills: record-inbound.ts without `if (saved.breachedEpisode > …) deps.metrics.count('PromiseBreaches')`.
  it('should be counted when a call past the promise records the breach in its own write (the sweeper no longer sees it)', async () => {
    // Prepare: the same promise; the customer calls at Thursday 10:01, before the sweeper passed
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    sb.clock.set('2026-11-26T10:01:00+01:00');
    const metrics = countingMetrics();
    const call: InboundMessage = {
      provider: 'twilio',
      providerMessageId: 'CA0000000000000000000000000000c0de',
      channel: 'voice',
      kind: 'call',
      contactKey: 'phone:+48601234567',
      from: '+48601234567',
      to: '+48221234567',
      text: '',
      media: [],
    };

    // Act
    await recordInbound({ ...sb.runtime.recordDeps, metrics }, call);
    const swept = await sweep({ ...sb.runtime.sweepDeps, metrics });

    // Assess: the breach was counted by the call's write, once, and not again by the sweeper
    const after = await sb.onlyOpenConversation();
    expect(after.breachedEpisode).toBe(after.episode);
    expect(swept.breaches).toBe(0);
    expect(breaches(metrics)).toBe(1);
  });
});
