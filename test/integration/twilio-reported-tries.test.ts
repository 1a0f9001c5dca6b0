import { afterEach, describe, expect, it } from 'vitest';
import { ackMessageId } from '#lib/domain/conversation.ts';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type Degraded, degradedTwilio, postCallback } from '#test/support/degraded-twilio.ts';
import { drainThroughRetries, redriveDlq } from '#test/support/dlq.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { injectFault } from '#test/support/faults.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

/** The worker dies after Twilio took the ack, before storing it (its PutItem never runs). */
function crashBeforeStoringAck(sb: TestSwitchboard) {
  return injectFault(sb.backends.dynamodb, {
    command: 'PutItemCommand',
    when: 'before',
    match: (input) => (input.Item as { kind?: { S?: string } } | undefined)?.kind?.S === 'ack',
  });
}

// Found by the review of stop 34's ?m= reports: a report about a try whose outcome we did not see
// was recorded at the conversation's current route, settled only by a later lookup, and a Twilio
// outage during its read-back dead-lettered nothing (the job was lost as "worker died").
describe("Twilio's reports of tries whose outcome we did not see", () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  it('should back off while Twilio cannot be read for a reported ack its worker never stored, dead-letter it, and record it (not text it again) on the redrive', async () => {
    // Prepare: the worker dies after Twilio took the ack; Twilio reports it; then Twilio's API
    // answers 503 to every read for longer than the ack's tries
    twilio = await startFakeTwilio();
    const metrics = countingMetrics();
    sb = await startTestSwitchboardThroughTwilio(twilio, { maxReceiveCount: 3, metrics });
    const crash = crashBeforeStoringAck(sb);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    crash.remove();
    expect(crash.fired).toBe(1);
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'sent'))).status).toBe(200);
    twilio.failReads(503);

    // Act: the lease runs out; the job comes again and again while Twilio stays down
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const backingOff = (await sb.onlyOpenConversation()).ack;
    await drainThroughRetries(sb);
    const deadLettered = (await sb.onlyOpenConversation()).ack;
    twilio.failReads(null);
    sb.clock.advance(20 * 60_000);
    const moved = await redriveDlq(sb);
    await sb.drain();

    // Assess: backing off as a send outage does, then in the DLQ; its redrive read the report
    expect(backingOff).toMatchObject({ state: 'pending', reason: 'LOOKUP_FAILED' });
    expect(deadLettered).toMatchObject({ state: 'failed', reason: 'LOOKUP_FAILED' });
    expect(moved, 'the job in the DLQ').toHaveLength(1);
    expect(twilio.taken(), 'the ack texted again').toHaveLength(1);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'sent' });
    const ack = await sb.runtime.store.getMessage(ackMessageId(conversation.id, 1));
    expect([ack?.text, ack?.providerMessageId]).toEqual([taken?.body, taken?.sid]);
    expect(metrics.total('AcksFailed')).toBe(0);
    expect(metrics.total('AcksSent')).toBe(1);
  });

  it('should record a reported ack its worker never stored where Twilio says it went (SMS), after the customer wrote on WhatsApp', async () => {
    // Prepare: the worker dies after Twilio took the SMS ack; Twilio reports it; the customer then
    // writes from the same number on WhatsApp (the conversation is answered there now)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const crash = crashBeforeStoringAck(sb);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    crash.remove();
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'delivered'))).status).toBe(
      200,
    );
    sb.clock.advance(60_000);
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: 'whatsapp:+48601234567',
      WaId: '48601234567',
      Body: 'Piszę też tutaj',
    });
    await sb.drain();
    expect((await sb.onlyOpenConversation()).route.customer).toBe('whatsapp:+48601234567');

    // Act: the lease runs out; the job comes again and finds Twilio's report
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: on record as the SMS it was, to and from the numbers Twilio names; not sent again
    expect(twilio.taken(), 'the ack texted again').toHaveLength(1);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'sent' });
    const ack = await sb.runtime.store.getMessage(ackMessageId(conversation.id, 1));
    const sent = twilio.requests.find((request) => request.method === 'POST');
    expect(ack).toMatchObject({
      channel: 'sms',
      to: '+48601234567',
      from: sent?.form.From,
      providerMessageId: taken?.sid,
      delivery: { status: 'delivered' },
    });
  });

  it("should settle an uncertain ack when Twilio's status callback for it comes, before its next try", async () => {
    // Prepare: Twilio takes the ack, its answer is lost, and the lookup right after fails
    twilio = await startFakeTwilio();
    const state: Degraded = { lostAnswers: 1, lostBefore: 0, list: 'down' };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state) });
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'pending',
      reason: 'SEND_UNCERTAIN',
    });

    // Act: Twilio's callback for it comes (the list still down); later the wait passes
    const [taken] = twilio.taken();
    sb.clock.advance(30_000);
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'delivered'))).status).toBe(
      200,
    );
    const atCallback = await sb.onlyOpenConversation();
    const stored = await sb.runtime.store.getMessage(ackMessageId(atCallback.id, 1));
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: sent at the callback, on record with its SID and status, announced once, never again
    expect(atCallback.ack).toMatchObject({ state: 'sent' });
    expect(stored).toMatchObject({
      to: '+48601234567',
      text: taken?.body,
      providerMessageId: taken?.sid,
      delivery: { status: 'delivered' },
    });
    expect(twilio.taken(), 'the ack texted again').toHaveLength(1);
    expect((await sb.events()).filter((event) => event.type === 'ack.sent')).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
  });

  it("should settle an uncertain ack failed when Twilio's status callback reports it undelivered", async () => {
    // Prepare: Twilio takes the ack, its answer is lost, and the lookup right after fails
    twilio = await startFakeTwilio();
    const state: Degraded = { lostAnswers: 1, lostBefore: 0, list: 'down' };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state) });
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();

    // Act: Twilio reports it undelivered (the phone off); later the wait passes
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'undelivered'))).status).toBe(
      200,
    );
    const atCallback = await sb.onlyOpenConversation();
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: on record and failed as reported, never texted again
    expect(atCallback.ack).toMatchObject({ state: 'failed' });
    const stored = await sb.runtime.store.getMessage(ackMessageId(atCallback.id, 1));
    expect(stored).toMatchObject({ providerMessageId: taken?.sid, delivery: { status: 'undelivered' } });
    expect(twilio.taken(), 'the ack texted again').toHaveLength(1);
  });

  it("should record an agent's uncertain reply as sent when Twilio's status callback for it comes, and not text it again on its retry", async () => {
    // Prepare: an acknowledged SMS customer; Twilio takes the agent's reply but its answer is lost
    twilio = await startFakeTwilio();
    const state: Degraded = { lostAnswers: 0, lostBefore: 0, list: 'down' };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: degradedTwilio(state) });
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.advance(30 * 60_000);
    state.lostAnswers = 1;
    const reply = { text: 'Paczka wyszła dziś.' };
    expect((await sb.act(`/conversations/${id}/replies`, reply, { key: 'k-1' })).status).toBe(503);

    // Act: Twilio's callback for it comes; the agents' tool retries after the wait
    const sid = twilio.taken().at(-1)?.sid as string;
    expect((await postCallback(sb, twilio.statusCallback(sid, 'delivered'))).status).toBe(200);
    const atCallback = await sb.runtime.store.getConversation(id);
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    const retried = await sb.act(`/conversations/${id}/replies`, reply, { key: 'k-1' });

    // Assess: answered at the callback, on record once with its SID, texted once
    expect(atCallback?.uncertainReplies).toBeUndefined();
    expect(atCallback?.awaitingSince ?? null).toBeNull();
    expect(retried.status).toBe(201);
    expect(twilio.taken(), 'the ack and the reply, the reply texted again').toHaveLength(2);
    expect((await sb.events()).filter((event) => event.type === 'reply.sent')).toHaveLength(1);
  });
});
