import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail, postSesMail, sesIntake } from '#test/support/email.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A contact form's mail: sent by a form service or a CMS from its no-reply address, through a
// sending service whose return path is a bounce address (bounces+…@), with the customer who
// filled it in as Reply-To. Found by a walk through a customer's email day at stop 33: the
// contact was the customer (the Reply-To is followed), but the loop guard judged the no-reply
// From and the bounce return path as a system sender's mail, so the customer never got the
// acknowledgement every other mail gets.

const FORM = {
  from: 'Formularz kontaktowy <noreply@formularze.example>',
  messageId: 'form-2026-11-11-0042@formularze.example',
  subject: 'Nowa wiadomość z formularza: Pytanie o fakturę',
  body: 'Imię: Zofia Wójcik\nE-mail: zofia.wojcik@poczta.example.pl\n\nCzy mogę prosić o fakturę na firmę?',
  extraHeaders: [['Reply-To', 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>']] as Array<[string, string]>,
};

describe('a contact form’s mail from a no-reply address, the customer as Reply-To', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it('should acknowledge the customer it names (Mailgun, a bounce return path)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunMail(FORM);
    form.set('sender', 'bounces+12345-ab12@em.formularze.example');

    // Act
    const response = await sb.postMailgun(signMailgun(form));
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const outbox = await sb.outbox();
    expect(outbox.map((sent) => [sent.to, sent.automatic])).toEqual([
      ['zofia.wojcik@poczta.example.pl', true],
    ]);
  });

  it('should acknowledge the customer it names (SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });

    // Act
    const response = await postSesMail(sb, FORM);
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect((await sb.outbox()).map((sent) => sent.to)).toEqual(['zofia.wojcik@poczta.example.pl']);
  });

  const ZOFIA: [string, string] = ['Reply-To', 'Zofia <zofia.wojcik@poczta.example.pl>'];

  it.each<[string, string, Array<[string, string]>]>([
    ['a no-reply From and no Reply-To', FORM.from, []],
    ['a no-reply From and a no-reply Reply-To', FORM.from, [['Reply-To', 'noreply@formularze.example']]],
    ['a mailer daemon’s From', 'MAILER-DAEMON@mx.formularze.example', [ZOFIA]],
    ['Auto-Submitted', FORM.from, [ZOFIA, ['Auto-Submitted', 'auto-generated']]],
    ['a no-reply From with a +tag and no Reply-To', 'Formularz <no-reply+f42@formularze.example>', []],
    [
      'a no-reply From with a +tag and the same as Reply-To',
      'no-reply+f42@formularze.example',
      [['Reply-To', 'no-reply@formularze.example']],
    ],
    ['a mailer daemon’s From with a +tag', 'MAILER-DAEMON+dsn@mx.formularze.example', [ZOFIA]],
  ])('should still answer nothing with %s', async (_case, from, extraHeaders) => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

    // Act
    await sb.postMailgun(signMailgun(mailgunMail({ ...FORM, from, extraHeaders })));
    await sb.drain();

    // Assess
    expect(await sb.outbox()).toEqual([]);
  });

  // Return paths say who sent a mail when the From does not: a mail system's own (MAILER-DAEMON,
  // postmaster) whatever Reply-To it names, a no-reply one when answers would go to the From;
  // the Return-Path header when Mailgun's post names no envelope sender; behind BATV's
  // `prvs=<tag>=` and SRS's `SRS0=<hash>=<tt>=<domain>=` as forwarders and signing MTAs write them.
  it.each<[string, string | undefined, Array<[string, string]>]>([
    ['a mailer daemon’s envelope, the customer as Reply-To', 'MAILER-DAEMON@mx.formularze.example', [ZOFIA]],
    [
      'a tagged postmaster’s envelope, the customer as Reply-To',
      'postmaster+dsn@formularze.example',
      [ZOFIA],
    ],
    [
      'only a Return-Path header, a mailer daemon’s',
      undefined,
      [ZOFIA, ['Return-Path', '<MAILER-DAEMON@mx.formularze.example>']],
    ],
    [
      'only a Return-Path header, a tagged no-reply one',
      undefined,
      [['Return-Path', '<no-reply+f42@formularze.example>']],
    ],
    ['a no-reply envelope behind BATV', 'prvs=0417a1b2c3=no-reply@formularze.example', []],
    [
      'a no-reply envelope behind SRS',
      'SRS0=Hq2c=TT=formularze.example=no-reply+f42@przekazywanie.example',
      [],
    ],
  ])('should answer nothing to a form’s mail with %s', async (_case, sender, extraHeaders) => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunMail({
      ...FORM,
      from: 'Formularz kontaktowy <formularz@formularze.example>',
      extraHeaders,
    });
    if (sender === undefined) form.delete('sender');
    else form.set('sender', sender);

    // Act
    const response = await sb.postMailgun(signMailgun(form));
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect(await sb.outbox()).toEqual([]);
  });

  it('should still acknowledge the customer behind a tagged bounce return path in the Return-Path header alone', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunMail({
      ...FORM,
      from: 'Formularz <no-reply+f42@formularze.example>',
      extraHeaders: [...FORM.extraHeaders, ['Return-Path', '<bounces+12345-ab12@em.formularze.example>']],
    });
    form.delete('sender');

    // Act
    await sb.postMailgun(signMailgun(form));
    await sb.drain();

    // Assess
    expect((await sb.outbox()).map((sent) => sent.to)).toEqual(['zofia.wojcik@poczta.example.pl']);
  });
});
