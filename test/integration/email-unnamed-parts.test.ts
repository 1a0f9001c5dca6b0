import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { postSesMail, sesIntake } from '#test/support/email.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Parts a mail carries without a file name: a meeting invitation's text/calendar (Outlook and
// Google Calendar name none), an image pasted into the text. Found by a walk through a
// customer's email day at stop 33: they were stored as "attachment-1", "attachment-2", files
// without an extension that an agent's computer cannot open.

function invitation(): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const calendar = [
    'BEGIN:VCALENDAR',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    'SUMMARY:Odbiór zamówienia 2026/11/0042',
    'DTSTART:20261116T090000Z',
    'END:VEVENT',
    'END:VCALENDAR',
  ].join('\r\n');
  return [
    'From: Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
    'To: Anna Kowalska <anna@mg.sklep.example>',
    'Subject: Zaproszenie: Odbiór zamówienia',
    'Date: Wed, 11 Nov 2026 08:30:00 +0100',
    'Message-ID: <invite-1@poczta.example.pl>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64('Zapraszam na odbiór zamówienia w poniedziałek o 10:00.'),
    '--alt',
    'Content-Type: text/calendar; charset="utf-8"; method=REQUEST',
    'Content-Transfer-Encoding: base64',
    '',
    b64(calendar),
    '--alt--',
    '--mix',
    'Content-Type: image/jpeg',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]).toString('base64'),
    '--mix--',
    '',
  ].join('\r\n');
}

describe('parts of a mail that name no file', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it('should store a meeting invitation as an .ics file and an unnamed image with its extension', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    const response = await postSesMail(sb, invitation());
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const { id } = await sb.onlyOpenConversation();
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ text: string; media: Array<{ name?: string; contentType: string }> }>;
    };
    expect(messages[0]?.text).toBe('Zapraszam na odbiór zamówienia w poniedziałek o 10:00.');
    expect(messages[0]?.media.map((media) => [media.name, media.contentType])).toEqual([
      ['invite.ics', 'text/calendar'],
      ['attachment-2.jpg', 'image/jpeg'],
    ]);
  });
});
