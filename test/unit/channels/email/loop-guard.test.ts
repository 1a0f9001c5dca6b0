import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerAddressOf, type LoopGuardInput, noAckReasonOf } from '#lib/channels/email/loop-guard.ts';
import { type MailHeader, parseMime } from '#lib/channels/email/mime.ts';

const OURS = ['anna@sklep.example', 'Kontakt@Sklep.example'];

// A person's mail, the base each row of the table changes.
const PERSON: MailHeader[] = [
  { name: 'return-path', value: '<zofia.wojcik@poczta.example.pl>' },
  { name: 'from', value: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>' },
  { name: 'to', value: 'kontakt@sklep.example' },
  { name: 'subject', value: 'Pytanie' },
  { name: 'content-type', value: 'text/plain; charset=UTF-8' },
];

function input(overrides: Partial<LoopGuardInput> = {}, extra: MailHeader[] = []): LoopGuardInput {
  return {
    headers: [...PERSON, ...extra],
    from: 'zofia.wojcik@poczta.example.pl',
    envelopeSender: 'zofia.wojcik@poczta.example.pl',
    ourAddresses: OURS,
    ...overrides,
  };
}

const h = (name: string, value: string): MailHeader[] => [{ name, value }];

describe('noAckReasonOf', () => {
  it('should answer null for a mail a person wrote', () => {
    // Prepare, Act
    const reason = noAckReasonOf(input());

    // Assess
    expect(reason).toBeNull();
  });

  it.each<[string, LoopGuardInput, string]>([
    ['Auto-Submitted: auto-replied', input({}, h('auto-submitted', 'auto-replied')), 'auto-submitted'],
    ['Auto-Submitted: auto-generated', input({}, h('auto-submitted', 'auto-generated')), 'auto-submitted'],
    ['Auto-Submitted: auto-notified', input({}, h('auto-submitted', 'Auto-Notified')), 'auto-submitted'],
    [
      'Auto-Submitted with a comment',
      input({}, h('auto-submitted', 'auto-replied (vacation)')),
      'auto-submitted',
    ],
    ['Precedence: bulk', input({}, h('precedence', 'bulk')), 'precedence-bulk'],
    ['Precedence: list', input({}, h('precedence', 'List')), 'precedence-list'],
    ['Precedence: junk', input({}, h('precedence', 'junk')), 'precedence-junk'],
    ['List-Id', input({}, h('list-id', 'Developers <devs.lists.example.org>')), 'list-id'],
    [
      'List-Unsubscribe',
      input({}, h('list-unsubscribe', '<https://news.example.com/u>')),
      'list-unsubscribe',
    ],
    ['another List-* header', input({}, h('list-post', '<mailto:devs@lists.example.org>')), 'list-header'],
    [
      'X-Auto-Response-Suppress: All',
      input({}, h('x-auto-response-suppress', 'All')),
      'auto-response-suppress',
    ],
    [
      'X-Auto-Response-Suppress: OOF',
      input({}, h('x-auto-response-suppress', 'DR, OOF')),
      'auto-response-suppress',
    ],
    [
      'X-Auto-Response-Suppress: AutoReply',
      input({}, h('x-auto-response-suppress', 'AutoReply')),
      'auto-response-suppress',
    ],
    ['X-Autoreply', input({}, h('x-autoreply', 'yes')), 'x-autoreply'],
    ['X-Autorespond', input({}, h('x-autorespond', 'Out of office')), 'x-autorespond'],
    [
      'Content-Type: multipart/report',
      input({}, h('content-type', 'multipart/report; report-type=delivery-status; boundary="b"')),
      'delivery-report',
    ],
    ['an empty envelope sender', input({ envelopeSender: '' }), 'null-return-path'],
    ['a <> envelope sender', input({ envelopeSender: '<>' }), 'null-return-path'],
    ['Return-Path: <>', input({}, h('return-path', '<>')), 'null-return-path'],
    ['From MAILER-DAEMON', input({ from: 'MAILER-DAEMON@mx.example.pl' }), 'system-sender'],
    ['From postmaster', input({ from: 'postmaster@example.pl' }), 'system-sender'],
    ['From no-reply', input({ from: 'no-reply@allegro.example' }), 'system-sender'],
    ['From noreply', input({ from: 'noreply@github.example' }), 'system-sender'],
    ['From do-not-reply', input({ from: 'do-not-reply@bank.example' }), 'system-sender'],
    [
      'an envelope sender of a mailer daemon',
      input({ envelopeSender: 'mailer-daemon@mx.example.pl' }),
      'system-sender',
    ],
    ['From one of our addresses', input({ from: 'anna@sklep.example' }), 'own-address'],
    ['From one of our addresses in another case', input({ from: 'KONTAKT@sklep.example' }), 'own-address'],
    ['an SES spam verdict FAIL', input({ verdicts: { spam: 'FAIL', virus: 'PASS' } }), 'spam'],
    ['an SES virus verdict FAIL', input({ verdicts: { spam: 'FAIL', virus: 'FAIL' } }), 'virus'],
  ])('should hold back a mail with %s', (_case, mail, expected) => {
    // Act
    const reason = noAckReasonOf(mail);

    // Assess
    expect(reason).toBe(expected);
  });

  it.each<[string, LoopGuardInput]>([
    ['Auto-Submitted: no', input({}, h('auto-submitted', 'no'))],
    ['Precedence: first-class', input({}, h('precedence', 'first-class'))],
    ['X-Auto-Response-Suppress: DR, RN, NRN', input({}, h('x-auto-response-suppress', 'DR, RN, NRN'))],
    [
      'SES verdicts GRAY and PROCESSING_FAILED',
      input({ verdicts: { spam: 'GRAY', virus: 'PROCESSING_FAILED' } }),
    ],
    ['a reply-like local part', input({ from: 'replyguy@example.pl' })],
    ['an unknown envelope sender', input({ envelopeSender: undefined })],
  ])('should still answer a mail with %s', (_case, mail) => {
    // Act
    const reason = noAckReasonOf(mail);

    // Assess
    expect(reason).toBeNull();
  });

  it.each([
    ['plain-polish', null],
    ['html-only', null],
    ['reply-polish', null],
    ['reply-english', null],
    ['two-attachments', null],
    ['auto-reply', 'auto-submitted'],
    ['out-of-office', 'auto-response-suppress'],
    ['mailing-list', 'list-id'],
    ['bounce', 'null-return-path'],
    ['newsletter', 'precedence-bulk'],
  ])('should give the %s fixture the reason %s', async (name, expected) => {
    // Prepare
    const raw = readFileSync(new URL(`../../../fixtures/email/${name}.eml`, import.meta.url));
    const mail = await parseMime(raw);

    // Act
    const reason = noAckReasonOf({ headers: mail.headers, from: mail.from?.address, ourAddresses: OURS });

    // Assess
    expect(reason).toBe(expected);
  });
});

// Found at stop 23 by a review of where answers go: Reply-To was parsed and never used.
describe('answerAddressOf', () => {
  it('should answer the Reply-To a person’s mail names (RFC 5322 §3.6.2), in canonical form', () => {
    // Act
    const address = answerAddressOf({ ...input(), replyTo: 'Jan.Nowak@Klient.example' });

    // Assess
    expect(address).toBe('jan.nowak@klient.example');
  });

  it('should answer a non-ASCII Reply-To when the From cannot be sent to either', () => {
    // Act
    const address = answerAddressOf({
      ...input({ from: 'józef@firma.example' }),
      replyTo: 'józef@dom.example',
    });

    // Assess
    expect(address).toBe('józef@dom.example');
  });

  it.each([
    ['no Reply-To', input(), undefined],
    ['a Reply-To that is the From', input(), 'Zofia.Wojcik@poczta.example.pl'],
    ['a Reply-To that is not an address', input(), 'undisclosed'],
    ['a Reply-To that is one of our addresses (a loop)', input(), 'kontakt@sklep.example'],
    ['a Reply-To no person reads', input(), 'noreply@poczta.example.pl'],
    [
      'a list post (its Reply-To is the list)',
      input({}, h('list-id', '<klienci.lists.example>')),
      'klienci@lists.example',
    ],
    ['a list post marked only by Precedence', input({}, h('precedence', 'list')), 'klienci@lists.example'],
    // Found at stop 23 (review d2):
    [
      'a Reply-To that is the address the mail came to (a loop)',
      { ...input(), recipient: 'kontakt@mg.sklep.example' },
      'Kontakt@MG.sklep.example',
    ],
    ['a mail from our own address', input({ from: 'anna@sklep.example' }), 'jan.nowak@klient.example'],
    ['a Reply-To SES cannot send to (a non-ASCII local part)', input(), 'zofia.wójcik@poczta.example.pl'],
  ])('should answer the From for %s', (_, mail, replyTo) => {
    // Act
    const address = answerAddressOf({ ...mail, replyTo });

    // Assess
    expect(address).toBeUndefined();
  });
});
