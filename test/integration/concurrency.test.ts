import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

type Delivery = () => Promise<Response>;

describe('many providers retrying at once', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should store 200 messages from 50 contacts once each, in 50 conversations with one ack each', async () => {
    // Prepare: 50 contacts on three channels, 4 messages each, every message delivered 1 to 3 times.
    sb = await startTestSwitchboard();
    const random = fc.sample(fc.integer({ min: 1, max: 3 }), { numRuns: 200, seed: 42 });
    const deliveries: Delivery[] = [];
    for (let contact = 0; contact < 50; contact++) {
      for (let n = 0; n < 4; n++) {
        const copies = random[contact * 4 + n] ?? 1;
        let deliver: Delivery;
        if (contact % 3 === 0) {
          const sid = twilioSid('SM');
          deliver = () =>
            sb.postSms({
              MessageSid: sid,
              SmsSid: sid,
              From: `+4860100${String(contact).padStart(4, '0')}`,
              Body: `sms ${n}`,
            });
        } else if (contact % 3 === 1) {
          const sid = twilioSid('SM');
          const from = `whatsapp:+4860200${String(contact).padStart(4, '0')}`;
          deliver = () =>
            sb.postSms({
              MessageSid: sid,
              SmsSid: sid,
              From: from,
              To: 'whatsapp:+48221234567',
              Body: `wa ${n}`,
            });
        } else {
          const event = messagingTextEvent(contact * 10 + n, {
            sender: `90000000000${String(contact).padStart(4, '0')}`,
            text: `fb ${n}`,
          });
          deliver = () => sb.postMeta(messagingEnvelope([[event]]));
        }
        for (let copy = 0; copy < copies; copy++) deliveries.push(deliver);
      }
    }
    const order =
      fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
        numRuns: 1,
        seed: 7,
      })[0] ?? deliveries;

    // Act: all at once, in a shuffled order.
    const responses = await Promise.all(order.map((deliver) => deliver()));
    await sb.drain();

    // Assess
    expect(responses.filter((response) => response.status !== 200)).toHaveLength(0);
    let conversations: Awaited<ReturnType<typeof sb.runtime.store.listConversations>>['items'] = [];
    let cursor: string | undefined;
    do {
      const page = await sb.runtime.store.listConversations({ status: 'open', limit: 100, cursor });
      conversations = [...conversations, ...page.items];
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(conversations).toHaveLength(50);
    const perConversation = await Promise.all(
      conversations.map((c) => sb.runtime.store.listMessages(c.id, { limit: 1_000 })),
    );
    expect(
      perConversation.map((messages) => messages.filter((m) => m.direction === 'inbound').length),
    ).toEqual(Array(50).fill(4));
    expect(perConversation.map((messages) => messages.filter((m) => m.kind === 'ack').length)).toEqual(
      Array(50).fill(1),
    );
    expect(await sb.outbox()).toHaveLength(50);
  }, 120_000);
});
