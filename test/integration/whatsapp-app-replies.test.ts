import { afterEach, describe, expect, it } from 'vitest';
import { sendTagOf } from '#lib/channels/meta/send.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { whatsappAppEchoEnvelope, whatsappEnvelope } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// WhatsApp "coexistence": the business's number is on the WhatsApp Business app and the Cloud
// API at once, and a person answers some customers from the phone. Meta reports those messages
// as `smb_message_echoes`. Until stop 26 they were skipped as an unknown field: the customer
// stayed "waiting", the promise counted as broken, the sweeper sent a late notice after a person
// had answered, and agents never saw the answer. Now such an echo is a person's reply, as one
// typed in the Messenger Page inbox is.

/** A WhatsApp Cloud text from `from` (no `+`) to our number, sent at `sentAt` (ms). */
function customerText(
  id: string,
  sentAt: number,
  from = '48601234567',
  body = 'Dzień dobry, kiedy dostawa?',
) {
  return whatsappEnvelope({
    contacts: [{ profile: { name: 'Ewa' }, wa_id: from }],
    messages: [{ from, id, timestamp: String(Math.floor(sentAt / 1000)), type: 'text', text: { body } }],
  });
}

type Row = { direction: string; kind: string; text: string; providerMessageId: string | null };

describe('a reply written in the WhatsApp Business app (smb_message_echoes)', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function rows(conversationId: string): Promise<Row[]> {
    return (await sb.runtime.store.listMessages(conversationId, { limit: 100 })) as Row[];
  }

  /** A WhatsApp Cloud customer who wrote at 10:00 on a Wednesday and was acknowledged. */
  async function acknowledgedCustomer() {
    // Wednesday 25 November 2026, 10:00 in Warsaw: business hours.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    expect(
      (await sb.postMeta(customerText('wamid.customer-app-0001', sb.clock.now().getTime()))).status,
    ).toBe(200);
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    expect(acknowledged.ack).toMatchObject({ state: 'sent' });
    return acknowledged;
  }

  it('should record a reply from the app as the first reply: the wait ends, the promise is met, and no late notice follows', async () => {
    // Prepare: acknowledged; 20 minutes on, a person answers from the WhatsApp Business app
    const acknowledged = await acknowledgedCustomer();
    sb.clock.advance(20 * 60_000);
    const repliedAt = sb.clock.now();

    // Act: Meta's echo of it; later, the time a late notice would be due
    const response = await sb.postMeta(
      whatsappAppEchoEnvelope({ id: 'wamid.app-reply-0001', sentAt: repliedAt.getTime() }),
    );
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 29 * 60_000));
    const due = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: on record as an outbound reply, measured against the promise; no late notice
    expect(response.status).toBe(200);
    const answered = await sb.onlyOpenConversation();
    expect((await rows(answered.id)).map((m) => `${m.direction}:${m.kind}`)).toEqual([
      'inbound:message',
      'outbound:ack',
      'outbound:reply',
    ]);
    const reply = (await rows(answered.id))[2];
    expect(reply).toMatchObject({
      text: 'Dzień dobry, paczka wyjedzie jutro rano. Anna',
      providerMessageId: 'wamid.app-reply-0001',
    });
    expect(answered.firstReplyAt).toBe(repliedAt.toISOString());
    expect(answered.awaitingSince).toBeNull();
    expect(due.notices).toBe(0);
    expect(await sb.outbox()).toHaveLength(1);
    expect((await sb.events()).map((e) => e.type)).toContain('reply.sent');
  });

  it("should not take the echo of our own Cloud API ack for a person's reply, then take the person's", async () => {
    // Prepare: acknowledged; the ack's wamid, and our tag on a send the store does not hold
    const acknowledged = await acknowledgedCustomer();
    const [ack] = await sb.outbox();
    sb.clock.advance(60_000);
    const ourAck = whatsappAppEchoEnvelope({
      id: ack?.providerMessageId as string,
      sentAt: sb.clock.now().getTime(),
      text: ack?.text,
    });
    const tagged = whatsappAppEchoEnvelope({
      id: 'wamid.tagged-ours-0001',
      sentAt: sb.clock.now().getTime(),
      biz_opaque_callback_data: sendTagOf('msg_0123456789abcdef'),
    });

    // Act: both echoes of our sends, then, 10 minutes on, a person's reply from the app
    const responses = [(await sb.postMeta(ourAck)).status, (await sb.postMeta(tagged)).status];
    const stillWaiting = await sb.onlyOpenConversation();
    sb.clock.advance(10 * 60_000);
    const person = await sb.postMeta(
      whatsappAppEchoEnvelope({ id: 'wamid.app-reply-0002', sentAt: sb.clock.now().getTime() }),
    );

    // Assess: ours changed nothing; the person's is the one reply, measured at its time
    expect([...responses, person.status]).toEqual([200, 200, 200]);
    expect(stillWaiting.firstReplyAt).toBeUndefined();
    expect(stillWaiting.awaitingSince).toBe(acknowledged.awaitingSince);
    const answered = await sb.onlyOpenConversation();
    expect((await rows(answered.id)).map((m) => `${m.direction}:${m.kind}`)).toEqual([
      'inbound:message',
      'outbound:ack',
      'outbound:reply',
    ]);
    expect(answered.firstReplyAt).toBe(sb.clock.now().toISOString());
  });

  it("should answer 503 for a customer not recorded yet and place the reply on Meta's retry; an old one is ignored", async () => {
    // Prepare: the customer's message failed its first delivery (Meta retries it); the person
    // already answered from the app
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    const sentAt = sb.clock.now().getTime();
    const echo = whatsappAppEchoEnvelope({ id: 'wamid.app-reply-0003', to: '48601230003', sentAt });
    const old = whatsappAppEchoEnvelope({
      id: 'wamid.app-old-0004',
      to: '48601230004',
      sentAt: sentAt - 11 * 60_000,
    });

    // Act: the echo first, then Meta's retries of the message and of the echo
    const early = await sb.postMeta(echo);
    sb.clock.advance(60_000);
    const message = await sb.postMeta(customerText('wamid.customer-app-0003', sentAt, '48601230003'));
    const retried = await sb.postMeta(echo);
    const ignored = await sb.postMeta(old);
    await sb.drain();

    // Assess: the reply is on record and ended the episode: no ack after a person answered
    expect([early.status, message.status, retried.status, ignored.status]).toEqual([503, 200, 200, 200]);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.contact.key).toBe('phone:+48601230003');
    expect((await rows(conversation.id)).map((m) => `${m.direction}:${m.kind}`)).toEqual([
      'inbound:message',
      'outbound:reply',
    ]);
    expect(conversation.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(await sb.outbox()).toHaveLength(0);
  });
});
