import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '#lib/domain/message.ts';
import { mailgunMail } from '#test/support/email.ts';
import { countCalls } from '#test/support/faults.ts';
import { signMailgun } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A long-running conversation: what the agents' API answers for it and what a reply on a chosen
// channel reads of it. GET /api/conversations/:id answered up to 2,000 messages at once (a long
// mail thread went past Lambda's 6 MB response limit and could not be opened on AWS), and a reply
// on a chosen channel read all of them to find the customer's address there. Found at stop 23.

const CUSTOMER = '+48601234567';

describe('a long-running conversation', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    sb = await startTestSwitchboard();
  });
  afterEach(async () => {
    await sb.stop();
  });

  /** `count` inbound WhatsApp messages of the customer in `conversationId`, a second apart from now. */
  async function seedWhatsApp(conversationId: string, count: number): Promise<void> {
    const start = sb.clock.now().getTime();
    const seeded: Message[] = Array.from({ length: count }, (_, i) => ({
      id: `msg_wa${String(i).padStart(24, '0')}`,
      conversationId,
      direction: 'inbound',
      kind: 'message',
      channel: 'whatsapp',
      provider: 'twilio',
      providerMessageId: `SMwa${i}`,
      from: `whatsapp:${CUSTOMER}`,
      to: 'whatsapp:+48221234567',
      text: `Wiadomość ${i}`,
      media: [],
      createdAt: new Date(start + i * 1_000).toISOString(),
      contactKey: `phone:${CUSTOMER}`,
    }));
    for (let i = 0; i < seeded.length; i += 100) {
      await Promise.all(seeded.slice(i, i + 100).map((message) => sb.runtime.store.putMessage(message)));
    }
    sb.clock.advance(count * 1_000);
  }

  const postWhatsApp = (body: string) =>
    sb.postTwilio('messaging', 'whatsapp-profile', {
      From: `whatsapp:${CUSTOMER}`,
      WaId: CUSTOMER.slice(1),
      Body: body,
    });

  it('should let an agent open a long-running mail conversation on Lambda: GET /api/conversations/:id stays under the 6 MB response limit', async () => {
    // Prepare: one customer's long thread, 105 mails of 60,000 characters (63 KB of UTF-8 each,
    // all kept inline: normalizeMail keeps up to 64,000 bytes of text on the message item).
    const body = 'Proszę o sprawdzenie pozycji w załączonym zestawieniu. '.repeat(1100).slice(0, 60_000);
    for (let i = 0; i < 105; i++) {
      const form = mailgunMail({
        from: 'Jan Nowak <jan.nowak@klient.example>',
        messageId: `long-${i}@klient.example`,
        body,
      });
      const response = await sb.postMailgun(
        signMailgun(form, { timestamp: Math.floor(sb.clock.now().getTime() / 1000) }),
      );
      expect(response.status).toBe(200);
      sb.clock.advance(60_000);
    }
    const conversation = await sb.onlyOpenConversation();

    // Act: the first page, and the pages before it
    const first = await sb.api(`/api/conversations/${conversation.id}`);
    const bytes = (await first.clone().arrayBuffer()).byteLength;
    let page = (await first.json()) as {
      messages: Array<{ id: string; text: string }>;
      nextCursor: string | null;
    };
    const seen = [...page.messages];
    while (page.nextCursor) {
      const next = await sb.api(`/api/conversations/${conversation.id}?cursor=${page.nextCursor}`);
      expect((await next.clone().arrayBuffer()).byteLength).toBeLessThanOrEqual(2.1 * 1024 * 1024);
      page = (await next.json()) as typeof page;
      seen.unshift(...page.messages);
    }

    // Assess: a Lambda behind the HTTP API cannot return more than 6 MB (the synchronous
    // invocation quota test/infra/lambda-limits.test.ts holds the request side to); a page of
    // whole mails stops near 2 MB, and the pages hold every mail once.
    expect(first.status).toBe(200);
    expect(bytes).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(2.1 * 1024 * 1024);
    const mails = seen.filter((m) => m.text === body);
    expect(mails).toHaveLength(105);
    expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
  }, 120_000);

  it('should send a reply on a chosen channel to the address of its last message there, however far back', async () => {
    // Prepare: the customer texted once, then wrote 300 times on WhatsApp
    await sb.postSms({ From: CUSTOMER, Body: 'Dzień dobry' });
    sb.clock.advance(60_000);
    await postWhatsApp('Piszę też na WhatsAppie');
    const conversation = await sb.onlyOpenConversation();
    await seedWhatsApp(conversation.id, 300);

    // Act: the agent answers by SMS
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Odpiszę SMS-em.',
      channel: 'sms',
    });

    // Assess
    expect(reply.status).toBe(201);
    expect((await sb.outbox()).filter((sent) => sent.text?.startsWith('Odpiszę'))).toEqual([
      expect.objectContaining({ channel: 'sms', to: CUSTOMER }),
    ]);
  });

  it('should read only the latest messages when the chosen channel was used lately, not the whole conversation', async () => {
    // Prepare: 300 WhatsApp messages, then the customer texts, then one more WhatsApp message
    await postWhatsApp('Dzień dobry');
    const conversation = await sb.onlyOpenConversation();
    await seedWhatsApp(conversation.id, 300);
    await sb.postSms({ From: CUSTOMER, Body: 'Wolę SMS' });
    sb.clock.advance(60_000);
    await postWhatsApp('I jeszcze jedno');
    const queries = countCalls(sb.backends.dynamodb, 'QueryCommand');
    const pagesOf50 = countCalls(sb.backends.dynamodb, 'QueryCommand', (input) => Number(input.Limit) <= 50);

    // Act
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Odpiszę SMS-em.',
      channel: 'sms',
    });

    // Assess: one page of the messages' index (at most 50 of them), the customer's number in it
    expect(reply.status).toBe(201);
    expect(queries.count).toBe(1);
    expect(pagesOf50.count).toBe(1);
    expect((await sb.outbox()).filter((sent) => sent.text?.startsWith('Odpiszę'))).toEqual([
      expect.objectContaining({ channel: 'sms', to: CUSTOMER }),
    ]);
  });
});
