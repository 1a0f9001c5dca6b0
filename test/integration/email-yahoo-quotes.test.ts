import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail, postSesMail, sesIntake } from '#test/support/email.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Yahoo Mail quotes the mail it answers under its own header, in Polish "W poniedziałek, 23
// listopada 2026 10:00:00 CET, Anna Kowalska <anna@…> napisał(-a):" and in English "On Monday,
// November 23, 2026, 10:00:00 AM GMT+1, Anna Kowalska <anna@…> wrote:", indented and without
// "> " marks. The Polish form was not recognised (only "W dniu …" and "Dnia …" were), so our
// own acknowledgement stood in the customer's message as their words.

type Shown = { text: string; fullText?: string };

const eml = (name: string) => readFileSync(new URL(`../fixtures/email/${name}.eml`, import.meta.url), 'utf8');

const CASES = [
  [
    'Polish',
    'yahoo-reply-polish',
    'Dziękuję, a kiedy mogę się spodziewać dostawy?\n\nJan Kowalski',
    'Odpowiemy jutro',
  ],
  [
    'English',
    'yahoo-reply-english',
    'Thank you, and when can I expect the delivery?\n\nJan',
    'We will reply by',
  ],
] as const;

/** The HTML part of a fixture alone, as a mail written in HTML only. */
function htmlOnly(raw: string): string {
  const [head] = raw.split('\r\n\r\n');
  const html = raw.split(
    'Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n',
  )[1];
  const body = html?.split('\r\n\r\n')[0] ?? '';
  return [
    head?.replace(/Content-Type: multipart\/alternative;[^\r]*/, 'Content-Type: text/html; charset=UTF-8'),
    '',
    body,
    '',
  ]
    .join('\r\n')
    .replace(
      'Content-Type: text/html; charset=UTF-8',
      'Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64',
    );
}

describe('a reply from Yahoo Mail quoting our mail under Yahoo’s own header', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function shown(): Promise<Shown> {
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: Shown[] };
    return messages[0] as Shown;
  }

  it.each(CASES)(
    'should record only the new words of a %s reply (SES)',
    async (_language, fixture, words, quoted) => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

      // Act
      const response = await postSesMail(sb, eml(fixture));

      // Assess
      expect(response.status).toBe(200);
      const message = await shown();
      expect(message.text).toBe(words);
      expect(message.fullText).toContain(quoted);
    },
  );

  it.each(CASES)(
    'should record only the new words of a %s reply written in HTML only',
    async (_language, fixture, words) => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

      // Act
      const response = await postSesMail(sb, htmlOnly(eml(fixture)));

      // Assess
      expect(response.status).toBe(200);
      expect((await shown()).text.replace(/\s+/g, ' ')).toBe(words.replace(/\s+/g, ' '));
    },
  );

  it.each(CASES)(
    'should record only the new words of a %s reply Mailgun did not strip',
    async (_language, fixture, words) => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
      const plain =
        eml(fixture).split('Content-Transfer-Encoding: base64\r\n\r\n')[1]?.split('\r\n\r\n')[0] ?? '';
      const form = mailgunMail({
        from: 'Jan Kowalski <jan.kowalski@yahoo.example>',
        messageId: `${fixture}@mail.yahoo.example`,
        subject: 'Re: Odpowiemy jutro do 10:00',
        body: Buffer.from(plain, 'base64').toString('utf8'),
      });
      form.delete('stripped-text');

      // Act
      const response = await sb.postMailgun(signMailgun(form));

      // Assess
      expect(response.status).toBe(200);
      expect((await shown()).text).toBe(words);
    },
  );

  // Yahoo's header names the year and the hour; a customer's own sentence opening with a day
  // ("W piątek, kiedy dzwoniłam, …") was taken for it: only "Dziękuję." above it was kept, read
  // as thanks alone, and the request below went unanswered.
  it('should acknowledge a reply whose request follows the customer’s own "W piątek, … napisała:"', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const body =
      'Dziękuję.\n\nW piątek, kiedy dzwoniłam, konsultantka napisała:\n„Paczka wyjdzie w poniedziałek”\n' +
      'Nadal jej nie ma, proszę o zwrot pieniędzy.';
    const form = mailgunMail({
      from: 'Jan Kowalski <jan.kowalski@yahoo.example>',
      messageId: 'own-words@mail.yahoo.example',
      subject: 'Re: Odpowiemy jutro do 10:00',
      body,
    });
    form.delete('stripped-text');

    // Act
    const response = await sb.postMailgun(signMailgun(form));

    // Assess
    expect(response.status).toBe(200);
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const { conversation } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: { awaiting: string; ack: { state: string } };
    };
    expect(conversation).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    expect(await sb.outbox()).toHaveLength(1);
    expect((await shown()).text).toBe(body);
  });
});
