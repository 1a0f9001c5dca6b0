import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { postMailgunMail, postSesMail, sesIntake } from '#test/support/email.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
  awaiting: string;
  replyBy: string | null;
  ack: { state: string; reason?: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

// Autoresponders that mark themselves by their subject alone: no Auto-Submitted, no
// X-Autoreply, no Precedence (older webmail, hand-written vacation rules, some ERPs). Found by
// a walk through a customer's email day at stop 33: such an out-of-office to an agent's reply
// opened a new episode, was acknowledged ("we will answer by…" to a vacation notice) and
// waited in the inbox as a customer's question.

describe('an autoresponder known only by its subject', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it.each([
    'Automatyczna odpowiedź: Re: Pytanie o fakturę',
    'Odpowiedź automatyczna: Pytanie o fakturę',
    'Automatyczna odpowiedz: Re: Pytanie o fakturę',
    'Autoodpowiedź: Re: Pytanie o fakturę',
    'Out of Office: Re: Invoice question',
    'Out of Office AutoReply: Invoice question',
    'Automatic reply: Re: Invoice question',
    'Auto-Reply: Invoice question',
    'Abwesenheitsnotiz: Re: Rechnung',
    // Older Exchange, cPanel's and many hosting autoresponders.
    'Out of Office Reply: Re: Invoice question',
    // A Mac writes "ź" decomposed (z and a combining acute), a webmail may space with NBSP.
    'Automatyczna odpowiedz\u0301: Re: Pytanie o fakturę',
    'Out\u00a0of\u00a0Office: Re: Invoice question',
  ])('should record and never acknowledge a mail whose subject is "%s"', async (subject) => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

    // Act
    const response = await postMailgunMail(sb, {
      from: 'Ewa Mazur <ewa.mazur@firma.example>',
      messageId: `vacation-${subject.length}@firma.example`,
      subject,
      body: 'Jestem na urlopie do 20 listopada. W pilnych sprawach proszę dzwonić do biura.',
    });
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'auto-reply-subject' });
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should not acknowledge such an out-of-office that answers an agent’s reply, through SES', async () => {
    // Prepare: Ewa asked, got the ack and the agent's answer; her vacation rule answers that.
    sb = await startTestSwitchboard({
      clock: new TestClock(TEST_NOW),
      ...sesIntake(),
    });
    const from = 'Ewa Mazur <ewa.mazur@firma.example>';
    await postMailgunMail(sb, { from, messageId: 'question-1@firma.example' });
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Faktura jest w załączniku.',
    });
    expect(reply.status).toBe(201);
    sb.clock.advance(60_000);

    // Act
    const response = await postSesMail(sb, {
      from,
      messageId: 'vacation-1@firma.example',
      subject: 'Automatyczna odpowiedź: Re: Pytanie o fakturę',
      body: 'Jestem na urlopie do 20 listopada.',
    });
    await sb.drain();

    // Assess: one ack, for the question; the vacation notice is recorded, held back as what it
    // is (not as a customer's question that came minutes after an answer, waited on with a promise).
    expect(response.status).toBe(200);
    expect((await sb.outbox()).filter((sent) => sent.automatic)).toHaveLength(1);
    const [shown] = await conversations(sb);
    expect(shown).toMatchObject({
      awaiting: 'no-reply-needed',
      replyBy: null,
      ack: { state: 'skipped', reason: 'auto-reply-subject' },
    });
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.filter((message) => message.direction === 'inbound')).toHaveLength(2);
  });

  it.each([
    'Re: Dlaczego dostaję automatyczną odpowiedź zamiast odpowiedzi?',
    'Nieobecność kuriera: paczka nie dotarła',
    'Out of stock: when will it be back?',
  ])('should still acknowledge a person who writes about it: "%s"', async (subject) => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

    // Act
    await postMailgunMail(sb, { from: 'Jan <jan@firma.example>', messageId: 'q@firma.example', subject });
    await sb.drain();

    // Assess
    expect(await sb.outbox()).toHaveLength(1);
  });
});
