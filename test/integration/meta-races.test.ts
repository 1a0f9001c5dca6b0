import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeMeta, GRAPH_FAILURES, startFakeMeta } from '#test/support/fake-meta.ts';
import { afterCall, beforeCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import {
  IG_ACCOUNT_ID,
  messagingEnvelope,
  messagingTextEvent,
  PAGE_ID,
  PSID,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
  ack: { state: string; reason?: string } | null;
  firstReplyAt?: string;
  awaitingSince?: string | null;
};
type ApiMessage = { direction: string; kind: string; providerMessageId: string | null };

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

/** A reply a person typed in the Page inbox (no app of ours) to `psid`. */
function inboxEcho(psid: string, mid: string, timestamp: number, text = 'Dzień dobry, już sprawdzam.') {
  return {
    sender: { id: PAGE_ID },
    recipient: { id: psid },
    timestamp,
    message: { mid, is_echo: true, text },
  };
}

/** A WhatsApp Cloud text from +48 601 234 567 to our number (or the WABA's other number). */
function whatsappText(id: string, body: string, options: { otherNumber?: boolean } = {}) {
  const payload = whatsappEnvelope({
    contacts: [{ profile: { name: 'Ewa' }, wa_id: '48601234567' }],
    messages: [{ from: '48601234567', id, timestamp: '1763986400', type: 'text', text: { body } }],
  }) as { entry: Array<{ changes: Array<{ value: { metadata: Record<string, string> } }> }> };
  const value = payload.entry[0]?.changes[0]?.value;
  if (options.otherNumber && value) {
    value.metadata = { display_phone_number: '48227654321', phone_number_id: '207651463353033' };
  }
  return payload;
}

/** The Cloud API's status for a send it took, then refused: outside the 24-hour window. */
function windowClosedStatus(wamid: string | undefined) {
  return whatsappEnvelope({
    statuses: [
      {
        id: wamid,
        status: 'failed',
        timestamp: '1763986800',
        recipient_id: '48601234567',
        errors: [{ code: 131047, title: 'Re-engagement message' }],
      },
    ],
  });
}

/** Runs `meanwhile` once, right before the first matching DynamoDB call leaves the client. */

// Meta's echoes, statuses and numbers against what we have not finished recording: an echo of
// a person's inbox reply that lands before the customer's conversation exists (or while Meta
// still retries the customer's message) is answered 503 and placed on Meta's retry; the echo of
// our own Instagram ack (no app id) waits while the ack is in flight instead of counting as a
// person's reply; a status for an ack whose worker died before its provider-id alias still
// finds it; a message to another number of the WhatsApp Business Account is not acknowledged
// from ours. Found by a review of the Meta channels at stop 22.

describe('Meta webhooks against what is not recorded yet', () => {
  let sb: TestSwitchboard;

  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb.stop();
    await graph?.close();
    graph = undefined;
  });

  /** An Instagram customer `igsid` who asked about a jacket and was acknowledged; 20 minutes on: their conversation. */
  async function acknowledgedInstagramCustomer(igsid: string) {
    await sb.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(4, { sender: igsid, recipient: IG_ACCOUNT_ID, text: 'Is the jacket in M?' })]],
        'instagram',
      ),
    );
    await sb.drain();
    const [conversation] = await conversations(sb);
    sb.clock.advance(20 * 60_000);
    return conversation;
  }

  it("should place the Page inbox reply on Meta's retry when it lands while the customer's first message is still being recorded", async () => {
    // Prepare: a new customer's message is stored (contact claimed, message written) but its
    // conversation is not written yet; right then Meta delivers the echo of a person's inbox reply
    sb = await startTestSwitchboard();
    const psid = '7214568800000001';
    const echo = messagingEnvelope([[inboxEcho(psid, 'm_inbox_reply_0001', sb.clock.now().getTime())]]);
    let echoStatus = 0;
    const meanwhile = afterCall(
      sb.backends.dynamodb,
      { command: 'PutItemCommand', match: pkStartsWith('MSG#') },
      async () => {
        echoStatus = (await sb.postMeta(echo)).status;
      },
    );

    // Act: the message finishes; Meta delivers the echo again
    const response = await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { sender: psid })]]));
    const retried = await sb.postMeta(echo);
    await sb.drain();

    // Assess: the reply is stored and answered the customer; no ack after a person answered
    expect(meanwhile.fired).toBe(true);
    expect([response.status, echoStatus, retried.status]).toEqual([200, 503, 200]);
    const [conversation] = await conversations(sb);
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(conversation?.firstReplyAt).toBeDefined();
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(await sb.outbox()).toHaveLength(0);
  });

  it("should keep the Page inbox reply that arrives while Meta is still retrying the customer's message", async () => {
    // Prepare: the customer's first message got a 500 (a DynamoDB blip, and the work queue
    // refused it too: since stop 26 only then); Meta will retry it
    sb = await startTestSwitchboard();
    const psid = '7214568800000002';
    const message = messagingEnvelope([[messagingTextEvent(2, { sender: psid })]]);
    const blip = injectFault(sb.backends.dynamodb, { command: 'UpdateItemCommand', when: 'before' });
    const queueBlip = injectFault(sb.backends.sqs, { command: 'SendMessageCommand', when: 'before' });
    const first = await sb.postMeta(message);
    queueBlip.remove();
    const echo = messagingEnvelope([[inboxEcho(psid, 'm_inbox_reply_0002', sb.clock.now().getTime())]]);

    // Act: meanwhile a person answers in the Page inbox; then Meta's retries of both
    sb.clock.advance(60_000);
    const early = await sb.postMeta(echo);
    sb.clock.advance(60_000);
    const retry = await sb.postMeta(message);
    const echoAgain = await sb.postMeta(echo);
    await sb.drain();

    // Assess: the reply is on record and ended the episode: no ack after a person answered
    expect([blip.fired, queueBlip.fired]).toEqual([1, 1]);
    expect([first.status, early.status, retry.status, echoAgain.status]).toEqual([500, 503, 200, 200]);
    const [conversation] = await conversations(sb);
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should ignore an old echo to a customer never recorded (a thread the business began)', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const sentAt = sb.clock.now().getTime() - 11 * 60_000;

    // Act
    const response = await sb.postMeta(
      messagingEnvelope([[inboxEcho('7214568800000009', 'm_old_0001', sentAt)]]),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(await conversations(sb)).toEqual([]);
  });

  it("should mark a WhatsApp ack failed on its failed status when the worker's first run died before storing the provider id alias", async () => {
    // Prepare: a WhatsApp customer; the worker sends the ack, stores it, dies before the alias
    sb = await startTestSwitchboard();
    await sb.postMeta(
      whatsappEnvelope({
        contacts: [{ profile: { name: 'Ewa' }, wa_id: '48601234567' }],
        messages: [
          {
            from: '48601234567',
            id: 'wamid.customer0001',
            timestamp: '1763986400',
            type: 'text',
            text: { body: 'Dzień dobry' },
          },
        ],
      }),
    );
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('PMID#'),
    });
    await sb.drain();
    // The lease runs out; the sweeper queues the job again and the next worker finishes it.
    sb.clock.advance(5 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const sent = await sb.outbox();
    const [before] = await conversations(sb);

    // Act: WhatsApp reports our ack failed (the number cannot receive it)
    const response = await sb.postMeta(
      whatsappEnvelope({
        statuses: [
          {
            id: sent[0]?.providerMessageId,
            status: 'failed',
            timestamp: '1763986800',
            recipient_id: '48601234567',
            errors: [{ code: 131026, title: 'Message undeliverable' }],
          },
        ],
      }),
    );

    // Assess
    expect(crash.fired).toBe(1);
    expect(sent).toHaveLength(1);
    expect(before?.ack).toMatchObject({ state: 'sent' });
    // The ack is stored with the provider's id, but nothing maps that id to it
    const stored = await messagesOf(sb, before?.id as string);
    expect(stored.find((m) => m.kind === 'ack')?.providerMessageId).toBe(sent[0]?.providerMessageId);
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'failed', reason: 'delivery-failed:131026' });
  });
  it('should not take the echo of our own Instagram ack for a person answering from the inbox', async () => {
    // Prepare: Instagram echoes carry no app_id; ours arrives right after the Send API took the
    // ack, before the worker has stored it (a DynamoDB write away)
    sb = await startTestSwitchboard();
    const igsid = '1029384756100001';
    let echoStatus = 0;
    let ourEcho: Record<string, unknown> = {};
    const race = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => (input.Item as { kind?: { S?: string } } | undefined)?.kind?.S === 'ack',
      },
      async () => {
        const [sent] = await sb.outbox();
        ourEcho = messagingEnvelope(
          [
            [
              {
                sender: { id: IG_ACCOUNT_ID },
                recipient: { id: igsid },
                timestamp: sb.clock.now().getTime(),
                message: { mid: sent?.providerMessageId, text: sent?.text, is_echo: true },
              },
            ],
          ],
          'instagram',
        );
        echoStatus = (await sb.postMeta(ourEcho)).status;
      },
    );
    await sb.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(3, { sender: igsid, recipient: IG_ACCOUNT_ID, text: 'Is the jacket in M?' })]],
        'instagram',
      ),
    );

    // Act: the worker finishes; Meta delivers the echo again
    await sb.drain();
    const retried = await sb.postMeta(ourEcho);

    // Assess: one outbound message (our ack), no reply counted
    expect(race.fired).toBe(true);
    expect([echoStatus, retried.status]).toEqual([503, 200]);
    const [conversation] = await conversations(sb);
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:ack']);
    expect(conversation?.firstReplyAt).toBeUndefined();
  });
  it("should not take the echo of an agent's Instagram reply, arriving before the reply is stored, for a person's", async () => {
    // Prepare: an Instagram customer, acknowledged; an agent replies through the API and Meta's
    // echo of it (no app_id on Instagram) arrives after the send, before the reply is stored
    sb = await startTestSwitchboard();
    const igsid = '1029384756100002';
    const conversation = await acknowledgedInstagramCustomer(igsid);
    let echoStatus = 0;
    let echo: Record<string, unknown> = {};
    const race = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => (input.Item as { kind?: { S?: string } } | undefined)?.kind?.S === 'reply',
      },
      async () => {
        const sent = (await sb.outbox()).at(-1);
        echo = messagingEnvelope(
          [
            [
              {
                sender: { id: IG_ACCOUNT_ID },
                recipient: { id: igsid },
                timestamp: sb.clock.now().getTime(),
                message: { mid: sent?.providerMessageId, text: sent?.text, is_echo: true },
              },
            ],
          ],
          'instagram',
        );
        echoStatus = (await sb.postMeta(echo)).status;
      },
    );

    // Act: the reply finishes; Meta delivers the echo again
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Yes, in M and L.' });
    const retried = await sb.postMeta(echo);

    // Assess: one reply on record, recognised as ours on the retry
    expect(race.fired).toBe(true);
    expect([reply.status, echoStatus, retried.status]).toEqual([201, 503, 200]);
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.filter((m) => m.kind === 'reply')).toHaveLength(1);
  });

  it("should take a person's Instagram inbox reply at once after an agent's reply the provider refused", async () => {
    // Prepare: an Instagram customer, acknowledged; an agent's reply is refused by Meta (the
    // person is unavailable), so nothing of ours is on its way. Found at stop 23.
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    const igsid = '1029384756100003';
    const conversation = await acknowledgedInstagramCustomer(igsid);
    graph.failNext(1, GRAPH_FAILURES.unavailable);
    const refused = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Yes, in M and L.' });

    // Act: a person answers from the Instagram inbox a moment later
    sb.clock.advance(5_000);
    const echo = await sb.postMeta(
      messagingEnvelope(
        [
          [
            {
              sender: { id: IG_ACCOUNT_ID },
              recipient: { id: igsid },
              timestamp: sb.clock.now().getTime(),
              message: {
                mid: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAz',
                text: 'Tak, jest M.',
                is_echo: true,
              },
            },
          ],
        ],
        'instagram',
      ),
    );

    // Assess: recorded as the first reply now, not put off to Meta's retry
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(echo.status).toBe(200);
    const [after] = await conversations(sb);
    expect(after?.firstReplyAt).toBe(sb.clock.now().toISOString());
  });

  it('should not acknowledge a WhatsApp message from a business number other than the one it wrote to', async () => {
    // Prepare: the WABA has a second number (phone_number_id 207651463353033, +48 22 765 43 21);
    // its messages reach the same webhook, but we send only from the configured number
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    const payload = whatsappText('wamid.customer0002', 'Dzień dobry', { otherNumber: true });

    // Act
    const response = await sb.postMeta(payload);
    await sb.drain();

    // Assess: recorded, and not acknowledged from a number the customer never wrote to
    expect(response.status).toBe(200);
    expect(graph.requests.filter((r) => r.method === 'POST')).toEqual([]);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'other-number' });
  });

  // Found at stop 24: the ack was guarded (`other-number`), the agent's reply was not: it went
  // out from our number, which has no window with this customer, and counted as the answer.
  it("should not send an agent's reply from our WhatsApp number to a customer who wrote only to another number of the account", async () => {
    // Prepare: a customer wrote to the WABA's second number; we send only from
    // WHATSAPP_PHONE_NUMBER_ID, so the ack was skipped (`other-number`)
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(
      whatsappText('wamid.other0001', 'Dzień dobry, czy paczka wyszła?', { otherNumber: true }),
    );
    await sb.drain();
    const [conversation] = await conversations(sb);

    // Act: an agent answers through the API
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Tak, wyszła dziś.' });

    // Assess: refused before calling Meta, as a reply with no route
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'other-number' });
    expect(graph.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(reply.status).toBe(409);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('NO_ROUTE');
    const [after] = await conversations(sb);
    expect(after?.firstReplyAt).toBeUndefined();
  });

  it('should not acknowledge a YES to another number of the account from a customer who never opted out', async () => {
    // Prepare: YES is a keyword only for a number that opted out (an ordinary message
    // otherwise); to the other number, it is still not ours to answer. Found at stop 24.
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });

    // Act
    await sb.postMeta(whatsappText('wamid.other0002', 'Yes', { otherNumber: true }));
    await sb.drain();

    // Assess
    expect(graph.requests.filter((r) => r.method === 'POST')).toEqual([]);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'other-number' });
  });

  // Found at stop 25: START and UNSTOP were opt-ins from anyone on WhatsApp, so a first "Start"
  // (a click-to-chat greeting) was recorded as a keyword, never acknowledged.
  it('should acknowledge a WhatsApp "Start" from a customer who never opted out (nobody answers START on WhatsApp)', async () => {
    // Prepare: a new customer's first WhatsApp message is "Start"; they never opted out, so
    // there is nothing to opt back into
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });

    // Act
    await sb.postMeta(whatsappText('wamid.start0001', 'Start'));
    await sb.drain();

    // Assess: on SMS Twilio answers START itself; on WhatsApp nobody does, so like YES from
    // someone who never opted out it is an ordinary message, acknowledged with a reply-by time
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'sent' });
    expect(await sb.outbox()).toHaveLength(1);
  });
});

// Meta's refusals and statuses that say "later" or "the window": Messenger's (#1200) temporary
// failure was failed for good, and a WhatsApp status reporting the window closed (131047) marked
// the ack failed instead of skipped. Found by a review of the Meta channels at stop 24.
describe('Meta sends refused for a while, or for the window', () => {
  let sb: TestSwitchboard;
  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb.stop();
    await graph?.close();
    graph = undefined;
  });

  it('should retry, not fail for good, a Messenger ack refused with (#1200) "Temporary send message failure. Please try again later."', async () => {
    // Prepare: Messenger's Send API error table lists code 1200 as a temporary failure to retry
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    graph.failNext(1, {
      status: 400,
      code: 1200,
      message: '(#1200) Temporary send message failure. Please try again later.',
    });

    // Act: a customer writes; the worker (and the queue's retries) send the ack
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { sender: PSID })]]));
    await sb.drain();

    // Assess: the customer got the acknowledgement once the failure passed
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'sent' });
    expect(graph.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('should mark a WhatsApp Cloud ack skipped as outside the window, not failed, when its status reports 131047 (re-engagement)', async () => {
    // Prepare: the Cloud API takes the ack (200, a wamid) and reports the window closed in the
    // status webhook (docs/channels.md, "24-hour window")
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('wamid.window0001', 'Dzień dobry'));
    await sb.drain();
    const [sent] = await sb.outbox();

    // Act
    const response = await sb.postMeta(windowClosedStatus(sent?.providerMessageId));

    // Assess: not counted as a failed ack, but as the window's
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'outside-window' });
    const skipped = (await sb.events()).filter((event) => event.type === 'ack.skipped');
    expect(skipped.map((event) => event.data.reason)).toEqual(['outside-window']);
    expect((await sb.events()).some((event) => event.type === 'ack.failed')).toBe(false);
  });

  it.each([
    ['before the worker has stored its provider id (held for it)', beforeCall],
    ['between the provider id and the worker marking it sent', afterCall],
  ])('should keep the ack skipped for the window when the 131047 status lands %s', async (_when, at) => {
    // Prepare: the status answered at that point of the worker's run
    sb = await startTestSwitchboard();
    let status = 0;
    let wamid = '';
    const stop = at(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) => {
          const pk = (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
          if (!pk.startsWith('PMID#meta:')) return false;
          wamid = pk.slice('PMID#meta:'.length);
          return true;
        },
      },
      async () => {
        status = (await sb.postMeta(windowClosedStatus(wamid))).status;
      },
    );

    // Act
    await sb.postMeta(whatsappText('wamid.window0002', 'Dzień dobry'));
    await sb.drain();

    // Assess: the worker's "sent" came after the provider's verdict and did not hide it
    expect(stop.fired).toBe(true);
    expect(status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'outside-window' });
  });
});

// A late notice the Cloud API took and then refused for the window (131047) stayed sent: the
// episode kept the new time it states, which the customer never heard, and the agents' tool was
// told nothing but notice.sent. Found at stop 25.
describe('a late notice refused for the window', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should settle a WhatsApp Cloud late notice skipped as outside the window when its status reports 131047, and keep the promise the customer heard', async () => {
    // Prepare: a WhatsApp Cloud question on Wednesday 10:00, acknowledged (reply by Thursday
    // 10:00); the late notice goes half an hour before, and the Cloud API takes it
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postMeta(whatsappText('wamid.notice0001', 'Dzień dobry, gdzie paczka?'));
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const noticed = await sb.onlyOpenConversation();
    const [, notice] = await sb.outbox();
    expect(noticed.notice).toMatchObject({ state: 'sent' });
    expect(noticed.replyBy).not.toBe(acknowledged.replyBy);

    // Act: the status reports the window closed
    const response = await sb.postMeta(windowClosedStatus(notice?.providerMessageId));

    // Assess: skipped for the window, as an ack is; the promise in force is the one the
    // customer heard; the agents' tool hears it, as for an ack
    expect(response.status).toBe(200);
    const after = await sb.onlyOpenConversation();
    expect(after.notice).toMatchObject({ state: 'skipped', reason: 'outside-window' });
    expect(after.replyBy).toBe(acknowledged.replyBy);
    expect(after.promise).toEqual(acknowledged.promise);
    expect(after.originalReplyBy).toBeNull();
    const skipped = (await sb.events()).filter((event) => event.type === 'notice.skipped');
    expect(skipped.map((event) => event.data)).toEqual([
      expect.objectContaining({ reason: 'outside-window', replyBy: acknowledged.replyBy }),
    ]);
  });
});

// One customer's messages in one webhook: Meta batches them, and stored at once they shared a
// receipt millisecond, so the conversation showed them in the order of their hash-derived ids.
// Found at stop 23.
describe('one customer’s messages batched in one Meta webhook', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  type TimedMessage = { direction: string; kind: string; text: string; createdAt: string };
  const timedMessagesOf = async (id: string) =>
    ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: TimedMessage[] }).messages;

  it('should keep the order a customer wrote in when Meta batches their messages in one webhook', async () => {
    // Prepare: six messages of one person, one second apart, in one delivery
    sb = await startTestSwitchboard();
    const events = [1, 2, 3, 4, 5, 6].map((n) => messagingTextEvent(n * 1000, { text: `part ${n}` }));

    // Act
    const response = await sb.postMeta(messagingEnvelope([events]));
    const conversation = await sb.onlyOpenConversation();
    const messages = await timedMessagesOf(conversation.id);

    // Assess: the agent reads them as written (Meta's timestamps say so), oldest first
    expect(response.status).toBe(200);
    const texts = messages.filter((m) => m.direction === 'inbound').map((m) => m.text);
    expect(texts).toEqual(['part 1', 'part 2', 'part 3', 'part 4', 'part 5', 'part 6']);
  });

  it('should order a batch by Meta’s timestamps, the page’s inbox reply among them, each at its own receipt time and never ahead of it', async () => {
    // Prepare: entries out of order, the reply a person typed in the Page inbox between the two
    sb = await startTestSwitchboard();
    const receivedAt = sb.clock.now().getTime();
    const first = messagingTextEvent(1000, { text: 'Dzień dobry' });
    const reply = inboxEcho(PSID, 'm_inbox_reply_0100', 1763985600000 + 2000, 'Dzień dobry, słucham.');
    const second = messagingTextEvent(3000, { text: 'Chodzi o zamówienie 4417' });

    // Act
    const response = await sb.postMeta(messagingEnvelope([[second], [reply], [first]]));
    const conversation = await sb.onlyOpenConversation();
    const messages = await timedMessagesOf(conversation.id);

    // Assess: as written; times distinct and increasing, a millisecond apart at most past the
    // receipt (the test's clock stands still), never the provider's own
    expect(response.status).toBe(200);
    expect(messages.map((m) => `${m.kind}:${m.text}`)).toEqual([
      'message:Dzień dobry',
      'reply:Dzień dobry, słucham.',
      'message:Chodzi o zamówienie 4417',
    ]);
    expect(messages.map((m) => Date.parse(m.createdAt) - receivedAt)).toEqual([0, 1, 2]);
    // The conversation opened at the first one's receipt; the customer waits (and the promise
    // runs) from the receipt of the one after the reply.
    expect(conversation.openedAt).toBe(new Date(receivedAt).toISOString());
    expect(conversation.awaitingSince).toBe(new Date(receivedAt + 2).toISOString());
  });
});

// A late Meta failure after we announced the send (carried to stop 26): the Cloud API took our
// ack, or an agent's reply, we marked it sent, then a `failed` status came (not the window's
// 131047): 131026 undeliverable, 131049 held back for the ecosystem's engagement. The same as
// Twilio's `undelivered` callbacks: ack.failed taking back the ack.sent (its `sentAt`), and
// reply.failed with the conversation's replyFailure. Messenger and Instagram send no failed
// status (their webhooks report deliveries and reads only): a refusal comes with the send.
describe('a WhatsApp Cloud failure reported after the send was announced', () => {
  let sb: TestSwitchboard;
  let graph: FakeMeta;

  afterEach(async () => {
    await sb.stop();
    await graph.close();
  });

  function failedStatus(wamid: string | null | undefined, code: number, title: string) {
    return whatsappEnvelope({
      statuses: [
        {
          id: wamid,
          status: 'failed',
          timestamp: '1763990000',
          recipient_id: '48601234567',
          errors: [{ code, title }],
        },
      ],
    });
  }

  it('should mark the ack failed and announce ack.failed after ack.sent when the Cloud API reports 131026 late', async () => {
    // Prepare: the ack went out and was announced
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(whatsappText('wamid.late0001', 'Czy paczka już wyszła?'));
    await sb.drain();
    const [before] = await conversations(sb);
    const ack = (await messagesOf(sb, before?.id as string)).find((m) => m.kind === 'ack');
    await sb.postMeta(
      whatsappEnvelope({
        statuses: [
          {
            id: ack?.providerMessageId,
            status: 'sent',
            timestamp: '1763986500',
            recipient_id: '48601234567',
          },
        ],
      }),
    );

    // Act
    const response = await sb.postMeta(failedStatus(ack?.providerMessageId, 131026, 'Message undeliverable'));

    // Assess
    expect(before?.ack).toMatchObject({ state: 'sent' });
    expect(response.status).toBe(200);
    const [after] = await conversations(sb);
    expect(after?.ack).toMatchObject({ state: 'failed', reason: 'delivery-failed:131026' });
    const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
    expect(types).toEqual(['ack.sent', 'ack.failed']);
    const failed = (await sb.events()).find((event) => event.type === 'ack.failed');
    expect(failed?.data).toMatchObject({ reason: 'delivery-failed:131026', sentAt: expect.any(String) });
  });

  it('should announce reply.failed and show replyFailure when the Cloud API reports an agent’s reply failed (131049)', async () => {
    // Prepare: the customer was acknowledged and an agent answered through the Cloud API
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(whatsappText('wamid.late0002', 'Czy paczka już wyszła?'));
    await sb.drain();
    const [conversation] = await conversations(sb);
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, {
      text: 'Tak, wyszła wczoraj.',
    });
    expect(reply.status).toBe(201);
    const sent = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'reply');

    // Act
    const response = await sb.postMeta(
      failedStatus(
        sent?.providerMessageId,
        131049,
        'This message was not delivered to maintain healthy ecosystem engagement.',
      ),
    );

    // Assess
    expect(response.status).toBe(200);
    const events = (await sb.events()).filter((event) => event.type === 'reply.failed');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ status: 'failed', errorCode: '131049' });
    const view = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
      conversation: { replyFailure?: { status: string; errorCode?: string } };
    };
    expect(view.conversation.replyFailure).toMatchObject({ status: 'failed', errorCode: '131049' });
  });
});
