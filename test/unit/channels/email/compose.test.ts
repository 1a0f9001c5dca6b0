import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import {
  composeReply,
  encodeWords,
  formatAddress,
  parseMailbox,
  replySubject,
} from '#lib/channels/email/compose.ts';

describe('replySubject', () => {
  it.each([
    ['Pytanie o fakturę', 'Re: Pytanie o fakturę'],
    ['Re: Pytanie', 'Re: Pytanie'],
    ['RE: Order 42', 'RE: Order 42'],
    ['re:Order 42', 're:Order 42'],
    ['Odp: Zamówienie', 'Odp: Zamówienie'],
    ['AW: Bestellung', 'AW: Bestellung'],
    ['Re[2]: Pytanie', 'Re[2]: Pytanie'],
    ['Regarding the order', 'Re: Regarding the order'],
    ['', 'Re:'],
  ])('should turn %j into %j', (original, expected) => {
    // Act, Assess
    expect(replySubject(original)).toBe(expected);
  });
});

describe('encodeWords', () => {
  it('should split long text into encoded words of at most 75 characters that decode back', async () => {
    // Prepare
    const text = 'Zażółć gęślą jaźń — odpowiemy jutro do 10:00 😊 '.repeat(4).trim();

    // Act
    const encoded = encodeWords(text);

    // Assess
    for (const word of encoded.split('\r\n ')) expect(word.length).toBeLessThanOrEqual(75);
    const mail = await PostalMime.parse(`Subject: ${encoded}\r\n\r\n`);
    expect(mail.subject).toBe(text);
  });
});

describe('formatAddress', () => {
  it('should quote ASCII names, encode non-ASCII ones and keep bare addresses bracketed', () => {
    // Act
    const formatted = [
      formatAddress({ address: 'anna@sklep.example', name: 'Anna Kowalska' }),
      formatAddress({ address: 'anna@sklep.example', name: 'Kowalska, Anna "AK"' }),
      formatAddress({ address: 'lukasz@sklep.example', name: 'Łukasz' }),
      formatAddress({ address: 'x@sklep.example' }),
    ];

    // Assess
    expect(formatted).toEqual([
      '"Anna Kowalska" <anna@sklep.example>',
      '"Kowalska, Anna \\"AK\\"" <anna@sklep.example>',
      '=?UTF-8?B?xYF1a2Fzeg==?= <lukasz@sklep.example>',
      '<x@sklep.example>',
    ]);
  });
});

describe('parseMailbox', () => {
  it('should read a display-name address and refuse anything else', () => {
    // Act
    const parsed = [
      parseMailbox('Anna Kowalska <anna@sklep.example>'),
      parseMailbox('zofia@example.pl'),
      parseMailbox('not an address'),
      parseMailbox(''),
    ];

    // Assess
    expect(parsed).toEqual([
      { address: 'anna@sklep.example', name: 'Anna Kowalska' },
      { address: 'zofia@example.pl' },
      undefined,
      undefined,
    ]);
  });

  it('should keep a quoted local part quoted and give an internationalized domain in Punycode', () => {
    // Act: as stored on a route (found at stop 23: both were refused or sent as they were)
    const parsed = [parseMailbox('"jan kowalski"@firma.example'), parseMailbox('Zofia <zofia@żółw.example>')];

    // Assess
    expect(parsed).toEqual([
      { address: '"jan kowalski"@firma.example' },
      { address: 'zofia@xn--w-uga1v8h.example', name: 'Zofia' },
    ]);
  });
});

describe('composeReply', () => {
  it('should never let a line break in the subject start a new header', async () => {
    // Prepare
    const draft = {
      from: { address: 'anna@sklep.example' },
      to: { address: 'zofia@example.pl' },
      subject: 'Hi\r\nBcc: victim@example.com',
      text: 'x',
      date: new Date('2026-11-10T08:20:00Z'),
      automatic: true,
    };

    // Act
    const raw = composeReply(draft);

    // Assess
    const mail = await PostalMime.parse(raw);
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).toBe('Hi Bcc: victim@example.com');
  });

  it("should mark an acknowledgement as an automatic response, and a person's reply not", async () => {
    // Prepare
    const draft = {
      from: { address: 'anna@sklep.example' },
      to: { address: 'zofia@example.pl' },
      subject: 'Re: Zamówienie',
      text: 'Dzień dobry',
      date: new Date('2026-11-10T08:20:00Z'),
    };

    // Act
    const ack = await PostalMime.parse(composeReply({ ...draft, automatic: true }));
    const reply = await PostalMime.parse(composeReply({ ...draft, automatic: false }));

    // Assess
    const names = (mail: typeof ack) => mail.headers.map((header) => header.key);
    expect(names(ack)).toEqual(expect.arrayContaining(['auto-submitted', 'x-auto-response-suppress']));
    expect(names(reply)).not.toContain('auto-submitted');
    expect(names(reply)).not.toContain('x-auto-response-suppress');
  });
});
