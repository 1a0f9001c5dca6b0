import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { type CountingMetrics, countingMetrics } from '#test/support/counting-metrics.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { beforeCall, pkStartsWith } from '#test/support/faults.ts';
import { listedConversations } from '#test/support/listed.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

// Twilio refuses an SMS at once for what the customer's number is: 21610, the number texted STOP
// to us (Twilio keeps its own blocklist: a STOP from before Switchboard, or one we never heard),
// and 21635 / 21614, a number that cannot take an SMS (a landline outside the US, Canada and the
// UK, where Twilio does not even try). Neither is a failure of ours, nor worth trying again.

const MOBILE = '+48601234567';
const LANDLINE = '+48221112233';
const MINUTE = 60_000;

type ApiConversation = {
  id: string;
  awaiting: string | null;
  ack: { state: string; reason?: string } | null;
};

function withVoiceSms(voiceSms: BusinessConfig['ack']['voiceSms']): BusinessConfig {
  return { ...DEFAULT_BUSINESS_CONFIG, ack: { ...DEFAULT_BUSINESS_CONFIG.ack, voiceSms } };
}

function conversationsOf(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return listedConversations<ApiConversation>(sb);
}

async function call(sb: TestSwitchboard, from: string): Promise<void> {
  const answer = await sb.postTwilio('voice', 'voice-incoming', {
    CallSid: twilioSid('CA'),
    From: from,
    Caller: from,
  });
  expect(answer.status).toBe(200);
  await sb.drain();
}

/** A day's sweeps, hourly: whatever falls due in between is done at the next round. */
function sweepFor(sb: TestSwitchboard, minutes: number): Promise<void> {
  return runFor(sb, sb, minutes, Math.min(minutes, 60));
}

describe('Twilio refusing an SMS for what the number is', () => {
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

  it("should take Twilio's 21610 (the number texted STOP) as the customer's opt-out: the ack skipped, not failed, nothing tried again", async () => {
    // Prepare: Twilio refuses the ack, the number being on its STOP list
    await start();
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act: a customer's question
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();

    // Assess: as after their STOP: no ack, the question still waits for a person, no alarm
    const [conversation] = await conversationsOf(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(conversation?.awaiting).toBe('reply');
    expect(metrics.total('AcksFailed')).toBe(0);
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.optedOut).toBe(true);
    // ...and no late notice is tried on the number
    await sweepFor(sb, 26 * 60);
    expect(sends()).toBe(1);
  });

  // Found at stop 33: Twilio does not read the Polish opt-in words, so "Zapisz mnie" after
  // Twilio's own STOP opts the number in here but not at Twilio, which refuses the ack it requests.
  it('should take the 21610 refusing the ack a Polish "Zapisz mnie" requested after STOP as that STOP again: skipped, not failed', async () => {
    // Prepare: STOP (on Twilio's list), a question while opted out
    await start();
    await sb.postSms({ From: MOBILE, Body: 'STOP' });
    await sb.postSms({ From: MOBILE, Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    expect(sends()).toBe(0);
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act: the customer opts back in, in Polish
    sb.clock.advance(MINUTE);
    await sb.postSms({ From: MOBILE, Body: 'Zapisz mnie' });
    await sb.drain();

    // Assess: the ack was tried once, refused: opted out again, the question still waits, no alarm
    expect(sends()).toBe(1);
    const [conversation] = await conversationsOf(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(conversation?.awaiting).toBe('reply');
    expect(metrics.total('AcksFailed')).toBe(0);
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.optedOut).toBe(true);
    await sweepFor(sb, 26 * 60);
    expect(sends()).toBe(1);
  });

  it("should take a 21610 in the ack's status callback as the opt-out: the ack skipped, not failed, the contact opted out", async () => {
    // Prepare: Twilio (a Messaging Service) takes the ack
    await start();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const [conversation] = await conversationsOf(sb);
    const page = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId: string | null }>;
    };
    const ack = page.messages.find((m) => m.kind === 'ack');

    // Act: and reports it failed, 21610
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId ?? undefined,
      MessageStatus: 'failed',
      ErrorCode: '21610',
      To: MOBILE,
    });

    // Assess: as when refused at once
    expect(status.status).toBe(200);
    const [after] = await conversationsOf(sb);
    expect(after?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(metrics.total('AcksFailedAfterSend')).toBe(0);
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.optedOut).toBe(true);
    await sweepFor(sb, 26 * 60);
    expect(sends()).toBe(1);
  });

  // Found by the review of stop 34: the worker's "sent", written after the held status was applied,
  // overwrote the opt-out's skip (only a failure or the window's skip stood), so the ack was on
  // record as sent, announced sent after its skip, though Twilio never delivered it.
  it('should keep the ack skipped for the opt-out when its 21610 status comes before the worker stored its SID', async () => {
    // Prepare: Twilio takes the ack and reports it failed, 21610, before the worker writes the alias
    await start();
    const early = beforeCall(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: pkStartsWith('PMID#') },
      async () => {
        const status = await sb.postTwilio('status', 'status-undelivered-30007', {
          MessageSid: twilio.taken()[0]?.sid,
          MessageStatus: 'failed',
          ErrorCode: '21610',
          To: MOBILE,
        });
        expect(status.status).toBe(200);
      },
    );

    // Act
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();

    // Assess: as when the status comes after: skipped, never announced sent, the contact opted out
    expect(early.fired).toBe(true);
    const [after] = await conversationsOf(sb);
    expect(after?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
    expect(types).toEqual(['ack.skipped']);
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.optedOut).toBe(true);
    await sweepFor(sb, 26 * 60);
    expect(sends()).toBe(1);
  });

  it("should keep a caller's spoken promise as the ack when Twilio refuses its SMS with 21610, measured", async () => {
    // Prepare
    await start();
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act: they call; the SMS after the greeting is refused
    await call(sb, MOBILE);

    // Assess: the greeting spoke the promise: that is the ack, and it is measured
    const [conversation] = await conversationsOf(sb);
    expect(conversation?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
    expect(metrics.total('AcksFailed')).toBe(0);
    // ...and counted as an ack sent, as the spoken ack of a 30006 is: the caller was told
    expect(metrics.total('AcksSent')).toBe(1);
    expect(metrics.total('AcksSkipped')).toBe(0);
    await sweepFor(sb, 26 * 60);
    expect((await sb.events()).map((event) => event.type)).toContain('promise.breached');
    expect(sends()).toBe(1);
  });

  it('should never text a landline again once Twilio refused it (21635), with voiceSms "always"', async () => {
    // Prepare: the business texts every caller; Twilio refuses a Polish landline
    await start(withVoiceSms('always'));
    twilio.failNext(1, { status: 400, code: 21635, message: "'To' number cannot be a landline" });
    await call(sb, LANDLINE);
    const [first] = await conversationsOf(sb);
    expect(first?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
    expect((await sb.act(`/conversations/${first?.id}/resolve`, {})).status).toBe(200);

    // Act: a week later they call again
    sb.clock.advance(7 * 24 * 60 * MINUTE);
    await call(sb, LANDLINE);

    // Assess: the second call's ack is the greeting; Twilio was asked once in all
    const second = (await conversationsOf(sb)).find((c) => c.id !== first?.id);
    expect(second?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
    expect(sends()).toBe(1);
    expect(metrics.total('AcksFailed')).toBe(0);
    // The first call's ack, spoken after its SMS was refused, counted sent (the customer was
    // told), never skipped; the second's, spoken with no SMS tried, counted sent at intake
    expect(metrics.total('AcksSent')).toBe(2);
    expect(metrics.total('AcksSkipped')).toBe(0);
  });
});

describe("Twilio refusing an agent's reply for what the number is", () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;

  afterEach(async () => {
    await sb.stop();
    await twilio.close();
  });

  const sends = () => twilio.requests.filter((request) => request.method === 'POST').length;

  async function contactOf(number: string): Promise<{ optedOut: boolean }> {
    const response = await sb.api(`/api/contacts/${encodeURIComponent(`phone:${number}`)}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { contact: { optedOut: boolean } }).contact;
  }

  it("should take Twilio's 21610 refusing an agent's reply as the customer's opt-out: the reply failed with its reason, the contact opted out, no late notice or next ack tried", async () => {
    // Prepare: a question, acknowledged; the customer has since unsubscribed at Twilio
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    expect(sends()).toBe(1);
    const [conversation] = await conversationsOf(sb);
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act: an agent answers
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Paczka wyszła dziś.' });

    // Assess: the agent is told it did not go, and why
    expect(reply.status).toBe(422);
    expect(await reply.json()).toMatchObject({
      error: { code: 'PROVIDER_REJECTED', details: { provider: 'twilio', reason: 'SEND_REJECTED:21610' } },
    });
    // ...the contact shows the opt-out, and the question still waits for a person
    expect((await contactOf(MOBILE)).optedOut).toBe(true);
    expect((await conversationsOf(sb))[0]?.awaiting).toBe('reply');
    // ...no late notice is tried on the number as the promise nears
    await sweepFor(sb, 26 * 60);
    expect(sends()).toBe(2);
    // ...nor the ack of their next question
    expect((await sb.act(`/conversations/${conversation?.id}/resolve`, {})).status).toBe(200);
    sb.clock.advance(7 * 24 * 60 * MINUTE);
    await sb.postSms({ From: MOBILE, Body: 'A druga paczka?' });
    await sb.drain();
    const next = (await conversationsOf(sb)).find((c) => c.id !== conversation?.id);
    expect(next?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(sends()).toBe(2);
    // ...while a person's answer is still theirs to try, as to any number that opted out
    const answer = await sb.act(`/conversations/${next?.id}/replies`, { text: 'Sprawdzę.' });
    expect(answer.status).toBe(201);
    expect(sends()).toBe(3);
  });

  // A Messaging Service takes the send and reports Twilio's refusal afterwards, in its status callback.
  it("should take a 21610 in the status callback of an agent's reply as the opt-out too: the reply failed with its code, the contact opted out", async () => {
    // Prepare: a question, acknowledged; an agent's reply Twilio takes
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const [conversation] = await conversationsOf(sb);
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Paczka wyszła dziś.' });
    const { message } = (await reply.json()) as { message: { providerMessageId: string } };

    // Act: Twilio reports it failed, 21610
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: message.providerMessageId,
      MessageStatus: 'failed',
      ErrorCode: '21610',
      To: MOBILE,
    });

    // Assess: shown failed with its code, and the number opted out as by its STOP
    expect(status.status).toBe(200);
    const detail = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
      conversation: { replyFailure?: { status: string; errorCode?: string } };
    };
    expect(detail.conversation.replyFailure).toMatchObject({ status: 'failed', errorCode: '21610' });
    expect((await contactOf(MOBILE)).optedOut).toBe(true);
  });

  // Found in review: the callback's 21610 was placed at its arrival, after the START.
  it('should leave a number opted in when the 21610 of a reply sent before its START is reported after it', async () => {
    // Prepare: an agent's reply Twilio takes, the number on Twilio's STOP list
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const [conversation] = await conversationsOf(sb);
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Paczka wyszła dziś.' });
    const { message } = (await reply.json()) as { message: { providerMessageId: string } };
    // ...the customer texts START a minute later (Twilio lifts its own list then)
    sb.clock.advance(MINUTE);
    await sb.postSms({ From: MOBILE, Body: 'START' });
    await sb.drain();

    // Act: the refusal of the reply sent before the START is reported after it
    sb.clock.advance(MINUTE);
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: message.providerMessageId,
      MessageStatus: 'failed',
      ErrorCode: '21610',
      To: MOBILE,
    });

    // Assess: the reply failed with its code; the customer's START, their latest word, stands
    expect(status.status).toBe(200);
    const detail = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
      conversation: { replyFailure?: { status: string; errorCode?: string } };
    };
    expect(detail.conversation.replyFailure).toMatchObject({ status: 'failed', errorCode: '21610' });
    expect((await contactOf(MOBILE)).optedOut).toBe(false);
  });

  for (const code of [21635, 21614]) {
    it(`should remember a caller's number Twilio refused an agent's text for (${code}): the reply failed with its reason, the next refused at once (409 NO_ROUTE)`, async () => {
      // Prepare: a landline calls; its greeting is the ack, no SMS tried
      twilio = await startFakeTwilio();
      sb = await startTestSwitchboardThroughTwilio(twilio);
      await call(sb, LANDLINE);
      expect(sends()).toBe(0);
      const [conversation] = await conversationsOf(sb);
      twilio.failNext(1, { status: 400, code, message: "'To' number cannot receive SMS" });

      // Act: an agent answers the call by text
      const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Oddzwonię po 14.' });

      // Assess: not delivered, said so with its reason
      expect(reply.status).toBe(422);
      expect(await reply.json()).toMatchObject({
        error: { code: 'PROVIDER_REJECTED', details: { reason: `SEND_REJECTED:${code}` } },
      });
      expect((await sb.runtime.store.getContact(`phone:${LANDLINE}`))?.noSmsAt).toBeDefined();
      // ...and the next text is refused before Twilio is asked: call them back
      const again = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Oddzwonię po 15.' });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe('NO_ROUTE');
      expect(sends()).toBe(1);
    });
  }
});
