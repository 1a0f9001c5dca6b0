import { afterEach, describe, expect, it } from 'vitest';
import { ackMessageId } from '#lib/domain/conversation.ts';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { postCallback } from '#test/support/degraded-twilio.ts';
import { redriveDlq, takeDlq } from '#test/support/dlq.ts';
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

/** Rounds of the sweeper and the worker, the clock 10 minutes on each. */
async function sweepRounds(sb: TestSwitchboard, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    sb.clock.advance(10 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
  }
}

// Follow-up of stop 35's read-back outage: the owed lookups (lookUps) and the jobs that back off
// with LOOKUP_FAILED did not keep the record of an ack Twilio reported taking.
describe('owed lookups of a reported try while Twilio cannot be read', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  it('should back off an owed lookup while Twilio cannot be read, dead-letter it when its tries are spent, and record the ack on its redrive', async () => {
    // Prepare: Twilio takes the ack; before its answer reaches the worker an agent answers and the
    // customer writes again (the next episode's ack takes the slot); the worker dies before storing
    // the message; Twilio reports it; then Twilio's API answers 503 to every read
    twilio = await startFakeTwilio();
    const metrics = countingMetrics();
    let meanwhile: (() => Promise<void>) | null = null;
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      maxReceiveCount: 3,
      metrics,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const post = String(input).endsWith('/Messages.json') && init?.method === 'POST';
        const during = meanwhile;
        if (post && during) {
          meanwhile = null;
          await during();
        }
        return response;
      },
    });
    const switchboard = sb;
    const crash = crashBeforeStoringAck(sb);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    const { id } = await sb.onlyOpenConversation();
    meanwhile = async () => {
      switchboard.clock.advance(3_000);
      const replied = await switchboard.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' });
      expect(replied.status).toBe(201);
      switchboard.clock.advance(5_000);
      await switchboard.postSms({ From: '+48601234567', Body: 'Dziękuję, a kiedy dojdzie?' });
    };
    await sb.drain();
    crash.remove();
    expect(crash.fired).toBe(1);
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'sent'))).status).toBe(200);
    twilio.failReads(503);

    // Act: the lease runs out; the sweeper queues the owed lookup again and again while Twilio
    // stays down; then Twilio answers again and the DLQ is redriven
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const first = (await sb.runtime.store.getConversation(id))?.lookUps?.[0];
    const firstAt = sb.clock.now().getTime();
    await sweepRounds(sb, 6);
    const spent = (await sb.runtime.store.getConversation(id))?.lookUps?.[0];
    const failedOnce = metrics.total('AcksFailed');
    await sweepRounds(sb, 2);
    twilio.failReads(null);
    sb.clock.advance(20 * 60_000);
    const moved = await redriveDlq(sb);
    await sb.drain();

    // Assess: backing off (each read a try, due later), dead-lettered once its tries were spent
    // (the sweeper queued it no more), then recorded sent by its redrive, texted once
    expect(first).toMatchObject({ attempts: 1 });
    expect(Date.parse(first?.retryAt as string)).toBeGreaterThan(firstAt);
    expect(spent).toMatchObject({ countedFailed: true });
    expect(spent?.deadLetteredAt).toBeDefined();
    expect(failedOnce).toBe(1);
    expect(moved, 'the owed lookup in the DLQ, once').toHaveLength(1);
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.lookUps ?? []).toEqual([]);
    const ack = await sb.runtime.store.getMessage(ackMessageId(id, 1));
    expect([ack?.text, ack?.providerMessageId]).toEqual([taken?.body, taken?.sid]);
    const sent = (await sb.events()).filter((event) => event.type === 'ack.sent' && event.data.episode === 1);
    expect(sent).toHaveLength(1);
    const texted = twilio.taken().filter((message) => message.body === taken?.body);
    expect(texted, 'the first ack texted again').toHaveLength(1);
    expect(metrics.total('AcksFailed')).toBe(0);
    expect(await takeDlq(sb)).toEqual([]);
  });

  /**
   * The worker dies after Twilio took the ack, before storing it; Twilio reports it; while Twilio
   * cannot be read, the job's next try backs off (LOOKUP_FAILED, no uncertain mark); an agent answers.
   */
  async function unreadWhenAnswered(): Promise<{ sb: TestSwitchboard; twilio: FakeTwilio; id: string }> {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { maxReceiveCount: 3 });
    const crash = crashBeforeStoringAck(sb);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    crash.remove();
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'sent'))).status).toBe(200);
    twilio.failReads(503);
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const { id, ack } = await sb.onlyOpenConversation();
    expect(ack).toMatchObject({ state: 'pending', reason: 'LOOKUP_FAILED' });
    sb.clock.advance(10_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' })).status).toBe(201);
    return { sb, twilio, id };
  }

  /** The first episode's ack the customer got: on record with its SID, announced sent once, never skipped. */
  async function expectAckKept(sb: TestSwitchboard, twilio: FakeTwilio, id: string): Promise<void> {
    const [taken] = twilio.taken();
    const ack = await sb.runtime.store.getMessage(ackMessageId(id, 1));
    expect([ack?.text, ack?.providerMessageId]).toEqual([taken?.body, taken?.sid]);
    const events = (await sb.events()).filter((event) => event.data.episode === 1);
    expect(events.filter((event) => event.type === 'ack.sent')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'ack.skipped')).toEqual([]);
    const texted = twilio.taken().filter((message) => message.body === taken?.body);
    expect(texted, 'the first ack texted again').toHaveLength(1);
  }

  it('should keep on record the ack Twilio reported when an agent answers while its read-back backs off', async () => {
    // Prepare: the ack's read-back backs off (LOOKUP_FAILED) and an agent answers meanwhile
    const { sb, twilio, id } = await unreadWhenAnswered();

    // Act: Twilio answers again; the sweeper and the worker run
    twilio.failReads(null);
    await sweepRounds(sb, 3);

    // Assess: the ack the customer got is on record and sent, not skipped as answered
    expect((await sb.runtime.store.getConversation(id))?.ack).toMatchObject({ state: 'sent' });
    await expectAckKept(sb, twilio, id);
  });

  it("should keep on record the ack Twilio reported when the customer's next message takes its slot while its read-back backs off", async () => {
    // Prepare: the ack's read-back backs off; an agent answers; the customer writes again
    const { sb, twilio, id } = await unreadWhenAnswered();
    sb.clock.advance(10_000);
    await sb.postSms({ From: '+48601234567', Body: 'A kiedy dojdzie do Krakowa?' });
    await sb.drain();

    // Act: Twilio answers again; the sweeper and the worker run
    twilio.failReads(null);
    await sweepRounds(sb, 3);

    // Assess: the first episode's ack on record, nothing owed
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.ack?.episode, 'the slot taken by the next episode').toBe(2);
    expect(conversation?.lookUps ?? []).toEqual([]);
    await expectAckKept(sb, twilio, id);
  });

  it("should dead-letter an answered episode's ack whose read-back kept failing, and record it (not skip it) on the redrive", async () => {
    // Prepare: the ack's read-back backs off and an agent answers meanwhile
    const { sb, twilio, id } = await unreadWhenAnswered();

    // Act: Twilio stays down through the ack's tries; then it answers and the DLQ is redriven
    await sweepRounds(sb, 6);
    const deadLettered = (await sb.runtime.store.getConversation(id))?.ack;
    twilio.failReads(null);
    sb.clock.advance(20 * 60_000);
    const moved = await redriveDlq(sb);
    await sb.drain();

    // Assess: failed and in the DLQ (not skipped as answered), then on record and sent
    expect(deadLettered).toMatchObject({ state: 'failed', reason: 'LOOKUP_FAILED' });
    expect(deadLettered?.deadLetteredAt).toBeDefined();
    expect(moved.length, 'the job in the DLQ').toBeGreaterThan(0);
    expect((await sb.runtime.store.getConversation(id))?.ack).toMatchObject({ state: 'sent' });
    await expectAckKept(sb, twilio, id);
  });

  it('should record the ack Twilio reported when its worker died before storing it and an agent answered before its lease ended', async () => {
    // Prepare: the worker dies after Twilio took the ack (the job left sending); Twilio reports
    // it; an agent answers while the dead worker's lease still runs
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const crash = crashBeforeStoringAck(sb);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    crash.remove();
    const [taken] = twilio.taken();
    expect((await postCallback(sb, twilio.statusCallback(taken?.sid as string, 'sent'))).status).toBe(200);
    const { id } = await sb.onlyOpenConversation();
    sb.clock.advance(10_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' })).status).toBe(201);

    // Act: the lease runs out; the sweeper queues the job again
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: on record and sent (Twilio's report read), not skipped as answered
    expect((await sb.runtime.store.getConversation(id))?.ack).toMatchObject({ state: 'sent' });
    await expectAckKept(sb, twilio, id);
  });
});
