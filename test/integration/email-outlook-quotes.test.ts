import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { postSesMail, sesIntake } from '#test/support/email.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Outlook on the web, the new Outlook and Outlook for phones quote in Polish as "Od: … /
// Wysłane: … / Do: … / Temat: …" (the desktop Outlook writes "Wysłano:"). Found by a walk through
// a customer's email day at stop 33: only "Wysłano" was known, so such a reply was recorded with
// our own ack quoted below it as the customer's words, and a thanks so quoted was a question.

const QUOTE = [
  'Od: Anna Kowalska <anna@mg.sklep.example>',
  'Wysłane: środa, 11 listopada 2026 08:30',
  'Do: Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
  'Temat: Odpowiemy jutro do 10:00',
  '',
  'Dzień dobry,',
  '',
  'Dziękujemy za wiadomość, już do nas dotarła. Odpowiemy jutro do 10:00.',
];

function htmlOnly(newText: string): string {
  const html = `<div>${newText}</div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>Od:</b> Anna Kowalska &lt;anna@mg.sklep.example&gt;<br><b>Wysłane:</b> środa, 11 listopada 2026 08:30<br><b>Do:</b> Zofia Wójcik<br><b>Temat:</b> Odpowiemy jutro do 10:00</div><div>Dzień dobry,</div><div>Dziękujemy za wiadomość, już do nas dotarła.</div>`;
  return [
    'From: Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
    'To: Anna Kowalska <anna@mg.sklep.example>',
    'Subject: Re: Odpowiemy jutro do 10:00',
    'Date: Wed, 11 Nov 2026 08:40:00 +0100',
    'Message-ID: <owa-html-1@poczta.example.pl>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(html).toString('base64'),
    '',
  ].join('\r\n');
}

describe('a reply quoting our mail the way Outlook on the web does in Polish', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function recorded(mail: Parameters<typeof postSesMail>[1]) {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    expect((await postSesMail(sb, mail)).status).toBe(200);
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    return (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Record<string, unknown>;
      messages: Array<{ text: string; fullText?: string }>;
    };
  }

  it.each([
    [
      'plain text',
      {
        from: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
        messageId: 'owa-1@poczta.example.pl',
        subject: 'Re: Odpowiemy jutro do 10:00',
        body: ['Kiedy będzie dostawa?', '', ...QUOTE].join('\n'),
      },
    ],
    ['HTML only', htmlOnly('Kiedy będzie dostawa?')],
  ])(
    'should record only the new words of a %s reply and keep the quoted mail beside them',
    async (_kind, mail) => {
      // Act
      const { messages } = await recorded(mail);

      // Assess
      expect(messages[0]?.text).toBe('Kiedy będzie dostawa?');
      expect(messages[0]?.fullText).toContain('Dziękujemy za wiadomość');
    },
  );

  it('should take such a reply that only thanks for thanks', async () => {
    // Act
    const { conversation, messages } = await recorded(htmlOnly('Dziękuję!'));

    // Assess
    expect(messages[0]?.text).toBe('Dziękuję!');
    expect(conversation).toMatchObject({ awaiting: 'no-reply-needed', ack: { reason: 'thanks' } });
    expect(await sb.outbox()).toEqual([]);
  });
});
