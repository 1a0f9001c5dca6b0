import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type Degraded, degradedTwilio } from '#test/support/degraded-twilio.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

// Found by the review of the spoken ack's count (21ab1e7): a call's greeting speaking a pending ack
// whose last SMS try was uncertain counted AcksSent at intake, and the lookup it still owes counted
// the same ack again (AcksSent when Twilio had it, AcksSkipped when not).
describe("a call's spoken ack whose SMS try was uncertain", () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  it.each([
    ['Twilio took the SMS', true, { AcksSent: 1, AcksSkipped: 0 }],
    ['Twilio never took the SMS', false, { AcksSent: 1, AcksSkipped: 0 }],
  ])('should count the ack once when %s and its lookup comes after the call', async (_, taken, counts) => {
    // Prepare: no SMS after a call (voiceSms "never"); the ack's first try loses its answer and
    // the lookup right after cannot read Twilio's list
    twilio = await startFakeTwilio();
    const state: Degraded = { lostAnswers: taken ? 1 : 0, lostBefore: taken ? 0 : 1, list: 'down' };
    const metrics = countingMetrics();
    const business = {
      ...DEFAULT_BUSINESS_CONFIG,
      ack: { ...DEFAULT_BUSINESS_CONFIG.ack, voiceSms: 'never' as const },
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state), business, metrics });
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'pending',
      reason: 'SEND_UNCERTAIN',
    });

    // Act: the customer calls within the wait (the greeting speaks the promise); then the wait passes
    sb.clock.advance(60_000);
    await sb.postTwilio('voice', 'voice-incoming', { From: '+48601234567', Caller: '+48601234567' });
    await sb.drain();
    state.list = 'up';
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: one ack for the episode, counted once
    const after = await sb.onlyOpenConversation();
    expect(after.ack).toMatchObject({ state: 'sent' });
    expect(after.lookUps ?? [], 'the lookup done').toEqual([]);
    expect({ AcksSent: metrics.total('AcksSent'), AcksSkipped: metrics.total('AcksSkipped') }).toEqual(
      counts,
    );
    expect(metrics.total('AcksFailed')).toBe(0);
  });

  it("should count the ack once when Twilio's status callback for its SMS comes after the call", async () => {
    // Prepare: as above, Twilio took the SMS
    twilio = await startFakeTwilio();
    const state: Degraded = { lostAnswers: 1, lostBefore: 0, list: 'down' };
    const metrics = countingMetrics();
    const business = {
      ...DEFAULT_BUSINESS_CONFIG,
      ack: { ...DEFAULT_BUSINESS_CONFIG.ack, voiceSms: 'never' as const },
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state), business, metrics });
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();

    // Act: the customer calls; then Twilio's callback for the SMS comes (settleReported), twice
    sb.clock.advance(60_000);
    await sb.postTwilio('voice', 'voice-incoming', { From: '+48601234567', Caller: '+48601234567' });
    await sb.drain();
    const callback = twilio.statusCallback(twilio.taken()[0]?.sid as string, 'delivered');
    if (!callback) throw new Error('no status callback');
    const url = new URL(callback.url);
    for (let i = 0; i < 2; i++) {
      const init = { method: 'POST', headers: callback.headers, body: callback.body };
      expect((await sb.runtime.app.request(`${url.pathname}${url.search}`, init)).status).toBe(200);
    }
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the SMS on record, the lookup settled by the report, the ack counted once
    const after = await sb.onlyOpenConversation();
    expect(after.lookUps ?? [], 'the lookup done').toEqual([]);
    expect(metrics.total('AcksSent')).toBe(1);
    expect(metrics.total('AcksSkipped')).toBe(0);
    expect(twilio.taken()).toHaveLength(1);
  });
});
