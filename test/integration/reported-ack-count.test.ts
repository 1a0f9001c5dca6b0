import { afterEach, describe, expect, it } from 'vitest';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type Degraded, degradedTwilio, postCallback } from '#test/support/degraded-twilio.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

// Found by the review of 2f34613 (Twilio's callbacks settle uncertain tries): an uncertain ack
// settled by its report was counted in no ack metric, and one reported undelivered only in
// AcksFailedAfterSend (a failure of an ack never counted sent).
describe("the ack metrics of an uncertain ack settled by Twilio's callback", () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  it.each([
    ['delivered', { AcksSent: 1, AcksFailed: 0, AcksFailedAfterSend: 0 }],
    ['undelivered', { AcksSent: 1, AcksFailed: 0, AcksFailedAfterSend: 1 }],
  ])(
    'should count the ack sent once when the callback reports it %s, redelivered too',
    async (status, counts) => {
      // Prepare: Twilio takes the ack, its answer is lost, and the lookup right after fails
      twilio = await startFakeTwilio();
      const metrics = countingMetrics();
      const state: Degraded = { lostAnswers: 1, lostBefore: 0, list: 'down' };
      sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state), metrics });
      await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
      await sb.drain();
      expect((await sb.onlyOpenConversation()).ack).toMatchObject({
        state: 'pending',
        reason: 'SEND_UNCERTAIN',
      });

      // Act: Twilio's callback for it comes twice (its retry); later the wait passes
      const [taken] = twilio.taken();
      sb.clock.advance(30_000);
      for (let i = 0; i < 2; i++)
        expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, status))).status).toBe(
          200,
        );
      state.list = 'up';
      sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
      await sweep(sb.runtime.sweepDeps);
      await sb.drain();

      // Assess
      const names = ['AcksSent', 'AcksFailed', 'AcksFailedAfterSend'] as const;
      expect(Object.fromEntries(names.map((name) => [name, metrics.total(name)]))).toEqual(counts);
      expect(twilio.taken(), 'the ack texted again').toHaveLength(1);
    },
  );
});
