import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { type CountingMetrics, countingMetrics } from '#test/support/counting-metrics.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { listedConversations } from '#test/support/listed.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

// Stop 35: one rule (markRefusedNumber) for a number Twilio refuses for what it is, whichever
// path heard it. Before it, an ack refused 21610 at send left its conversation's other pending
// automatic job to be tried, and a 21635 / 21614 in a status callback marked nothing.

const MOBILE = '+48601234567';
const LANDLINE = '+48221112233';
const MINUTE = 60_000;

type ApiConversation = { id: string; ack: { state: string; reason?: string } | null };

function withVoiceSms(voiceSms: BusinessConfig['ack']['voiceSms']): BusinessConfig {
  return { ...DEFAULT_BUSINESS_CONFIG, ack: { ...DEFAULT_BUSINESS_CONFIG.ack, voiceSms } };
}

describe('one rule for a number Twilio refuses', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;
  let metrics: CountingMetrics;

  afterEach(async () => {
    await sb.stop();
    await twilio.close();
  });

  async function start(business?: BusinessConfig): Promise<void> {
    twilio = await startFakeTwilio();
    metrics = countingMetrics();
    sb = await startTestSwitchboardThroughTwilio(twilio, { metrics, ...(business ? { business } : {}) });
  }

  const sends = () => twilio.requests.filter((request) => request.method === 'POST').length;

  async function call(from: string): Promise<void> {
    const answer = await sb.postTwilio('voice', 'voice-incoming', {
      CallSid: twilioSid('CA'),
      From: from,
      Caller: from,
    });
    expect(answer.status).toBe(200);
    await sb.drain();
  }

  async function ackSid(id: string): Promise<string | undefined> {
    const page = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId: string | null }>;
    };
    return page.messages.find((m) => m.kind === 'ack')?.providerMessageId ?? undefined;
  }

  it("should end the conversation's other pending automatic job when Twilio refuses its ack 21610, as a STOP would: nothing else tried", async () => {
    // Prepare: a question whose ack is queued; the conversation also holds a pending automatic
    // job (a late notice waiting for its next try, written as the store keeps one)
    await start();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    const { id } = await sb.onlyOpenConversation();
    const stored = await sb.runtime.store.getConversation(id);
    if (!stored?.ack) throw new Error('no ack queued');
    await sb.runtime.store.saveConversation(
      { ...stored, notice: { ...stored.ack, state: 'pending' } },
      stored.version,
    );
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act: the worker tries the ack; the sweeper runs past the notice's time
    await sb.drain();
    await runFor(sb, sb, 60);

    // Assess: the ack skipped for the opt-out, the notice ended too; Twilio asked once
    const after = await sb.runtime.store.getConversation(id);
    expect(after?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(after?.notice).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(sends()).toBe(1);
  });

  for (const code of ['21635', '21614']) {
    it(`should take a ${code} in the status callback of a call's SMS ack as the synchronous refusal: the number marked as taking no SMS, the next call's ack spoken, no text tried`, async () => {
      // Prepare: the business texts every caller; Twilio takes the landline's ack, then reports it
      await start(withVoiceSms('always'));
      await call(LANDLINE);
      const [first] = await listedConversations<ApiConversation>(sb);
      expect(sends()).toBe(1);

      // Act: failed, not a mobile number
      const status = await sb.postTwilio('status', 'status-undelivered-30007', {
        MessageSid: await ackSid(first?.id as string),
        MessageStatus: 'failed',
        ErrorCode: code,
        To: LANDLINE,
      });

      // Assess: marked; the ack is the greeting's promise; a later call texts nothing
      expect(status.status).toBe(200);
      expect((await sb.runtime.store.getContact(`phone:${LANDLINE}`))?.noSmsAt).toBeDefined();
      const [after] = await listedConversations<ApiConversation>(sb);
      expect(after?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
      expect((await sb.act(`/conversations/${first?.id}/resolve`, {})).status).toBe(200);
      sb.clock.advance(7 * 24 * 60 * MINUTE);
      await call(LANDLINE);
      expect(sends()).toBe(1);
    });
  }

  it("should mark a texting customer's number Twilio reports 21614 for (not a mobile number) as taking no SMS, as when it refuses at once", async () => {
    // Prepare: a question by SMS, acknowledged
    await start();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();

    // Act: Twilio reports the ack failed, 21614
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: await ackSid(id),
      MessageStatus: 'undelivered',
      ErrorCode: '21614',
      To: MOBILE,
    });

    // Assess: the contact marked (its next text to us clears it), the ack skipped, not an alarmed failure
    expect(status.status).toBe(200);
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.noSmsAt).toBeDefined();
    expect((await sb.runtime.store.getConversation(id))?.ack).toMatchObject({
      state: 'skipped',
      reason: 'channel-cannot-send',
    });
    expect(metrics.total('AcksFailedAfterSend')).toBe(0);
  });

  for (const [name, caller, business] of [
    ['a landline caller (voiceSms "mobile")', LANDLINE, withVoiceSms('mobile')],
    ['any caller with voiceSms "never"', MOBILE, withVoiceSms('never')],
  ] as const) {
    it(`should count the ack spoken at intake to ${name} in AcksSent once, however often Twilio delivers the call`, async () => {
      // Prepare
      await start(business);
      const callSid = twilioSid('CA');

      // Act: the call, and Twilio's redelivery of its webhook
      for (let delivery = 0; delivery < 2; delivery++) {
        const answer = await sb.postTwilio('voice', 'voice-incoming', {
          CallSid: callSid,
          From: caller,
          Caller: caller,
        });
        expect(answer.status).toBe(200);
        await sb.drain();
      }

      // Assess: the customer was told the promise on the call: one ack sent, no SMS tried
      const [conversation] = await listedConversations<ApiConversation>(sb);
      expect(conversation?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
      expect(sends()).toBe(0);
      expect(metrics.total('AcksSent')).toBe(1);
      expect(metrics.total('AcksSkipped') + metrics.total('AcksFailed')).toBe(0);
    });
  }
});
