import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail, postSesMail, sesIntake } from '#test/support/email.ts';
import {
  type MailgunFile,
  mailgunMultipartRequest,
  signMailgun,
  TEST_NOW,
} from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Files that are not what their name or type first says. Outlook's winmail.dat
// (application/ms-tnef) is a bundle only Outlook opens: it was shown as a plain "file" and
// counted as the customer's attachment, so a "Dziękuję bardzo!" from Outlook was taken for a
// question. And a long mail's whole text is kept beside it as message.txt, known by that name
// and type alone: a customer's own message.txt in text/plain; charset=utf-8 was taken for it, so
// a thanks that came with the customer's file was taken for thanks only.

type Shown = {
  conversation: Record<string, unknown>;
  messages: Array<{ text: string; media: Array<Record<string, unknown>> }>;
};

const eml = (name: string) => readFileSync(new URL(`../fixtures/email/${name}.eml`, import.meta.url), 'utf8');

/** The base64 body of the part of `raw` whose headers hold `marker`, decoded. */
function partBytes(raw: string, marker: string): Uint8Array {
  // The last header that holds it: `name="…"` is in both the part's type and its disposition.
  const part = raw.split(marker).at(-1)?.split('\r\n\r\n')[1]?.split('\r\n\r\n')[0] ?? '';
  return new Uint8Array(Buffer.from(part, 'base64'));
}

describe('Outlook’s winmail.dat and a customer’s own message.txt', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function shown(): Promise<Shown> {
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    return (await (await sb.api(`/api/conversations/${id}`)).json()) as Shown;
  }

  async function postMailgunWithFile(body: string, file: MailgunFile): Promise<Response> {
    const form = signMailgun(
      mailgunMail({
        from: 'Piotr Zieliński <piotr.zielinski@firma.example.pl>',
        messageId: `${file.filename}-mg@firma.example.pl`,
        subject: 'RE: Odpowiemy jutro do 10:00',
        body,
      }),
    );
    form.set('attachment-count', '1');
    const request = await mailgunMultipartRequest(form, [file]);
    return sb.runtime.app.request('/webhooks/email/mailgun', {
      method: 'POST',
      headers: request.headers,
      body: request.rawBytes as Uint8Array<ArrayBuffer>,
    });
  }

  it('should show winmail.dat as Outlook’s bundle and take the thanks beside it for thanks (SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    const response = await postSesMail(sb, eml('outlook-winmail'));

    // Assess
    expect(response.status).toBe(200);
    const { conversation, messages } = await shown();
    expect(messages[0]?.text).toBe('Dziękuję bardzo!\n\nPiotr Zieliński');
    expect(messages[0]?.media).toEqual([
      expect.objectContaining({
        name: 'winmail.dat',
        contentType: 'application/ms-tnef',
        outlookBundle: true,
      }),
    ]);
    expect(conversation).toMatchObject({ awaiting: 'no-reply-needed', ack: { reason: 'thanks' } });
    expect(await sb.outbox()).toEqual([]);
  });

  it('should take the thanks beside winmail.dat for thanks through Mailgun too', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const raw = eml('outlook-winmail');

    // Act
    const response = await postMailgunWithFile('Dziękuję bardzo!', {
      field: 'attachment-1',
      filename: 'winmail.dat',
      contentType: 'application/ms-tnef',
      content: partBytes(raw, 'name="winmail.dat"'),
    });

    // Assess
    expect(response.status).toBe(200);
    const { conversation, messages } = await shown();
    expect(messages[0]?.media).toEqual([
      expect.objectContaining({ name: 'winmail.dat', outlookBundle: true }),
    ]);
    expect(conversation).toMatchObject({ ack: { reason: 'thanks' } });
  });

  // Outlook puts every file the customer attached inside winmail.dat: "Dziękuję bardzo!" with an
  // invoice in the bundle (attachment-level attributes) was taken for thanks alone, no ack.
  it('should acknowledge thanks whose winmail.dat carries the customer’s file (SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    expect((await postSesMail(sb, eml('outlook-winmail-invoice'))).status).toBe(200);

    // Assess
    const { conversation, messages } = await shown();
    expect(messages[0]?.media).toEqual([
      expect.objectContaining({ name: 'winmail.dat', outlookBundle: true, bundledFiles: true }),
    ]);
    expect(conversation).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should acknowledge thanks whose winmail.dat carries the customer’s file (Mailgun)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

    // Act
    const response = await postMailgunWithFile('Dziękuję bardzo!', {
      field: 'attachment-1',
      filename: 'winmail.dat',
      contentType: 'application/ms-tnef',
      content: partBytes(eml('outlook-winmail-invoice'), 'name="winmail.dat"'),
    });

    // Assess
    expect(response.status).toBe(200);
    const { conversation } = await shown();
    expect(conversation).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
  });

  it('should still acknowledge a question that comes with winmail.dat, its words from the plain part', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    const raw = eml('outlook-winmail').replace('Dzi=EAkuj=EA bardzo!', 'Kiedy b=EAdzie dostawa?');

    // Act
    await postSesMail(sb, raw);

    // Assess
    const { messages } = await shown();
    expect(messages[0]?.text).toBe('Kiedy będzie dostawa?\n\nPiotr Zieliński');
    expect((await sb.outbox()).map((sent) => sent.to)).toEqual(['piotr.zielinski@firma.example.pl']);
  });

  it('should record and acknowledge a mail whose words are all inside winmail.dat, the bundle shown as such', async () => {
    // Prepare: Outlook's TNEF as the whole body (its words in RTF inside), as some Exchange servers send it
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    const raw = eml('outlook-winmail');
    const [head] = raw.split('\r\n\r\n');
    const tnef = Buffer.from(partBytes(raw, 'name="winmail.dat"')).toString('base64');
    const whole = [
      head?.replace(
        /Content-Type: multipart\/mixed;[^\r]*/,
        'Content-Type: application/ms-tnef; name="winmail.dat"',
      ),
      'Content-Disposition: attachment; filename="winmail.dat"',
      'Content-Transfer-Encoding: base64',
      '',
      tnef,
      '',
    ].join('\r\n');

    // Act
    expect((await postSesMail(sb, whole)).status).toBe(200);

    // Assess
    const { conversation, messages } = await shown();
    expect(messages[0]?.text).toBe('');
    expect(messages[0]?.media).toEqual([
      expect.objectContaining({ name: 'winmail.dat', outlookBundle: true }),
    ]);
    expect(conversation).toMatchObject({ awaiting: 'reply' });
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should take a customer’s own message.txt for their file, not our whole text (SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    await postSesMail(sb, eml('customer-message-txt'));

    // Assess
    const { conversation, messages } = await shown();
    expect(messages[0]?.text).toBe('Dziękuję!');
    expect(messages[0]?.media).toEqual([expect.objectContaining({ name: 'message.txt' })]);
    expect(messages[0]?.media[0]).not.toHaveProperty('wholeText');
    expect(conversation).toMatchObject({ awaiting: 'reply' });
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should take a customer’s own message.txt in text/plain; charset=utf-8 for their file (Mailgun)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const raw = eml('customer-message-txt');

    // Act
    const response = await postMailgunWithFile('Dziękuję!', {
      field: 'attachment-1',
      filename: 'message.txt',
      contentType: 'text/plain; charset=utf-8',
      content: partBytes(raw, 'name="message.txt"'),
    });

    // Assess
    expect(response.status).toBe(200);
    const { conversation, messages } = await shown();
    expect(messages[0]?.media).toEqual([expect.objectContaining({ name: 'message.txt' })]);
    expect(messages[0]?.media[0]).not.toHaveProperty('wholeText');
    expect(conversation).toMatchObject({ awaiting: 'reply' });
    expect(await sb.outbox()).toHaveLength(1);
  });
});
