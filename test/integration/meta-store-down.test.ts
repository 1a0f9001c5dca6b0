import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { LATE_ACK_HOLD_MS } from '#lib/domain/ack-attempts.ts';
import { MAX_JOB_BYTES } from '#lib/http/defer.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { countCalls, injectFault, pkStartsWith, serviceDown } from '#test/support/faults.ts';
import {
  IG_ACCOUNT_ID,
  messagingEnvelope,
  messagingTextEvent,
  PAGE_ID,
  whatsappAppEchoEnvelope,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Stop 26: Meta retries a webhook we fail, but Messenger unsubscribes the app from the Page after
// an hour of failed deliveries (and Graph drops a webhook after 36 hours): a DynamoDB outage of an
// hour stopped Messenger and Instagram until someone subscribed the app again. A verified batch
// the store cannot take now goes on the work queue, as Twilio's webhooks do, and Meta gets its 200.

const MINUTE = 60_000;

function messengerFrom(psid: string, n: number, text = 'Dzień dobry, czy paczka już wyszła?') {
  return messagingEnvelope([[messagingTextEvent(n, { sender: psid, text })]]);
}

function instagramFrom(igsid: string, n: number) {
  return messagingEnvelope(
    [[messagingTextEvent(n, { sender: igsid, recipient: IG_ACCOUNT_ID, text: 'Is the jacket in M?' })]],
    'instagram',
  );
}

function whatsappFrom(waId: string, id: string, body = 'Dzień dobry, kiedy dostawa?') {
  return whatsappEnvelope({
    contacts: [{ profile: { name: 'Ewa' }, wa_id: waId }],
    messages: [{ from: waId, id, timestamp: '1763986400', type: 'text', text: { body } }],
  });
}

/** A reply a person typed in the Page inbox (no app of ours) to `psid`, sent at `timestamp`. */
function inboxEcho(psid: string, mid: string, timestamp: number, text = 'Dzień dobry, już sprawdzam.') {
  return {
    sender: { id: PAGE_ID },
    recipient: { id: psid },
    timestamp,
    message: { mid, is_echo: true, text },
  };
}

describe('Meta webhooks while the store is down', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function dlqBodies(): Promise<string[]> {
    const { Messages = [] } = await sb.backends.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sb.backends.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    return Messages.map((m) => m.Body ?? '');
  }

  /**
   * The acks of the messages the worker recorded late wait LATE_ACK_HOLD_MS for a person's inbox
   * reply queued behind them (stop 27): then the sweeper queues them and the worker sends them.
   */
  async function pastTheHold(): Promise<void> {
    sb.clock.advance(LATE_ACK_HOLD_MS);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
  }

  /** The sweeper's runs, one a minute for `minutes`, each followed by the worker. */
  async function sweepFor(minutes: number): Promise<void> {
    for (let minute = 0; minute < minutes; minute++) {
      sb.clock.advance(MINUTE);
      await sweep(sb.runtime.sweepDeps);
      await sb.drain();
    }
  }

  /**
   * The worker as the queue feeds it on AWS: a job that fails comes back only after the queue's
   * visibility timeout, 3 minutes (the test queue's is 0: `drain` gives a job all its receives at
   * once). `receive`: every job visible now, once each, in the order the queue gives them;
   * `minutes(n)`: the sweeper's runs, one a minute, each followed by `receive`.
   */
  function spacedWorker() {
    const { sqs, queueUrl } = sb.backends;
    const hidden: Array<{ handle: string; visibleAt: number }> = [];
    const receive = async () => {
      const now = sb.clock.now().getTime();
      for (const job of hidden.filter((h) => h.visibleAt <= now)) {
        hidden.splice(hidden.indexOf(job), 1);
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: job.handle,
            VisibilityTimeout: 0,
          }),
        );
      }
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 3_600,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (Messages.length === 0) return;
        for (const message of Messages) {
          try {
            await handleWorkRecord(sb.runtime.workDeps, {
              body: message.Body ?? '',
              receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
              messageId: message.MessageId ?? '',
            });
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
            );
          } catch {
            hidden.push({ handle: message.ReceiptHandle ?? '', visibleAt: now + 3 * MINUTE });
          }
        }
      }
    };
    return {
      hidden,
      receive,
      async minutes(count: number) {
        for (let minute = 0; minute < count; minute++) {
          sb.clock.advance(MINUTE);
          await sweep(sb.runtime.sweepDeps);
          await receive();
        }
      },
    };
  }

  it.each([
    ['Messenger', () => messengerFrom('7214568800000101', 1)],
    ['Instagram', () => instagramFrom('1029384756100101', 1)],
    ['WhatsApp Cloud', () => whatsappFrom('48601234567', 'wamid.storedown0001')],
  ])(
    'should answer Meta 200 for a %s message while DynamoDB is down, and record it once, acked once, when it is back (a redelivery too)',
    async (_channel, payload) => {
      // Prepare
      sb = await startTestSwitchboard();
      const outage = serviceDown(sb.backends.dynamodb);

      // Act: the batch while DynamoDB is down; it is back, the worker runs; then Meta delivers
      // the same batch again (a duplicate delivery); the ack's wait for an inbox reply passes
      const during = await sb.postMeta(payload());
      outage.up();
      sb.clock.advance(5 * MINUTE);
      await sb.drain();
      const again = await sb.postMeta(payload());
      await sb.drain();
      await pastTheHold();

      // Assess: nothing lost, nothing doubled; the promise counts from when the customer wrote
      expect(during.status).toBe(200);
      expect(await during.json()).toEqual({ ok: true });
      expect(again.status).toBe(200);
      const conversation = await sb.onlyOpenConversation();
      const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
      expect(messages.map((m) => m.kind)).toEqual(['message', 'ack']);
      expect(messages[0]?.createdAt).toBe(conversation.openedAt);
      expect(Date.parse(conversation.openedAt)).toBeLessThan(sb.clock.now().getTime() - 4 * MINUTE);
      expect(await sb.outbox()).toHaveLength(1);
      expect(sb.log.lines.some((line) => line.message.includes('queued for the worker'))).toBe(true);
    },
  );

  // Session 28: the API showed a held ack as `pending`, the same as one about to go, without
  // saying it waits (LATE_ACK_HOLD_MS) for an inbox reply queued behind the message.
  it('should show through the API when a held ack goes (ack.notBefore), as the OpenAPI document describes it, and drop it once sent', async () => {
    // Prepare: a Messenger message the worker records late, after an outage
    sb = await startTestSwitchboard();
    const outage = serviceDown(sb.backends.dynamodb);
    await sb.postMeta(messengerFrom('7214568800000301', 1));
    outage.up();
    sb.clock.advance(5 * MINUTE);
    const recordedAt = sb.clock.now().getTime();
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();

    // Act
    const held = await sb.api(`/api/conversations/${id}`);
    const document = (await (await sb.api('/api/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    await pastTheHold();
    const sent = await sb.api(`/api/conversations/${id}`);

    // Assess: the planned time while it is held; the document lists the field; gone once sent
    expect(held.status).toBe(200);
    expect(((await held.json()) as { conversation: { ack: unknown } }).conversation.ack).toEqual({
      state: 'pending',
      notBefore: new Date(recordedAt + LATE_ACK_HOLD_MS).toISOString(),
    });
    expect(JSON.stringify(document.components.schemas.Conversation?.properties?.ack)).toContain(
      '"notBefore"',
    );
    const after = ((await sent.json()) as { conversation: { ack: Record<string, unknown> } }).conversation
      .ack;
    expect(after).toMatchObject({ state: 'sent' });
    expect(after).not.toHaveProperty('notBefore');
  });

  it('should answer 5xx when neither DynamoDB nor SQS takes a batch half stored, and record each message once on Meta’s retry', async () => {
    // Prepare: the second customer's message cannot be stored, and the queue refuses too
    sb = await startTestSwitchboard();
    const batch = messagingEnvelope([
      [messagingTextEvent(1, { sender: '7214568800000201' })],
      [messagingTextEvent(2, { sender: '7214568800000202' })],
    ]);
    let puts = 0;
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: 100,
      match: (input) => pkStartsWith('MSG#')(input) && ++puts >= 2,
    });
    const queueDown = serviceDown(sb.backends.sqs);

    // Act
    const during = await sb.postMeta(batch);
    fault.remove();
    queueDown.up();
    const retry = await sb.postMeta(batch);
    await sb.drain();

    // Assess: Meta retries what we failed; its retry finishes the half-stored batch, once
    expect(fault.fired).toBeGreaterThan(0);
    expect(during.status).toBe(500);
    expect(await during.text()).not.toMatch(/ServiceUnavailable|InjectedFault|at .+\.ts/);
    expect(retry.status).toBe(200);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(items).toHaveLength(2);
    for (const conversation of items) {
      const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
      expect(messages.map((m) => m.kind)).toEqual(['message', 'ack']);
    }
    expect(await sb.outbox()).toHaveLength(2);
    expect(sb.log.lines.some((line) => line.message.includes('nor queued'))).toBe(true);
  });

  it('should queue a 10,000-event batch while DynamoDB is down in jobs the queue and the worker take, and record each message once', async () => {
    // Prepare: 100 customers' long Polish messages (12 KB each on the queue, escaped), then 9,900
    // read receipts (Meta batches up to a thousand entries; ten times that is what hostile input
    // may bring)
    sb = await startTestSwitchboard();
    const events = Array.from({ length: 10_000 }, (_, n) =>
      n < 100
        ? messagingTextEvent(n, { sender: `72145688${String(n).padStart(8, '0')}`, text: 'Ż'.repeat(2_000) })
        : {
            sender: { id: `7214568899${String(n).padStart(6, '0')}` },
            recipient: { id: PAGE_ID },
            read: { watermark: n },
          },
    );
    const sent: number[] = [];
    const jobs = countCalls(sb.backends.sqs, 'SendMessageCommand', (input) => {
      sent.push(Buffer.byteLength(String(input.MessageBody)));
      return true;
    });
    const outage = serviceDown(sb.backends.dynamodb);

    // Act
    const during = await sb.postMeta(messagingEnvelope([events]));
    outage.up();
    jobs.remove();
    await sb.drain();
    await pastTheHold();

    // Assess: 200; at most 100 events a job, each under the byte budget; every message recorded
    // once and acknowledged, nothing in the DLQ, no job the worker could not read
    expect(during.status).toBe(200);
    expect(sent.length).toBeGreaterThan(100);
    expect(Math.max(...sent)).toBeLessThanOrEqual(MAX_JOB_BYTES);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 200 });
    expect(items).toHaveLength(100);
    expect(await sb.outbox()).toHaveLength(100);
    expect(await dlqBodies()).toEqual([]);
    expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('should queue a batch the store failed half way and record each message once, acked once', async () => {
    // Prepare: six customers in one batch; the store fails from the fourth message's write on
    sb = await startTestSwitchboard();
    const psids = [1, 2, 3, 4, 5, 6].map((n) => `72145688000003${String(n).padStart(2, '0')}`);
    const batch = messagingEnvelope(psids.map((psid, i) => [messagingTextEvent(i, { sender: psid })]));
    let puts = 0;
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: 100,
      match: (input) => pkStartsWith('MSG#')(input) && ++puts >= 4,
    });

    // Act
    const during = await sb.postMeta(batch);
    fault.remove();
    await sb.drain();
    await pastTheHold();

    // Assess
    expect(fault.fired).toBeGreaterThan(0);
    expect(during.status).toBe(200);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(items.map((c) => c.contact.key).sort()).toEqual(psids.map((psid) => `messenger:${psid}`).sort());
    for (const conversation of items) {
      const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
      expect(messages.map((m) => m.kind)).toEqual(['message', 'ack']);
    }
    expect(await sb.outbox()).toHaveLength(6);
  });

  it('should keep one customer’s messages in the order written when the store failed after the first of them', async () => {
    // Prepare: one customer's four messages in one batch; every DynamoDB call takes 40 ms (time
    // passes while the webhook stores them, as it does on AWS); the third message's write fails
    sb = await startTestSwitchboard();
    const psid = '7214568800000801';
    const texts = ['Dzień dobry,', 'zamówiłam kurtkę w zeszłym tygodniu,', 'nie przyszła,', 'co się stało?'];
    const batch = messagingEnvelope(texts.map((text, n) => [messagingTextEvent(n, { sender: psid, text })]));
    const stack = sb.backends.dynamodb.middlewareStack as unknown as {
      add(middleware: unknown, options: { step: string; name: string }): void;
    };
    stack.add(
      (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        sb.clock.advance(40);
        return next(args);
      },
      { step: 'initialize', name: 'latency' },
    );
    let puts = 0;
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: (input) => pkStartsWith('MSG#')(input) && ++puts === 3,
    });

    // Act
    const during = await sb.postMeta(batch);
    await sb.drain();

    // Assess: listed by receipt time, they read as she wrote them
    expect(fault.fired).toBe(1);
    expect(during.status).toBe(200);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    const inbound = messages.filter((m) => m.direction === 'inbound');
    expect([...inbound].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((m) => m.text)).toEqual(
      texts,
    );
    expect(messages.filter((m) => m.kind === 'ack')).toHaveLength(1);
  });

  it('should split a large batch into jobs a 256 KiB queue takes, and record one customer’s long run of messages in the order written', async () => {
    // Prepare: a queue at SQS's former default size (256 KiB); one customer's 104 long Polish
    // messages (Meta's 2,000-character cap; 6 bytes a character once escaped), delivered newest
    // first, and five other customers, in one batch
    sb = await startTestSwitchboard();
    await sb.backends.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: sb.backends.queueUrl,
        Attributes: { MaximumMessageSize: String(256 * 1024) },
      }),
    );
    const talker = '7214568800000400';
    const long = (n: number) => `Część ${n}: ${'żółć '.repeat(400)}`.slice(0, 2000);
    const runOf = Array.from({ length: 104 }, (_, n) =>
      messagingTextEvent(n * 1000, { sender: talker, text: long(n) }),
    ).reverse();
    const others = [1, 2, 3, 4, 5].map((n) => messagingTextEvent(n, { sender: `72145688000004${n}0` }));
    const outage = serviceDown(sb.backends.dynamodb);
    const sends = countCalls(sb.backends.sqs, 'SendMessageCommand');

    // Act
    const during = await sb.postMeta(messagingEnvelope([...runOf, ...others].map((event) => [event])));
    outage.up();
    const jobs = sends.count;
    sends.remove();
    await sb.drain();
    await pastTheHold();

    // Assess: every message recorded once, the long run in the order written, each at its own
    // receipt time; one ack per customer; nothing in the DLQ
    expect(during.status).toBe(200);
    expect(jobs).toBeGreaterThan(2);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(items).toHaveLength(6);
    const conversation = items.find((c) => c.contact.key === `messenger:${talker}`);
    const messages = await sb.runtime.store.listMessages(conversation?.id as string, { limit: 1_000 });
    const inbound = messages.filter((m) => m.direction === 'inbound');
    expect(inbound.map((m) => m.text)).toEqual(Array.from({ length: 104 }, (_, n) => long(n)));
    const times = inbound.map((m) => Date.parse(m.createdAt));
    expect(new Set(times).size).toBe(104);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(messages.filter((m) => m.kind === 'ack')).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(6);
    expect(await dlqBodies()).toEqual([]);
  }, 60_000);

  // Stop 27: the customer's queued message and the person's queued inbox reply are separate jobs
  // (or one job whose reply's write failed). The worker recorded her message and queued its ack
  // at once, while the reply was placed only on its job's next receive, 3 minutes later (it had
  // found no conversation yet, or our ack in flight, or the store still throttling): the ack went
  // after a person had answered.
  const answeredOrderings = [
    {
      name: 'the two jobs are received in one batch (the reply placed on its next receive)',
      customer: (start: number) =>
        messagingEnvelope([[{ ...messagingTextEvent(1, { sender: '7214568800000901' }), timestamp: start }]]),
      answer: (at: number) => messagingEnvelope([[inboxEcho('7214568800000901', 'm_inbox_reply_0901', at)]]),
      replyId: 'm_inbox_reply_0901',
      replyFails: 0,
    },
    {
      name: 'the WhatsApp Business app reply’s job is received with her message’s',
      customer: (_start: number) => whatsappFrom('48601234567', 'wamid.storedown0901'),
      answer: (at: number) => whatsappAppEchoEnvelope({ id: 'wamid.app-reply-0901', sentAt: at }),
      replyId: 'wamid.app-reply-0901',
      replyFails: 0,
    },
    {
      name: 'the reply’s write fails twice after her message is recorded (the ack job queued before the reply is recorded)',
      customer: (start: number) =>
        messagingEnvelope([[{ ...messagingTextEvent(1, { sender: '7214568800000902' }), timestamp: start }]]),
      answer: (at: number) => messagingEnvelope([[inboxEcho('7214568800000902', 'm_inbox_reply_0902', at)]]),
      replyId: 'm_inbox_reply_0902',
      replyFails: 2,
    },
  ];

  it.each(answeredOrderings)(
    'should not acknowledge a customer a queued inbox reply answered when $name',
    async ({ customer, answer, replyId, replyFails }) => {
      // Prepare: the store is down; the customer writes, a person answers her from Meta's own
      // inbox a minute later (two webhooks, two jobs); the store is back five minutes on
      sb = await startTestSwitchboard();
      const start = sb.clock.now().getTime();
      const outage = serviceDown(sb.backends.dynamodb);
      const asked = await sb.postMeta(customer(start - 5_000));
      sb.clock.advance(MINUTE);
      const answered = await sb.postMeta(answer(start + MINUTE - 5_000));
      sb.clock.advance(5 * MINUTE);
      outage.up();
      const throttled = injectFault(sb.backends.dynamodb, {
        command: 'PutItemCommand',
        when: 'before',
        times: replyFails,
        match: (input) => JSON.stringify(input).includes(replyId),
      });

      // Act: the worker records both; then the sweeper's runs for the next quarter hour
      await sb.drain();
      await sweepFor(15);

      // Assess: the reply answers her message; nothing automatic reaches her after it
      expect([asked.status, answered.status]).toEqual([200, 200]);
      expect(throttled.fired).toBe(replyFails);
      const conversation = await sb.onlyOpenConversation();
      const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
      expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
      expect(conversation.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
      expect(await sb.outbox()).toEqual([]);
      expect(await dlqBodies()).toEqual([]);
    },
  );

  it('should not acknowledge a customer a queued inbox reply answered when the reply’s write fails twice after her message is recorded, its job’s receives 3 minutes apart as on AWS', async () => {
    // Prepare: as above (two webhooks, two jobs, the store back five minutes on; the reply's
    // write fails twice), but a failed job comes back only after the queue's 3 minutes
    sb = await startTestSwitchboard();
    const psid = '7214568800000903';
    const start = sb.clock.now().getTime();
    const outage = serviceDown(sb.backends.dynamodb);
    const asked = await sb.postMeta(
      messagingEnvelope([[{ ...messagingTextEvent(1, { sender: psid }), timestamp: start - 5_000 }]]),
    );
    sb.clock.advance(MINUTE);
    const answered = await sb.postMeta(
      messagingEnvelope([[inboxEcho(psid, 'm_inbox_reply_0903', start + MINUTE - 5_000)]]),
    );
    sb.clock.advance(5 * MINUTE);
    outage.up();
    const throttled = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: 2,
      match: (input) => JSON.stringify(input).includes('m_inbox_reply_0903'),
    });
    const worker = spacedWorker();

    // Act: the worker's first receive; then the sweeper's runs and the worker for 20 minutes
    await worker.receive();
    await worker.minutes(20);

    // Assess: the reply answers her message; nothing automatic reaches her after it
    expect([asked.status, answered.status]).toEqual([200, 200]);
    expect(throttled.fired).toBe(2);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(conversation.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(await sb.outbox()).toEqual([]);
    expect(worker.hidden).toEqual([]);
  });

  it('should not acknowledge a customer whose queued message and inbox reply share a job whose reply write failed twice', async () => {
    // Prepare: one webhook with her message and, a moment later, a person's reply from the Page
    // inbox, queued while the store is down; when it is back, the reply's write fails on the
    // job's first two receives (throttling), after her message was recorded on the first
    sb = await startTestSwitchboard();
    const psid = '7214568800000911';
    const now = sb.clock.now().getTime();
    const message = { ...messagingTextEvent(1, { sender: psid }), timestamp: now - 30_000 };
    const outage = serviceDown(sb.backends.dynamodb);
    const during = await sb.postMeta(
      messagingEnvelope([[message], [inboxEcho(psid, 'm_inbox_reply_0911', now - 10_000)]]),
    );
    outage.up();
    const throttled = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: 2,
      match: (input) => JSON.stringify(input).includes('m_inbox_reply_0911'),
    });

    // Act
    await sb.drain();
    await sweepFor(15);

    // Assess
    expect(during.status).toBe(200);
    expect(throttled.fired).toBe(2);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(conversation.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(await sb.outbox()).toEqual([]);
  });

  it('should record a Page inbox reply queued with the customer’s message as the reply that answered it (no ack)', async () => {
    // Prepare: the customer's message and, a moment later, a person's reply from the Page inbox
    sb = await startTestSwitchboard();
    const psid = '7214568800000501';
    const now = sb.clock.now().getTime();
    const message = { ...messagingTextEvent(1, { sender: psid }), timestamp: now - 30_000 };
    const outage = serviceDown(sb.backends.dynamodb);

    // Act
    const during = await sb.postMeta(
      messagingEnvelope([[message], [inboxEcho(psid, 'm_inbox_reply_0501', now - 10_000)]]),
    );
    outage.up();
    await sb.drain();

    // Assess
    expect(during.status).toBe(200);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(conversation.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(await sb.outbox()).toEqual([]);
  });

  it('should record a queued Page inbox reply as the answer when the worker reaches it before the customer’s queued message', async () => {
    // Prepare: the store is down; the customer writes, a person answers from the Page inbox a
    // minute later: two webhooks, two jobs. The outage lasts 20 minutes; the first receive that
    // finds the store back fails the customer's message (DynamoDB still throttling), while the
    // reply's job in the same batch runs
    sb = await startTestSwitchboard();
    const psid = '7214568800000551';
    const start = sb.clock.now().getTime();
    const outage = serviceDown(sb.backends.dynamodb);
    const asked = await sb.postMeta(
      messagingEnvelope([[{ ...messagingTextEvent(1, { sender: psid }), timestamp: start - 5_000 }]]),
    );
    sb.clock.advance(MINUTE);
    const answered = await sb.postMeta(
      messagingEnvelope([[inboxEcho(psid, 'm_inbox_reply_0551', start + MINUTE - 5_000)]]),
    );
    sb.clock.advance(20 * MINUTE);
    outage.up();
    const throttled = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });

    // Act: the worker; then the sweeper's runs for the next quarter hour
    await sb.drain();
    await sweepFor(15);

    // Assess: the reply is kept and answers the customer's message, who gets no ack after it;
    // nothing waits in the DLQ
    expect([asked.status, answered.status]).toEqual([200, 200]);
    expect(throttled.fired).toBe(1);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(conversation.firstReplyAt).toBeDefined();
    expect(await dlqBodies()).toEqual([]);
    expect(await sb.outbox()).toEqual([]);
  });

  it('should not acknowledge again a returning customer’s queued message that a queued Page inbox reply answered before the worker recorded it', async () => {
    // Prepare: a customer acknowledged and answered; the store goes down; she writes again and a
    // person answers her from the Page inbox a minute later (two webhooks, two jobs). When the
    // store is back, the worker's first receive fails her message (still throttling) and places
    // the reply in her open conversation
    sb = await startTestSwitchboard();
    const psid = '7214568800000561';
    await sb.postMeta(messengerFrom(psid, 1));
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    expect(
      (await sb.act(`/conversations/${first.id}/replies`, { text: 'Paczka wyszła wczoraj.' })).status,
    ).toBe(201);
    await sb.drain();
    sb.clock.advance(30 * MINUTE);
    const start = sb.clock.now().getTime();
    const outage = serviceDown(sb.backends.dynamodb);
    const asked = await sb.postMeta(
      messagingEnvelope([
        [
          {
            ...messagingTextEvent(2, { sender: psid, text: 'A numer przesyłki?' }),
            timestamp: start - 5_000,
          },
        ],
      ]),
    );
    sb.clock.advance(MINUTE);
    const answered = await sb.postMeta(
      messagingEnvelope([[inboxEcho(psid, 'm_inbox_reply_0561', start + MINUTE - 5_000, 'Numer: 00340433')]]),
    );
    sb.clock.advance(5 * MINUTE);
    outage.up();
    const throttled = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: (input) => pkStartsWith('MSG#')(input) && JSON.stringify(input).includes('A numer przesyłki?'),
    });

    // Act
    await sb.drain();

    // Assess: her question and the answer to it are recorded; she is not acknowledged again
    expect([asked.status, answered.status]).toEqual([200, 200]);
    expect(throttled.fired).toBe(1);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.map((m) => m.text)).toContain('A numer przesyłki?');
    expect(messages.map((m) => m.text)).toContain('Numer: 00340433');
    expect(conversation.awaitingSince).toBeNull();
    expect(conversation.episode).toBe(1);
    // The next day, before the promise that episode would hold: the sweeper's late-notice time
    sb.clock.set(new Date(Date.parse(conversation.replyBy ?? '2026-11-26T10:30:00+01:00') - 20 * MINUTE));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    expect((await sb.outbox()).filter((sent) => sent.automatic)).toHaveLength(1);
  });

  it('should record a queued Page inbox reply to a returning customer whose last conversation was resolved, when the worker reaches it before her queued message (no ack after the answer)', async () => {
    // Prepare: a customer answered and her conversation resolved the day before; the store goes
    // down; she writes again and a person answers her from the Page inbox a minute later (two
    // webhooks, two jobs). When the store is back, the worker's first receive fails her message
    // (still throttling) and reaches the reply: she has no open conversation yet
    sb = await startTestSwitchboard();
    const psid = '7214568800000571';
    await sb.postMeta(messengerFrom(psid, 1));
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    expect(
      (await sb.act(`/conversations/${first.id}/replies`, { text: 'Paczka wyszła wczoraj.' })).status,
    ).toBe(201);
    await sb.drain();
    expect((await sb.act(`/conversations/${first.id}/resolve`, {})).status).toBe(200);
    sb.clock.advance(24 * 60 * MINUTE);
    const sentBefore = (await sb.outbox()).length;
    const start = sb.clock.now().getTime();
    const outage = serviceDown(sb.backends.dynamodb);
    const asked = await sb.postMeta(
      messagingEnvelope([
        [
          {
            ...messagingTextEvent(2, { sender: psid, text: 'Paczka nie doszła, co robić?' }),
            timestamp: start - 5_000,
          },
        ],
      ]),
    );
    sb.clock.advance(MINUTE);
    const answered = await sb.postMeta(
      messagingEnvelope([
        [inboxEcho(psid, 'm_inbox_reply_0571', start + MINUTE - 5_000, 'Wysyłamy nową, numer 00340434')],
      ]),
    );
    sb.clock.advance(5 * MINUTE);
    outage.up();
    // Her message's first write (the claim of her next conversation) fails
    const throttled = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('CONTACT#'),
    });

    // Act
    await sb.drain();

    // Assess: her question and the inbox answer to it are both recorded in her new conversation,
    // which waits for nobody (no late notice at the sweep before the promise it would hold);
    // nothing waits in the DLQ
    expect([asked.status, answered.status]).toEqual([200, 200]);
    expect(throttled.fired).toBe(1);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.filter((m) => m.kind !== 'ack').map((m) => m.text)).toEqual([
      'Paczka nie doszła, co robić?',
      'Wysyłamy nową, numer 00340434',
    ]);
    expect(conversation.awaitingSince).toBeNull();
    expect(conversation.firstReplyAt).toBeDefined();
    expect(await dlqBodies()).toEqual([]);
    const automatic = (await sb.outbox()).slice(sentBefore).filter((sent) => sent.automatic).length;
    sb.clock.set(new Date(Date.parse(conversation.replyBy ?? '2026-11-27T10:00:00+01:00') - 20 * MINUTE));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    expect((await sb.outbox()).slice(sentBefore).filter((sent) => sent.automatic)).toHaveLength(automatic);
  });

  it('should let go of a queued inbox reply whose customer never comes on the job’s last receive, not keep it in the DLQ', async () => {
    // Prepare: an inbox reply to a customer we have no record of, sent a minute ago, queued
    // while the store is down (their message, if Meta still retries it, may yet come)
    sb = await startTestSwitchboard();
    const outage = serviceDown(sb.backends.dynamodb);
    const during = await sb.postMeta(
      messagingEnvelope([
        [inboxEcho('7214568800000601', 'm_inbox_reply_0601', sb.clock.now().getTime() - MINUTE)],
      ]),
    );
    outage.up();

    // Act: the worker's receive that finds the store back comes 11 minutes later (the queue's
    // receives are minutes apart); no message from that customer came meanwhile
    sb.clock.advance(11 * MINUTE);
    await sb.drain();

    // Assess: waited for over the job's receives (its customer's message might have been queued
    // too), then ignored as an echo that old is on the webhook (a thread the business began)
    expect(during.status).toBe(200);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(items).toEqual([]);
    expect(await dlqBodies()).toEqual([]);
  });

  it('should apply a WhatsApp status queued in the same batch as another customer’s message', async () => {
    // Prepare: a customer acknowledged on WhatsApp; the store goes down
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappFrom('48601234567', 'wamid.storedown0701'));
    await sb.drain();
    const [ack] = await sb.outbox();
    const outage = serviceDown(sb.backends.dynamodb);
    const batch = whatsappEnvelope({
      contacts: [{ profile: { name: 'Jan' }, wa_id: '48607654321' }],
      messages: [
        {
          from: '48607654321',
          id: 'wamid.storedown0702',
          timestamp: '1763986500',
          type: 'text',
          text: { body: 'Halo?' },
        },
      ],
      statuses: [
        { id: ack?.providerMessageId, status: 'read', timestamp: '1763986460', recipient_id: '48601234567' },
      ],
    });

    // Act
    const during = await sb.postMeta(batch);
    outage.up();
    await sb.drain();
    await pastTheHold();

    // Assess: the ack reads as read; the other customer's message is recorded and acknowledged
    expect(during.status).toBe(200);
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(items).toHaveLength(2);
    const first = items.find((c) => c.contact.key === 'phone:+48601234567');
    const messages = await sb.runtime.store.listMessages(first?.id as string, { limit: 100 });
    expect(messages.find((m) => m.kind === 'ack')?.delivery?.status).toBe('read');
    expect(await sb.outbox()).toHaveLength(2);
  });

  it('should record a customer’s message queued with another app’s echo whose metadata looks like our send tag but names no id of ours', async () => {
    // Prepare: another app on the same Page (a CRM, a bot) answers the customer and writes its
    // own `switchboard:msg_…` string in the metadata, longer than any id of ours; the store is down
    sb = await startTestSwitchboard();
    const psid = '7214568800000801';
    const now = sb.clock.now().getTime();
    const message = { ...messagingTextEvent(1, { sender: psid }), timestamp: now - 30_000 };
    const otherApp = {
      sender: { id: PAGE_ID },
      recipient: { id: psid },
      timestamp: now - 20_000,
      message: {
        mid: 'm_other_app_0801',
        is_echo: true,
        app_id: 555000111222333,
        metadata: `switchboard:msg_${'a'.repeat(64)}`,
        text: 'Thanks, an agent will be with you soon.',
      },
    };
    const outage = serviceDown(sb.backends.dynamodb);

    // Act
    const during = await sb.postMeta(messagingEnvelope([[message, otherApp]]));
    outage.up();
    sb.clock.advance(MINUTE);
    await sb.drain();

    // Assess: the customer's message is on record and acknowledged, nothing in the DLQ
    expect(during.status).toBe(200);
    const conversation = await sb.onlyOpenConversation();
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.filter((m) => m.direction === 'inbound').map((m) => m.kind)).toEqual(['message']);
    expect(await dlqBodies()).toEqual([]);
  });
  describe('an Instagram echo queued while one of our sends is in flight', () => {
    let meta: FakeMeta;
    const igsid = '1029384756100951';

    afterEach(async () => {
      await meta.close();
    });

    /** An Instagram customer whose ack Meta took, its answer lost (504): the ack is pending, uncertain. */
    async function customerWithUncertainAck() {
      meta = await startFakeMeta();
      sb = await startTestSwitchboard({ graphBaseUrl: meta.url });
      meta.useClock(sb.clock);
      meta.failNext(1, { status: 504, gateway: true, taken: true });
      await sb.postMeta(
        messagingEnvelope(
          [
            [
              messagingTextEvent(1, {
                sender: igsid,
                recipient: IG_ACCOUNT_ID,
                text: 'Czy kurtka jest w M?',
              }),
            ],
          ],
          'instagram',
        ),
      );
      await sb.drain();
      const waiting = await sb.onlyOpenConversation();
      expect(waiting.ack).toMatchObject({ state: 'pending', reason: 'SEND_UNCERTAIN' });
      return waiting;
    }

    /** What Instagram's inbox echoes: no app id, no metadata (a person's message, or one whose tag Meta left out). */
    function instagramInboxEcho(mid: string, text: string) {
      return messagingEnvelope(
        [
          [
            {
              sender: { id: IG_ACCOUNT_ID },
              recipient: { id: igsid },
              timestamp: sb.clock.now().getTime() - 5_000,
              message: { mid, is_echo: true, text },
            },
          ],
        ],
        'instagram',
      );
    }

    it('should record a person’s Instagram inbox reply as the answer on its job’s last receive, not leave it in the DLQ', async () => {
      // Prepare: the ack's try is uncertain; the store goes down; a person answers from the
      // Instagram inbox; the store is back
      const waiting = await customerWithUncertainAck();
      const outage = serviceDown(sb.backends.dynamodb);
      const during = await sb.postMeta(instagramInboxEcho('m_ig_inbox_0951', 'Tak, mamy M. Anna'));
      outage.up();

      // Act: every receive of the job finds our ack's try still uncertain
      await sb.drain();

      // Assess: the reply is on record and answers her; nothing waits in the DLQ
      expect(during.status).toBe(200);
      const messages = await sb.runtime.store.listMessages(waiting.id, { limit: 100 });
      expect(messages.filter((m) => m.kind === 'reply').map((m) => m.text)).toEqual(['Tak, mamy M. Anna']);
      expect((await sb.onlyOpenConversation()).awaitingSince).toBeNull();
      expect(await dlqBodies()).toEqual([]);
    });

    it('should take an untagged Instagram echo carrying our uncertain ack’s text as that ack on its job’s last receive, and never send the ack again', async () => {
      // Prepare: the ack's try is uncertain; the store goes down; Meta echoes that ack without
      // our tag; the store is back
      const waiting = await customerWithUncertainAck();
      const ack = meta.taken[0];
      if (!ack) throw new Error('Meta took no ack');
      const text = String((ack.body as { message: { text: string } }).message.text);
      const outage = serviceDown(sb.backends.dynamodb);
      const during = await sb.postMeta(instagramInboxEcho(ack.id, text));
      outage.up();

      // Act: the job's receives; then the uncertain try's wait passes and its lookup runs
      await sb.drain();
      sb.clock.advance(UNCERTAIN_WAIT_MS + MINUTE);
      await sweep(sb.runtime.sweepDeps);
      await sb.drain();

      // Assess: one ack sent, on record under Meta's id, no person's reply; nothing in the DLQ
      expect(during.status).toBe(200);
      expect(meta.taken).toHaveLength(1);
      const messages = await sb.runtime.store.listMessages(waiting.id, { limit: 100 });
      expect(messages.map((m) => `${m.kind}:${m.providerMessageId}`)).toEqual([
        expect.stringMatching(/^message:/),
        `ack:${ack.id}`,
      ]);
      expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
      expect(await dlqBodies()).toEqual([]);
    });

    it('should take an untagged Instagram echo carrying our uncertain ack’s text as that ack before the ack’s next try, when the echo job’s receives are 3 minutes apart', async () => {
      // Prepare: the ack's try is uncertain (Meta took it); the store goes down; Meta echoes that
      // ack without our tag; the store is back. On AWS a failed job comes back only after the
      // queue's visibility timeout (3 minutes): its five receives span 12 minutes, while the
      // uncertain ack is tried again UNCERTAIN_WAIT_MS after its try
      const waiting = await customerWithUncertainAck();
      const ack = meta.taken[0];
      if (!ack) throw new Error('Meta took no ack');
      const text = String((ack.body as { message: { text: string } }).message.text);
      const outage = serviceDown(sb.backends.dynamodb);
      const during = await sb.postMeta(instagramInboxEcho(ack.id, text));
      outage.up();
      const worker = spacedWorker();

      // Act: the echo job's receives, 3 minutes apart, the sweeper running meanwhile; then the
      // sweeper and the worker until nothing is left
      await worker.receive();
      await worker.minutes(15);

      // Assess: Meta took the ack once; it is on record under Meta's id, no person's reply
      expect(during.status).toBe(200);
      expect(meta.taken).toHaveLength(1);
      const messages = await sb.runtime.store.listMessages(waiting.id, { limit: 100 });
      expect(messages.map((m) => `${m.kind}:${m.providerMessageId}`)).toEqual([
        expect.stringMatching(/^message:/),
        `ack:${ack.id}`,
      ]);
      expect(worker.hidden).toEqual([]);
      expect(await dlqBodies()).toEqual([]);
    });
  });
});
