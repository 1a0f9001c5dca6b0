import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail } from '#test/support/email.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ShownMessage = { text: string; fullText?: string; media: Array<{ name?: string; size?: number }> };

// A reply at the top of a long thread: months of quoted history below a line or two. Found by
// a walk through a customer's email day at stop 33: past 64 KB the whole mail went to
// message.txt, as it should, but the customer's own words were then shown cut ("…" after
// "Dziękuję!"), though nothing of them was cut, and such a thanks was taken for a question.

/** 80 KB of quoted history under Gmail's Polish quote header, as a reply-all chain grows. */
function history(): string {
  const quoted = Array.from(
    { length: 1_000 },
    (_, index) => `> ${index + 1}. Ustalenia do zamówienia 2026/11/0042: dostawa, faktura, montaż, serwis.`,
  );
  return ['W dniu śr., 11 lis 2026 o 08:30 Anna Kowalska <anna@mg.sklep.example> napisała:', ...quoted].join(
    '\n',
  );
}

describe('a short reply on top of a long quoted thread', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function replied(newText: string, strippedByMailgun: boolean): Promise<ShownMessage> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunMail({
      from: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
      messageId: 'long-thread-1@poczta.example.pl',
      subject: 'Re: Pytanie o fakturę',
      body: `${newText}\n\n${history()}`,
    });
    if (strippedByMailgun) form.set('stripped-text', newText);
    else form.delete('stripped-text');
    expect((await sb.postMailgun(signMailgun(form))).status).toBe(200);
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: ShownMessage[];
    };
    return messages[0] as ShownMessage;
  }

  it.each([
    ['Mailgun’s stripped-text', true],
    ['our own reply splitter', false],
  ])('should show the new words whole and keep the whole thread beside them (%s)', async (_way, stripped) => {
    // Act
    const message = await replied('Czy mogę prosić o fakturę na firmę?\n\nZofia', stripped);

    // Assess
    expect(message.text).toBe('Czy mogę prosić o fakturę na firmę?\n\nZofia');
    expect(message.fullText).toBeUndefined();
    expect(message.media.find((file) => file.name === 'message.txt')?.size).toBeGreaterThan(80_000);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should take a reply that only thanks for thanks, however long the thread below it', async () => {
    // Act
    const message = await replied('Dziękuję!', true);

    // Assess
    expect(message.text).toBe('Dziękuję!');
    const { id } = await sb.onlyOpenConversation();
    const { conversation } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Record<string, unknown>;
    };
    expect(conversation).toMatchObject({ awaiting: 'no-reply-needed', ack: { reason: 'thanks' } });
    expect(await sb.outbox()).toEqual([]);
  });
});
