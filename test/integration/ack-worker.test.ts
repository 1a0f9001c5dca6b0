import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { ackMessageId } from '#lib/domain/conversation.ts';
import { handleWorkRecord, UnreadableJobError } from '#lib/runtime/work-records.ts';
import { sendAck } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { drainThroughRetries, redriveDlq } from '#test/support/dlq.ts';
import {
  FAKE_ACCOUNT_SID,
  FAKE_AUTH_TOKEN,
  type FakeTwilio,
  startFakeTwilio,
} from '#test/support/fake-twilio.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

describe('the ack worker', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb.stop();
    await twilio?.close();
    twilio = undefined;
  });

  async function withFakeTwilio(options: { maxReceiveCount?: number } = {}) {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, options);
  }

  async function onlyConversation() {
    const { items } = (await (await sb.api('/api/conversations')).json()) as {
      items: Array<{ id: string; ack: { state: string; reason?: string; sentAt?: string } }>;
    };
    expect(items).toHaveLength(1);
    return items[0] as (typeof items)[number];
  }

  it('should send the acknowledgement through the Twilio Messages API from the number the customer wrote to', async () => {
    // Prepare
    await withFakeTwilio();

    // Act
    await sb.postSms({ From: '+48601234567', To: '+48221234567', Body: 'Dzień dobry' });
    await sb.drain();

    // Assess
    expect(twilio?.requests).toHaveLength(1);
    const request = twilio?.requests[0];
    expect(request?.path).toBe(`/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${FAKE_ACCOUNT_SID}:${FAKE_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(request?.form.To).toBe('+48601234567');
    expect(request?.form.From).toBe('+48221234567');
    expect(String(request?.form.Body)).toContain('Anna Kowalska');
    const conversation = await onlyConversation();
    // Our status URL naming the ack's message (stop 34: Twilio's report names the try).
    expect(request?.form.StatusCallback).toBe(
      `https://switchboard.example.com/webhooks/twilio/status?m=${ackMessageId(conversation.id, 1)}`,
    );
    expect(conversation.ack.state).toBe('sent');
    const { messages } = (await (await sb.api(`/api/conversations/${conversation.id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId: string | null }>;
    };
    expect(messages.find((m) => m.kind === 'ack')?.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('should mark the ack failed without retrying when Twilio rejects the number for good', async () => {
    // Prepare
    await withFakeTwilio();
    twilio?.failNext(1, {
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
    });

    // Act
    await sb.postSms({ From: '+48601000020' });
    await sb.drain();

    // Assess
    expect(twilio?.requests).toHaveLength(1);
    const conversation = await onlyConversation();
    expect(conversation.ack).toMatchObject({ state: 'failed', reason: 'SEND_REJECTED:21211' });
  });

  it('should retry a failing provider through the queue, then show failed and leave the job in the DLQ', async () => {
    // Prepare: Twilio answers 503 to every attempt (the sender's own retries included). (A 500
    // may come after Twilio took the message: uncertain, uncertain-sends.test.ts.)
    await withFakeTwilio({ maxReceiveCount: 3 });
    twilio?.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });

    // Act
    await sb.postSms({ From: '+48601000021' });
    await drainThroughRetries(sb);

    // Assess
    const conversation = await onlyConversation();
    expect(conversation.ack.state).toBe('failed');
    expect(conversation.ack.reason).toBe('SEND_FAILED:20503');
    const dlq = await sb.backends.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sb.backends.dlqUrl, WaitTimeSeconds: 1 }),
    );
    expect(dlq.Messages).toHaveLength(1);
    expect(JSON.parse(dlq.Messages?.[0]?.Body ?? '{}')).toMatchObject({
      conversationId: conversation.id,
      episode: 1,
    });
    // The sweeper never resurrects a failed ack.
    sb.clock.advance(10 * 60_000);
    expect((await sweep(sb.runtime.sweepDeps)).requeued).toBe(0);
  });

  // Stop 24 (stop 23's "left alone"): the sweeper queued a failed ack again every minute, so
  // the five tries were spent in about five minutes of a provider's outage.
  it('should back off between tries after a provider failure (1, 2, 4, 8 minutes) and send once when it recovers', async () => {
    // Prepare: Twilio fails every request until it recovers.
    await withFakeTwilio();
    twilio?.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });
    await sb.postSms({ From: '+48601000034', Body: 'Czy paczka już wyszła?' });
    await sb.drain();
    const afterFirst = twilio?.requests.length ?? 0;
    const pending = await onlyConversation();
    const job = JSON.stringify({ conversationId: pending.id, episode: 1 });

    // Act: a copy of the job comes at once, and the sweeper runs every minute; the second try
    // fails too; then Twilio recovers before the third.
    await sb.backends.sqs.send(new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: job }));
    await sb.drain();
    const afterCopy = twilio?.requests.length ?? 0;
    sb.clock.advance(50_000);
    const early = await sweep(sb.runtime.sweepDeps);
    sb.clock.advance(40_000);
    const first = await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const afterSecond = twilio?.requests.length ?? 0;
    sb.clock.advance(100_000);
    const tooSoon = await sweep(sb.runtime.sweepDeps);
    twilio?.recover();
    sb.clock.advance(60_000);
    const second = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: no try before its wait (1–1.25 min, then 2–2.5 min), one after it, and one ack.
    expect(pending.ack).toMatchObject({ state: 'pending', reason: 'SEND_FAILED:20503' });
    expect(afterCopy, 'a copy of the job tried again at once').toBe(afterFirst);
    expect({
      early: early.requeued,
      first: first.requeued,
      tooSoon: tooSoon.requeued,
      second: second.requeued,
    }).toEqual({ early: 0, first: 1, tooSoon: 0, second: 1 });
    expect(afterSecond).toBeGreaterThan(afterFirst);
    expect((await onlyConversation()).ack.state).toBe('sent');
    const { messages } = (await (await sb.api(`/api/conversations/${pending.id}`)).json()) as {
      messages: Array<{ kind: string }>;
    };
    expect(messages.filter((m) => m.kind === 'ack')).toHaveLength(1);
  });

  it('should send the ack when its job is redriven from the DLQ after the outage, and once only', async () => {
    // Prepare: Twilio fails every attempt until the job is in the DLQ and the ack shows failed.
    // Found at stop 23: the redrive docs/deploy.md prescribes claimed nothing (the ack was "done").
    await withFakeTwilio({ maxReceiveCount: 3 });
    twilio?.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });
    await sb.postSms({ From: '+48601000031', Body: 'Gdzie jest moja paczka?' });
    await drainThroughRetries(sb);
    const before = await onlyConversation();
    twilio?.recover();
    if (twilio) twilio.requests.length = 0;

    // Act: the cause fixed, ops redrive the DLQ onto the ack queue (a redriven message is new
    // to SQS); a copy of the job is redriven twice by mistake.
    sb.clock.advance(10 * 60_000);
    const moved = await redriveDlq(sb);
    await sb.drain();
    await sb.backends.sqs.send(
      new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: moved[0] }),
    );
    await sb.drain();

    // Assess
    expect(before.ack).toMatchObject({ state: 'failed', reason: 'SEND_FAILED:20503' });
    expect(moved).toHaveLength(1);
    expect(twilio?.requests).toHaveLength(1);
    expect((await onlyConversation()).ack.state).toBe('sent');
  });

  it('should pass on to the DLQ, not drop, a retry of another copy of a job whose ack ran out of attempts', async () => {
    // Prepare: during an outage the sweeper queues copies of the pending ack; the attempts run
    // out on one copy while another is still being retried by the queue (receive 2 of 5).
    await withFakeTwilio({ maxReceiveCount: 3 });
    twilio?.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });
    await sb.postSms({ From: '+48601000033' });
    await drainThroughRetries(sb);
    const failed = await onlyConversation();
    twilio?.recover();
    const job = { conversationId: failed.id, episode: 1 };

    // Act
    const copy = await sendAck(sb.runtime.sendAckDeps, job, 2).then(
      () => 'done',
      (error: Error) => error.name,
    );
    const redriven = await sendAck(sb.runtime.sendAckDeps, job, 1);

    // Assess: the copy fails (on to the DLQ, under its alarm); a redriven one sends
    expect(failed.ack).toMatchObject({ state: 'failed', reason: 'SEND_FAILED:20503' });
    expect(copy).toBe('AckRetryError');
    expect(redriven.kind).toBe('sent');
  });

  it('should not resend a failed ack the provider refused for good when its job is redriven', async () => {
    // Prepare: an invalid number (permanent): failed at once, nothing in the DLQ.
    await withFakeTwilio();
    twilio?.failNext(1, {
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
    });
    await sb.postSms({ From: '+48601000032' });
    await sb.drain();
    const conversation = await onlyConversation();
    if (twilio) twilio.requests.length = 0;

    // Act: someone puts its job on the queue again anyway
    await sb.backends.sqs.send(
      new SendMessageCommand({
        QueueUrl: sb.backends.queueUrl,
        MessageBody: JSON.stringify({ conversationId: conversation.id, episode: 1 }),
      }),
    );
    await sb.drain();

    // Assess
    expect(twilio?.requests).toHaveLength(0);
    expect((await onlyConversation()).ack).toMatchObject({ state: 'failed', reason: 'SEND_REJECTED:21211' });
  });

  it('should keep an ack that Twilio refused for our own stale credentials (401, error 20003) retryable, in the ack DLQ, not failed for good', async () => {
    // Prepare: found at stop 23: the auth token was rotated in Twilio's console (docs/deploy.md:
    // warm instances keep the old one until their configuration is touched). Our credentials
    // are wrong; the customer's number is fine.
    twilio = await startFakeTwilio({ authToken: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5' });
    sb = await startTestSwitchboardThroughTwilio(twilio, { maxReceiveCount: 3 });

    // Act
    await sb.postSms({ From: '+48601000033', Body: 'Czy mogę zmienić adres dostawy?' });
    await drainThroughRetries(sb);

    // Assess: Twilio said 401 Authenticate, once per delivery of the job (no retries within
    // the call: seconds fix nothing)...
    expect(twilio.requests).toHaveLength(3);
    const conversation = await onlyConversation();
    // ...and the ack waits where the runbook finds it: the ack DLQ (its alarm, its redrive),
    // not marked failed as if the number were invalid.
    const dlq = await sb.backends.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sb.backends.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(
      { ack: conversation.ack.reason, inDlq: dlq.Messages?.length ?? 0 },
      'an authentication failure of ours was dropped as a permanent, per-recipient refusal',
    ).toMatchObject({ ack: 'SEND_UNAUTHORIZED:20003', inDlq: 1 });
  });

  it('should send once when the worker died after claiming: the lease runs out and the sweeper requeues', async () => {
    // Prepare: the claim is written, then the worker dies before sending.
    await withFakeTwilio();
    await sb.postSms({ From: '+48601000022' });
    const claimCrash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'after',
      match: pkStartsWith('CONV#'),
    });
    await sb.drain();
    claimCrash.remove();
    const afterCrash = await onlyConversation();

    // Act
    sb.clock.advance(sb.config.ack.leaseMs + 1_000);
    const swept = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess
    expect(afterCrash.ack.state).toBe('sending');
    expect(swept.requeued).toBe(1);
    expect(twilio?.requests).toHaveLength(1);
    expect((await onlyConversation()).ack.state).toBe('sent');
  });

  it('should not send again when the worker died after sending and storing the ack message', async () => {
    // Prepare: the ack message is stored, then the worker dies before marking the ack sent.
    await withFakeTwilio();
    await sb.postSms({ From: '+48601000023' });
    const conversationId = (await onlyConversation()).id;
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'after',
      match: (input) => pkStartsWith('CONV#')(input) && JSON.stringify(input.Item).includes('"sent"'),
    });
    await sb.drain();
    crash.remove();

    // Act
    sb.clock.advance(sb.config.ack.leaseMs + 1_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess
    expect(crash.fired).toBe(1);
    expect(twilio?.requests).toHaveLength(1);
    const conversation = await onlyConversation();
    expect(conversation.ack.state).toBe('sent');
    expect(await sb.runtime.store.getMessage(ackMessageId(conversationId, 1))).not.toBeNull();
  });

  it('should skip the ack when the job is for an episode that is no longer waiting', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601000024' });
    const { id } = await onlyConversation();

    // Act: a stale job for an episode that never existed, and a job for a conversation that does not exist.
    const stale = await sendAck(sb.runtime.sendAckDeps, { conversationId: id, episode: 7 });
    const missing = await sendAck(sb.runtime.sendAckDeps, { conversationId: 'conv_missing', episode: 1 });

    // Assess
    expect(stale).toEqual({ kind: 'nothing-to-do', reason: 'stale' });
    expect(missing).toEqual({ kind: 'nothing-to-do', reason: 'missing' });
  });

  // Found at stop 25: a job this release could not read was dropped, so during a rolling
  // deploy an older worker lost a newer release's job (stop 24's `kind: 'inbound'`, a webhook
  // Twilio would never post again, reaching a stop 23 worker).
  it('should fail a job of a kind this release does not know, so the queue gives it again and then keeps it in the DLQ', async () => {
    // Prepare: a newer release's job (its kind, its fields) on the work queue
    sb = await startTestSwitchboard();
    const job = { kind: 'outbound-reply', conversationId: 'conv_06gwk0wg90h3ggnh41h2xv7x5n', replyId: 'r-1' };
    await sb.backends.sqs.send(
      new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: JSON.stringify(job) }),
    );

    // Act: one delivery handled as the Lambda does, then the worker takes the queue's
    // deliveries until there are none
    const direct = await handleWorkRecord(sb.runtime.workDeps, {
      body: JSON.stringify(job),
      receiveCount: 1,
      messageId: 'm-1',
    }).catch((error: unknown) => error);
    await sb.drain();

    // Assess: a batch item failure (not a drop), and after its 5 receives the job waits in the
    // DLQ unchanged, for a redrive once every function reads it
    expect(direct).toBeInstanceOf(UnreadableJobError);
    const dlq = await sb.backends.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sb.backends.dlqUrl, WaitTimeSeconds: 1 }),
    );
    expect(dlq.Messages?.map((message) => JSON.parse(message.Body ?? '{}'))).toEqual([job]);
    expect(sb.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ kind: 'outbound-reply', receiveCount: 5 }),
      }),
    );
  });

  it('should not retry for ever a job of a known kind that can never be read: the DLQ takes it after its receives', async () => {
    // Prepare: a deferred webhook whose receipt time no release can read
    sb = await startTestSwitchboard();
    const poison = { kind: 'inbound', provider: 'twilio', receivedAt: 'not-a-date', events: [] };
    await sb.backends.sqs.send(
      new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: JSON.stringify(poison) }),
    );

    // Act
    await sb.drain();

    // Assess: 5 receives, then the DLQ; the work queue is empty
    const dlq = await sb.backends.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sb.backends.dlqUrl, WaitTimeSeconds: 1 }),
    );
    expect(dlq.Messages?.map((message) => JSON.parse(message.Body ?? '{}'))).toEqual([poison]);
    const receives = sb.log.lines.filter((line) => line.message.includes('cannot read'));
    expect(receives).toHaveLength(5);
    const left = await sb.backends.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sb.backends.queueUrl, WaitTimeSeconds: 0 }),
    );
    expect(left.Messages ?? []).toHaveLength(0);
  });
});

// Found at stop 25 ("left alone"): an ordinary ack sent late (a backoff, an SQS retry, a DLQ
// redrive) signed with the person its promise stored when the message came, even when a deploy
// since took them off the people list: the customer was told to call someone who had left.
describe('who signs an ack sent after the people list changed', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb.stop();
    await twilio?.close();
    twilio = undefined;
  });

  const ANNA = {
    id: 'anna',
    name: 'Anna Kowalska',
    phone: '22 123 45 67',
    email: 'anna.kowalska@example.com',
  };
  const PIOTR = { id: 'piotr', name: 'Piotr Wiśniewski', phone: '22 765 43 21' };
  const people = (people: BusinessConfig['people']): BusinessConfig => ({
    ...DEFAULT_BUSINESS_CONFIG,
    people,
  });
  const WITH_PIOTR = people({ default: 'piotr', rota: [ANNA, PIOTR], agents: [] });

  /** An SMS at Wednesday 10:00 promised by Piotr, whose ack's first try meets a Twilio outage. */
  async function ackHeldUpByAnOutage() {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { business: WITH_PIOTR });
    twilio.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });
    await sb.postSms({ From: '+48601000077', Body: 'Czy mogę zmienić adres dostawy?' });
    await sb.drain();
    const pending = await sb.onlyOpenConversation();
    expect(pending.ack).toMatchObject({ state: 'pending', reason: 'SEND_FAILED:20503' });
    expect(pending.promise?.signer.id).toBe('piotr');
    twilio.recover();
    twilio.requests.length = 0;
    return pending;
  }

  it('should sign as the default person, and name her on the promise, when the promised person has left', async () => {
    // Prepare: the ack backs off; meanwhile a deploy takes Piotr off the rota
    const pending = await ackHeldUpByAnOutage();
    const after = sb.redeploy(people({ default: 'anna', rota: [ANNA], agents: [] }));

    // Act: the retry comes due, on the new deployment
    sb.clock.advance(3 * 60_000);
    await sweep(after.runtime.sweepDeps);
    await after.drain();

    // Assess: one ack, signed by Anna with her direct line (the promise's time unchanged), and
    // the promise names who signed it
    const body = String(twilio?.requests.at(-1)?.form.Body);
    expect(twilio?.requests.filter((request) => request.path.endsWith('/Messages.json'))).toHaveLength(1);
    expect(body).toContain('Anna Kowalska');
    expect(body).toContain('22 123 45 67');
    expect(body).not.toContain('Piotr');
    expect(body).not.toContain('22 765 43 21');
    const sent = await after.onlyOpenConversation();
    expect(sent.ack?.state).toBe('sent');
    expect(sent.promise).toEqual({ ...pending.promise, signer: ANNA });
    expect(sent.replyBy).toBe(pending.replyBy);
    expect(sent.originalReplyBy).toBeNull();
  });

  it('should sign with the promised person’s direct line as listed now', async () => {
    // Prepare: the ack backs off; meanwhile Piotr gets a new direct line
    await ackHeldUpByAnOutage();
    const moved = { ...PIOTR, phone: '22 999 00 11' };
    const after = sb.redeploy(people({ default: 'piotr', rota: [ANNA, moved], agents: [] }));

    // Act
    sb.clock.advance(3 * 60_000);
    await sweep(after.runtime.sweepDeps);
    await after.drain();

    // Assess
    const body = String(twilio?.requests.at(-1)?.form.Body);
    expect(body).toContain('Piotr Wiśniewski');
    expect(body).toContain('22 999 00 11');
    expect(body).not.toContain('22 765 43 21');
    expect((await after.onlyOpenConversation()).promise?.signer).toEqual(moved);
  });
});
