import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail, postSesMail, sesIntake } from '#test/support/email.ts';
import { mailgunMultipartRequest, signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A business signature with the company's logo: Outlook and Gmail send it as an image inside
// the mail (multipart/related, Content-Disposition: inline, a Content-ID the HTML shows), not as
// a file the sender attached. Found by a walk through a customer's email day at stop 33: the
// logo counted as an attachment, so "Dziękuję!" signed so was no thanks, acknowledged and
// waited on with a reply-by time like a question.

const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const FROM = 'Jan Nowak <jan.nowak@firma.example>';
const SIGNED = 'Dziękuję!\n\nJan Nowak';

/** Outlook's shape: related { alternative { plain, html }, the logo inline by Content-ID }, plus files. */
function outlookMail(files: Array<{ name: string; type: string; bytes: Buffer }> = []): string {
  const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
  const related = [
    '--rel',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(SIGNED),
    '--alt',
    'Content-Type: text/html; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64('<p>Dziękuję!</p><p>Jan Nowak<br><img src="cid:image001.png@01DB3A2B.5C6D7E80"></p>'),
    '--alt--',
    '--rel',
    'Content-Type: image/png; name="image001.png"',
    'Content-Description: image001.png',
    'Content-Disposition: inline; filename="image001.png"',
    'Content-ID: <image001.png@01DB3A2B.5C6D7E80>',
    'Content-Transfer-Encoding: base64',
    '',
    b64(LOGO),
    '--rel--',
  ].join('\r\n');
  const head = [
    `From: ${FROM}`,
    'To: Anna Kowalska <anna@mg.sklep.example>',
    'Subject: Re: Pytanie o fakturę',
    'Date: Wed, 11 Nov 2026 08:30:00 +0100',
    `Message-ID: <thanks-${files.length}@firma.example>`,
    'MIME-Version: 1.0',
  ];
  if (files.length === 0) {
    return [
      ...head,
      'Content-Type: multipart/related; boundary="rel"; type="multipart/alternative"',
      '',
      related,
      '',
    ].join('\r\n');
  }
  const attached = files.map((file) =>
    [
      '--mix',
      `Content-Type: ${file.type}; name="${file.name}"`,
      `Content-Disposition: attachment; filename="${file.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      b64(file.bytes),
    ].join('\r\n'),
  );
  return [
    ...head,
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: multipart/related; boundary="rel"; type="multipart/alternative"',
    '',
    related,
    ...attached,
    '--mix--',
    '',
  ].join('\r\n');
}

type Shown = {
  conversation: Record<string, unknown>;
  messages: Array<{ media: Array<Record<string, unknown>> }>;
};

describe('a mail signed with an inline logo', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function shown(): Promise<Shown> {
    const { id } = await sb.onlyOpenConversation();
    return (await (await sb.api(`/api/conversations/${id}`)).json()) as Shown;
  }

  it('should take "Dziękuję!" signed with the company logo for thanks, and keep the logo, marked inline (SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    const response = await postSesMail(sb, outlookMail());
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const { conversation, messages } = await shown();
    expect(conversation).toMatchObject({
      awaiting: 'no-reply-needed',
      ack: { state: 'skipped', reason: 'thanks' },
    });
    expect(messages[0]?.media).toEqual([expect.objectContaining({ name: 'image001.png', inline: true })]);
    expect(await sb.outbox()).toEqual([]);
  });

  it('should take it for thanks through Mailgun too, which names the inline image in content-id-map', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = signMailgun(
      mailgunMail({
        from: FROM,
        messageId: 'thanks-mg@firma.example',
        subject: 'Re: Pytanie o fakturę',
        body: SIGNED,
      }),
    );
    form.set('attachment-count', '1');
    form.set('content-id-map', JSON.stringify({ '<image001.png@01DB3A2B.5C6D7E80>': 'attachment-1' }));
    const request = await mailgunMultipartRequest(form, [
      {
        field: 'attachment-1',
        filename: 'image001.png',
        contentType: 'image/png',
        content: new Uint8Array(LOGO),
      },
    ]);

    // Act
    const response = await sb.runtime.app.request('/webhooks/email/mailgun', {
      method: 'POST',
      headers: request.headers,
      body: request.rawBytes as Uint8Array<ArrayBuffer>,
    });
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const { conversation, messages } = await shown();
    expect(conversation).toMatchObject({ awaiting: 'no-reply-needed', ack: { reason: 'thanks' } });
    expect(messages[0]?.media).toEqual([expect.objectContaining({ name: 'image001.png', inline: true })]);
  });

  it('should still acknowledge "Dziękuję!" that comes with a file attached beside the logo', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    await postSesMail(
      sb,
      outlookMail([
        { name: 'potwierdzenie.pdf', type: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n%%EOF\n') },
      ]),
    );
    await sb.drain();

    // Assess
    const { conversation, messages } = await shown();
    expect(conversation).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    expect(messages[0]?.media.map((media) => [media.name, media.inline ?? false])).toEqual([
      ['image001.png', true],
      ['potwierdzenie.pdf', false],
    ]);
  });

  it('should acknowledge "Dziękuję!" with a photo the phone put inside the mail (iPhone Mail), a photo being no logo', async () => {
    // Prepare: iPhone Mail sends a photo as an inline part with a Content-ID (shown in the text),
    // as Outlook sends a logo; only its size tells it from one (a logo: a few KB).
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    const b64 = (bytes: Buffer | string) =>
      Buffer.from(bytes)
        .toString('base64')
        .replace(/(.{76})/g, '$1\r\n');
    const iphone = [
      `From: ${FROM}`,
      'To: Anna Kowalska <anna@mg.sklep.example>',
      'Subject: Re: Reklamacja zamówienia 1234',
      'Date: Wed, 11 Nov 2026 08:30:00 +0100',
      'Message-ID: <iphone-photo@firma.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64('Dziękuję!'),
      '--mix',
      'Content-Type: image/jpeg; name="IMG_0042.jpeg"',
      'Content-Disposition: inline; filename="IMG_0042.jpeg"',
      'Content-Id: <8D3A1F5E-1234-4C2B-9A7E-0F1E2D3C4B5A>',
      'Content-Transfer-Encoding: base64',
      '',
      b64(Buffer.alloc(300_000, 7)),
      '--mix',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64("\n\nWysłane z iPhone'a"),
      '--mix--',
      '',
    ].join('\r\n');

    // Act
    await postSesMail(sb, iphone);
    await sb.drain();

    // Assess
    const { conversation, messages } = await shown();
    expect(conversation).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    expect(messages[0]?.media).toEqual([
      expect.objectContaining({ name: 'IMG_0042.jpeg', size: 300_000, inline: true }),
    ]);
    expect((await sb.outbox()).map((sent) => sent.to)).toEqual(['jan.nowak@firma.example']);
  });
});
