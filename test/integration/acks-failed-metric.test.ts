import { afterEach, describe, expect, it } from 'vitest';
import type { MetricName, Metrics } from '#lib/ports/metrics.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import {
  messagingEnvelope,
  messagingTextEvent,
  metaFixture,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';
import { undeliveredBeforeAlias } from '#test/support/races.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  TEST_META_APP_ID,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// An ack the carrier filtered (Twilio 30007) or could not deliver (30003, 30005, 30006) reaches us
// as a status callback after the worker counted it sent: found at stop 26 (follow-ups), such a
// late failure was never counted, so the commonest reason acks silently stop arriving did not
// alarm. Counted then in AcksFailed, it counted twice (AcksSent and AcksFailed), and the alarm's
// AcksFailed / (AcksSent + AcksFailed) read 50 % on a stage whose every ack the carrier filtered.
// It counts in AcksFailedAfterSend instead; the alarm reads
// (AcksFailed + AcksFailedAfterSend) / (AcksSent + AcksFailed), AcksFailed being refusals at send.

const total = (metrics: ReturnType<typeof countingMetrics>, metric: MetricName) =>
  metrics.counted.filter(({ name }) => name === metric).reduce((sum, { value }) => sum + value, 0);

describe('the AcksFailedAfterSend metric for an ack the carrier did not deliver (what the AcksFailing alarm watches)', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;
  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  async function start(metrics: Metrics, clock?: TestClock): Promise<TestSwitchboard> {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { metrics, ...(clock ? { clock } : {}) });
    return sb;
  }

  async function ackOf(switchboard: TestSwitchboard): Promise<string> {
    const conversation = await switchboard.onlyOpenConversation();
    const ack = await switchboard.runtime.store.getMessage(conversation.ack?.messageId as string);
    return ack?.providerMessageId as string;
  }

  it('should count an ack Twilio reports undelivered (carrier filtering, 30007) once in AcksFailedAfterSend, not in AcksFailed, whatever the callbacks repeat', async () => {
    // Prepare: a customer's SMS, acknowledged through Twilio
    const metrics = countingMetrics();
    const switchboard = await start(metrics);
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();
    const sid = await ackOf(switchboard);

    // Act: sent, then undelivered (30007), Twilio's retry of it, then failed (30003) and a late "sent"
    const statuses = [
      await switchboard.postTwilio('status', 'status-delivered', { MessageSid: sid, MessageStatus: 'sent' }),
      await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid }),
      await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid }),
      await switchboard.postTwilio('status', 'status-undelivered-30007', {
        MessageSid: sid,
        MessageStatus: 'failed',
        SmsStatus: 'failed',
        ErrorCode: '30003',
      }),
      await switchboard.postTwilio('status', 'status-delivered', { MessageSid: sid, MessageStatus: 'sent' }),
    ];

    // Assess: the ack failed, counted once beside its send, and not as refused when sent
    expect(statuses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await switchboard.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect(total(metrics, 'AcksSent')).toBe(1);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(1);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });

  it('should count a WhatsApp Cloud ack Meta reports failed (131026, undeliverable) once, and not one refused for the closed window (131047)', async () => {
    // Prepare: two WhatsApp Cloud customers, acknowledged (the local outbox stands in for Meta)
    const metrics = countingMetrics();
    sb = await startTestSwitchboard({ metrics });
    const switchboard = sb;
    for (const [from, id] of [
      ['48601234567', 'wamid.metric0001'],
      ['48607654321', 'wamid.metric0002'],
    ] as const) {
      const payload = metaFixture('whatsapp-text') as {
        entry: Array<{ changes: Array<{ value: { contacts: Array<object>; messages: Array<object> } }> }>;
      };
      const value = payload.entry[0]?.changes[0]?.value;
      if (!value) throw new Error('fixture shape');
      value.contacts[0] = { ...value.contacts[0], wa_id: from };
      value.messages[0] = { ...value.messages[0], from, id, text: { body: 'Gdzie jest moja paczka?' } };
      await switchboard.postMeta(payload);
    }
    await switchboard.drain();
    const sent = await switchboard.outbox();
    const ackTo = (to: string) => sent.find((m) => m.to === to)?.providerMessageId;
    const failed = (to: string, code: number) =>
      whatsappEnvelope({
        statuses: [
          {
            id: ackTo(`+${to}`),
            status: 'failed',
            timestamp: '1763986800',
            recipient_id: to,
            errors: [{ code, title: 'Message undeliverable' }],
          },
        ],
      });

    // Act: the first undeliverable (twice: Meta's retry), the second refused for the window
    const answers = [
      await switchboard.postMeta(failed('48601234567', 131026)),
      await switchboard.postMeta(failed('48601234567', 131026)),
      await switchboard.postMeta(failed('48607654321', 131047)),
    ];

    // Assess
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(total(metrics, 'AcksSent')).toBe(2);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(1);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });

  it('should count an ack Twilio reports undelivered before the worker stored its provider id once (the held status applied by the worker)', async () => {
    // Prepare: the undelivered callback lands between the worker storing the ack and its alias
    const metrics = countingMetrics();
    const switchboard = await start(metrics);
    const race = undeliveredBeforeAlias(switchboard);

    // Act
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();

    // Assess
    expect(race.fired).toBe(true);
    expect(race.callbackStatus).toBe(200);
    expect((await switchboard.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect(total(metrics, 'AcksSent')).toBe(1);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(1);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });

  it("should count an undelivered ack once when the callback's first delivery died after storing the status and Twilio's retry finishes it", async () => {
    // Prepare: an ack sent; the callback's conversation write fails once
    const metrics = countingMetrics();
    const switchboard = await start(metrics);
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();
    const sid = await ackOf(switchboard);
    const crash = injectFault(switchboard.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });

    // Act: the callback, Twilio's retry, and the worker taking the copy queued when the first died
    await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid });
    await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid });
    await switchboard.drain();

    // Assess
    expect(crash.fired).toBe(1);
    expect((await switchboard.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect(total(metrics, 'AcksSent')).toBe(1);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(1);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });

  it('should count an ack Twilio refuses when the worker sends it in AcksFailed, not in AcksSent nor AcksFailedAfterSend', async () => {
    // Prepare: Twilio refuses the ack's send for good
    const metrics = countingMetrics();
    const switchboard = await start(metrics);
    twilio?.failNext(1, {
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
    });

    // Act
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();

    // Assess
    expect((await switchboard.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'SEND_REJECTED:21211',
    });
    expect(total(metrics, 'AcksFailed')).toBe(1);
    expect(total(metrics, 'AcksSent')).toBe(0);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(0);
  });

  // Found at stop 26 (follow-ups): a late notice the carrier did not deliver counted in no metric
  // (only NoticesSent existed), so notices silently failing showed nowhere on the dashboard.
  // Found at stop 27: counted then in NoticesFailed, it counted in NoticesSent too, while a
  // refused notice counted in NoticesFailed alone: NoticesSent + NoticesFailed overstated what was
  // tried. As for acks, a failure reported after the send counts apart, in NoticesFailedAfterSend.
  it('should count a late notice Twilio reports undelivered once in NoticesFailedAfterSend, not in NoticesFailed nor as a failed ack', async () => {
    // Prepare: a customer's SMS acknowledged through Twilio (a Wednesday morning in Warsaw), then
    // the late notice the sweeper sends shortly before the unanswered promise
    const metrics = countingMetrics();
    const switchboard = await start(metrics, new TestClock('2026-11-25T10:00:00+01:00'));
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();
    const replyBy = Date.parse((await switchboard.onlyOpenConversation()).replyBy as string);
    switchboard.clock.set(new Date(replyBy - 29 * 60_000));
    await sweep(switchboard.runtime.sweepDeps);
    await switchboard.drain();
    const conversation = await switchboard.onlyOpenConversation();
    const notice = await switchboard.runtime.store.getMessage(conversation.notice?.messageId as string);
    const sid = notice?.providerMessageId as string;

    // Act: undelivered (30007), Twilio's retry of it, then failed (30003)
    const statuses = [
      await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid }),
      await switchboard.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid }),
      await switchboard.postTwilio('status', 'status-undelivered-30007', {
        MessageSid: sid,
        MessageStatus: 'failed',
        SmsStatus: 'failed',
        ErrorCode: '30003',
      }),
    ];

    // Assess: the notice failed, counted once beside its send; the ack's counts untouched
    expect(statuses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect((await switchboard.onlyOpenConversation()).notice).toMatchObject({ state: 'failed' });
    expect(total(metrics, 'NoticesSent')).toBe(1);
    expect(total(metrics, 'NoticesFailedAfterSend')).toBe(1);
    expect(total(metrics, 'NoticesFailed')).toBe(0);
    expect(total(metrics, 'AcksFailed')).toBe(0);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(0);
  });

  it('should count a late notice Twilio refuses when the worker sends it in NoticesFailed, as a refused ack counts in AcksFailed', async () => {
    // Prepare: a customer's SMS acknowledged through Twilio; Twilio refuses the next send for good
    const metrics = countingMetrics();
    const switchboard = await start(metrics, new TestClock('2026-11-25T10:00:00+01:00'));
    await switchboard.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await switchboard.drain();
    const replyBy = Date.parse((await switchboard.onlyOpenConversation()).replyBy as string);
    twilio?.failNext(1, {
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
    });

    // Act: the late notice comes due and the worker sends it
    switchboard.clock.set(new Date(replyBy - 29 * 60_000));
    await sweep(switchboard.runtime.sweepDeps);
    await switchboard.drain();

    // Assess
    expect((await switchboard.onlyOpenConversation()).notice).toMatchObject({
      state: 'failed',
      reason: 'SEND_REJECTED:21211',
    });
    expect(total(metrics, 'NoticesSent')).toBe(0);
    expect(total(metrics, 'NoticesFailed')).toBe(1);
    expect(total(metrics, 'NoticesFailedAfterSend')).toBe(0);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });
});

// Stop 32: an ack whose last try lost its answer goes to the DLQ counted in AcksFailed (we could
// not learn whether it went); Meta's report that it did settles it sent (settleReported). The
// failure stayed counted: ops saw an ack failed for good that the customer got.
describe('the AcksFailed metric for a dead-lettered acknowledgement Meta later reports sent', () => {
  let sb: TestSwitchboard | undefined;
  let meta: FakeMeta | undefined;
  afterEach(async () => {
    await sb?.stop();
    await meta?.close();
    sb = undefined;
    meta = undefined;
  });

  it('should take the failure back and count the ack sent when the echo of a dead-lettered Messenger ack arrives, once however often it comes', async () => {
    // Prepare: one try only; Meta takes the ack, its answer is lost: failed, dead-lettered
    const metrics = countingMetrics();
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, maxReceiveCount: 1, metrics });
    meta.useClock(sb.clock);
    meta.failNext(1, { status: 504, gateway: true, taken: true });
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect(total(metrics, 'AcksFailed')).toBe(1);
    const [ack] = meta.taken;

    // Act: its echo, and Meta's retry of it
    sb.clock.advance(30_000);
    const echoes = [
      await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID })),
      await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID })),
    ];

    // Assess: sent, and counted as what it was: one ack sent, none failed
    expect(echoes.map((response) => response.status)).toEqual([200, 200]);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(total(metrics, 'AcksFailed')).toBe(0);
    expect(total(metrics, 'AcksSent')).toBe(1);
    expect(total(metrics, 'AcksFailedAfterSend')).toBe(0);
  });

  // Stop 33: the same ack once the customer's next episode took its slot (owed its lookup) stayed
  // counted failed when Meta's echo settled it.
  it('should take the failure back when the echo of a dead-lettered Messenger ack arrives after an agent answered and the customer wrote again', async () => {
    // Prepare: dead-lettered as above; an agent answers; the customer writes again an hour on
    const metrics = countingMetrics();
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, maxReceiveCount: 1, metrics });
    meta.useClock(sb.clock);
    meta.failNext(1, { status: 504, gateway: true, taken: true });
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const [ack] = meta.taken;
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' })).status).toBe(201);
    sb.clock.advance(60 * 60_000);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(2, { text: 'A kiedy dojdzie?' })]]));
    const owed = (await sb.onlyOpenConversation()).lookUps ?? [];
    expect(owed.map((l) => l.episode)).toEqual([1]);

    // Act: the first ack's echo
    expect((await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID }))).status).toBe(200);

    // Assess: the first ack no longer counted failed
    expect((await sb.onlyOpenConversation()).lookUps ?? []).toEqual([]);
    expect(total(metrics, 'AcksFailed')).toBe(0);
  });
});
