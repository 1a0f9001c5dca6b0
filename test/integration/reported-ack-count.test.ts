import { afterEach, describe, expect, it } from 'vitest';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

/** A status callback from the fake Twilio, posted to the URL it was given (its query kept). */
async function postCallback(
  sb: TestSwitchboard,
  callback: { url: string; body: string; headers: Headers } | null,
): Promise<Response> {
  if (!callback) throw new Error('no status callback');
  const url = new URL(callback.url);
  return sb.runtime.app.request(`${url.pathname}${url.search}`, {
    method: 'POST',
    headers: callback.headers,
    body: callback.body,
  });
}

const TIMEOUT = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

/** Twilio takes the next send but its answer is lost; its Messages list cannot be read while `listDown`. */
function lostAnswerOnce(state: { lost: number; listDown: boolean }): typeof fetch {
  return async (input, init) => {
    const list = String(input).includes('/Messages.json?');
    if (list && state.listDown) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    const post = !list && String(input).endsWith('/Messages.json') && init?.method === 'POST';
    const response = await fetch(input, init);
    if (post && state.lost > 0) {
      state.lost--;
      await response.text();
      throw TIMEOUT();
    }
    return response;
  };
}

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
      const state = { lost: 1, listDown: true };
      sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: lostAnswerOnce(state), metrics });
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
      state.listDown = false;
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
