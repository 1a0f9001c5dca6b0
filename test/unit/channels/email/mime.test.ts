import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import {
  htmlToText,
  MAX_HEADER_BYTES,
  messageIdsOf,
  parseMime,
  splitReply,
} from '#lib/channels/email/mime.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';

function eml(name: string): Uint8Array {
  return readFileSync(new URL(`../../../fixtures/email/${name}.eml`, import.meta.url));
}

describe('parseMime', () => {
  it('should decode the RFC 2047 subject and display name and the quoted-printable Polish body', async () => {
    // Prepare
    const raw = eml('plain-polish');

    // Act
    const mail = await parseMime(raw);

    // Assess
    expect(mail.subject).toBe('Pytanie o fakturę za wrzesień');
    expect(mail.from).toEqual({ address: 'Zofia.Wojcik@poczta.example.pl', name: 'Zofia Wójcik' });
    expect(mail.to).toEqual([{ address: 'kontakt@sklep.example', name: 'Sklep Kowalski' }]);
    expect(mail.messageId).toBe('CAH7x9kq3Zp1Lw8@mail.poczta.example.pl');
    expect(mail.references).toEqual([]);
    expect(mail.text).toBe(
      'Dzień dobry,\n\nczy mogę prosić o fakturę VAT za wrzesień? Zamówienie nr 2026/09/1187.\n' +
        'Dane do faktury bez zmian.\n\nZ poważaniem\nZofia Wójcik',
    );
    expect(mail.newText).toBe(mail.text);
    expect(mail.attachments).toEqual([]);
  });

  it('should keep every header with a lower-cased name and its raw value', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('plain-polish'));

    // Assess
    expect(mail.headers.map((header) => header.name)).toContain('return-path');
    expect(mail.headers.find((header) => header.name === 'subject')?.value).toMatch(/^=\?UTF-8\?B\?/);
  });

  it('should turn an HTML-only mail into text', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('html-only'));

    // Assess
    expect(mail.text).toBe(
      'Dzień dobry,\n\npaczka dotarła uszkodzona – proszę o kontakt.\n\nMarek Nowak\ntel. 601 234 567',
    );
    expect(mail.text).not.toMatch(/<|margin/);
  });

  it('should separate a Polish reply from the "W dniu … napisał(a):" history and keep both', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('reply-polish'));

    // Assess
    expect(mail.newText).toBe(
      'Dziękuję, czekam w takim razie na fakturę.\nProszę wysłać ją też na adres księgowości.',
    );
    expect(mail.text).toContain('> Dziękujemy za wiadomość');
    expect(mail.subject).toBe('Re: Odpowiemy jutro do 10:00');
    expect(mail.inReplyTo).toBe('0100019a2f4c1d2e-5b6a7c8d-0001-000000@eu-west-1.amazonses.com');
    expect(mail.references).toEqual([
      'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
      '0100019a2f4c1d2e-5b6a7c8d-0001-000000@eu-west-1.amazonses.com',
    ]);
  });

  it('should separate an English reply from the "On … wrote:" history', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('reply-english'));

    // Assess
    expect(mail.newText).toBe('Thanks Anna, the parcel arrived today.');
    expect(mail.text).toContain('we will answer by tomorrow 10:00.');
  });

  it('should list both attachments with name, type, size and their bytes', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('two-attachments'));

    // Assess
    expect(mail.attachments.map(({ name, contentType, size }) => ({ name, contentType, size }))).toEqual([
      { name: 'faktura-2026-09.pdf', contentType: 'application/pdf', size: 125 },
      { name: 'zdjęcie.png', contentType: 'image/png', size: 70 },
    ]);
    expect(new TextDecoder().decode(mail.attachments[0]?.content.subarray(0, 8))).toBe('%PDF-1.4');
    expect(mail.attachments[1]?.content.subarray(1, 4)).toEqual(new TextEncoder().encode('PNG'));
    expect(mail.text).toBe('W załączniku zdjęcie uszkodzenia i faktura.');
    expect(mail.replyTo).toEqual({ address: 'biuro@zielinski.example.pl' });
    expect(mail.subject).toBe('Zdjęcie uszkodzenia i faktura');
  });

  it('should read the delivery report of a bounce as text plus a status attachment', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('bounce'));

    // Assess
    expect(mail.from?.address).toBe('MAILER-DAEMON@mx.example.pl');
    expect(mail.text).toContain('550 5.1.1 User unknown');
    expect(mail.attachments.map((attachment) => attachment.contentType)).toEqual(['message/delivery-status']);
  });

  it('should take the text/plain part of a multipart/alternative newsletter', async () => {
    // Prepare, Act
    const mail = await parseMime(eml('newsletter'));

    // Assess
    expect(mail.subject).toBe('Listopadowe promocje – do -30%');
    expect(mail.text).toBe('Listopadowe promocje: zeszyty i długopisy do -30%.');
  });

  it('should accept the raw MIME as a string too', async () => {
    // Prepare
    const raw = new TextDecoder().decode(eml('reply-english'));

    // Act
    const mail = await parseMime(raw);

    // Assess
    expect(mail.newText).toBe('Thanks Anna, the parcel arrived today.');
  });

  it('should throw MalformedPayloadError for an empty body', async () => {
    // Prepare, Act
    const act = parseMime(new Uint8Array());

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedPayloadError);
  });

  it('should refuse headers past 256 KB, where postal-mime 4.0.0 decodes joined base64 words in quadratic time', async () => {
    // Prepare: a subject of adjacent encoded words that postal-mime joins before decoding.
    const subjectOf = (words: number) => Array.from({ length: words }, () => '=?UTF-8?B?YWJj?=').join(' ');
    const mailWith = (subject: string) =>
      `From: a@example.com\r\nTo: b@example.com\r\nSubject: ${subject}\r\n\r\nDzień dobry\r\n`;
    const fits = mailWith(subjectOf(12_000));
    const tooBig = mailWith(subjectOf(40_000));

    // Act
    const parsed = await parseMime(fits);
    const refused = parseMime(tooBig);

    // Assess
    expect(fits.length).toBeLessThan(MAX_HEADER_BYTES);
    expect(parsed.subject).toBe('abc'.repeat(12_000));
    expect(parsed.text).toBe('Dzień dobry');
    expect(tooBig.length).toBeGreaterThan(MAX_HEADER_BYTES);
    await expect(refused).rejects.toBeInstanceOf(MalformedPayloadError);
  });

  it('should never throw anything but MalformedPayloadError for random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        // Act
        const outcome = await parseMime(bytes).then(
          () => 'parsed',
          (error: unknown) => error,
        );

        // Assess
        if (outcome !== 'parsed') expect(outcome).toBeInstanceOf(MalformedPayloadError);
      }),
      fuzzRuns(300),
    );
  });

  it('should never throw for random header-like text', async () => {
    const line = fc.tuple(
      fc.constantFrom('From', 'To', 'Subject', 'Content-Type', 'Message-ID', 'References', 'X'),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 10 }),
        fc.string({ maxLength: 200 }),
        async (lines, body) => {
          // Prepare
          const raw = `${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${body}`;

          // Act
          const outcome = await parseMime(raw).then(
            () => 'parsed',
            (error: unknown) => error,
          );

          // Assess
          if (outcome !== 'parsed') expect(outcome).toBeInstanceOf(MalformedPayloadError);
        },
      ),
      fuzzRuns(200),
    );
  });
});

describe('splitReply', () => {
  it('should keep the whole text when nothing is quoted', () => {
    // Prepare, Act
    const result = splitReply('Dzień dobry,\nproszę o fakturę.');

    // Assess
    expect(result).toEqual({ newText: 'Dzień dobry,\nproszę o fakturę.', quoted: false });
  });

  it('should drop "> " quoted lines below the answer', () => {
    // Prepare, Act
    const result = splitReply('Tak, poproszę.\n\n> Czy wysłać fakturę?\n> Anna');

    // Assess
    expect(result).toEqual({ newText: 'Tak, poproszę.', quoted: true });
  });

  it.each([
    [
      'the feminine "napisała:"',
      'Dnia 10 listopada 2026 09:20 Anna Kowalska <anna@sklep.example> napisała:\n> Cześć',
    ],
    ['Thunderbird\'s "pisze:"', 'W dniu 10.11.2026 o 09:20, Anna Kowalska pisze:\n> Cześć'],
    [
      'a header wrapped over two lines',
      'W dniu 10.11.2026 o 09:20, Anna Kowalska <anna@sklep.example>\nnapisał(a):\n> Cześć',
    ],
    [
      "Apple Mail's header",
      'Wiadomość napisana przez Anna Kowalska <anna@sklep.example> w dniu 10.11.2026, o godz. 09:20:\n\nCześć',
    ],
    [
      "Outlook's Polish block",
      'Od: Anna Kowalska <anna@sklep.example>\nWysłano: wtorek, 10 listopada 2026 09:20\nDo: Zofia\nTemat: Faktura\n\nCześć',
    ],
    [
      "Outlook's English block",
      'From: Anna Kowalska <anna@sklep.example>\nSent: Tuesday, November 10, 2026 9:20 AM\nTo: Zofia\n\nHello',
    ],
    ['a separator line', '-----Wiadomość oryginalna-----\nOd: Anna\n\nCześć'],
  ])('should cut the history at %s', (_case, history) => {
    // Prepare
    const text = `Dziękuję, czekam na fakturę.\n\n${history}`;

    // Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: 'Dziękuję, czekam na fakturę.', quoted: true });
  });

  // Yahoo's header names a day, a date with its year and an hour: a customer's own sentence that
  // opens with a day and ends in "napisała:" quotes what someone told them, and their request
  // follows it ("Dziękuję." above it was all that was kept, then read as thanks alone).
  it.each([
    'Dziękuję.\n\nW piątek, kiedy dzwoniłam, konsultantka napisała:\n„Paczka wyjdzie w poniedziałek”\nNadal jej nie ma, proszę o zwrot pieniędzy.',
    'Dziękuję.\n\nWe wtorek, po rozmowie z Panią,\nkurier napisał(-a):\nDostawa jutro.\nNadal nic nie dostałem, proszę o kontakt.',
  ])("should not take a customer's sentence opening with a day for Yahoo's quote header (%j)", (text) => {
    // Prepare, Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: text, quoted: false });
  });

  // An English quote header names when (the hour) or who (the address) wrote; "On Monday, 12 Jan
  // 2026, your colleague wrote:" in a customer's own text names neither, and the reply parser cut
  // their request below it (only "Hello," was kept).
  it.each([
    'Hello,\n\nOn Monday, 12 Jan 2026, your colleague wrote:\n"we will send a replacement within a week"\n\nIt has not arrived. Please send it or refund me.',
    'Hello,\n\nOn 12 Jan 2026, your colleague wrote:\n"we will send a replacement within a week"\n\nIt has not arrived.',
    'Hello,\n\nYour colleague on Monday at the shop wrote:\n"a week at most"\n\nIt has been three.',
  ])('should keep a customer\'s own "On …, your colleague wrote:" and the request below it (%j)', (text) => {
    // Prepare, Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: text, quoted: false });
  });

  it.each([
    [
      "Gmail's header",
      'On Mon, 12 Jan 2026 at 10:00, Anna Kowalska <anna@sklep.example> wrote:\n> Dear customer',
    ],
    [
      "Thunderbird's header, no address",
      'On 12.01.2026 10:00, Anna Kowalska wrote:\nDear customer,\nwe got it.',
    ],
    [
      'a header wrapped over two lines',
      'On Mon, 12 Jan 2026 at 10:00, Anna Kowalska\n<anna@sklep.example> wrote:\n> Dear customer',
    ],
    ['a header naming neither, over "> " lines', 'On 12 Jan 2026, Anna Kowalska wrote:\n> Dear customer'],
  ])('should still cut the history at %s', (_case, history) => {
    // Prepare
    const text = `Thank you, waiting for the invoice.\n\n${history}`;

    // Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: 'Thank you, waiting for the invoice.', quoted: true });
  });

  // The Polish "W dniu …"/"Dnia …" header of Thunderbird, Gmail or Roundcube names when (the hour)
  // or who (the address) wrote, or "> " lines follow it; a customer's own "W dniu 12 stycznia
  // konsultant napisał:" names neither, and their request below it was cut (only "Dzień dobry,").
  it.each([
    'Dzień dobry,\n\nW dniu 12 stycznia konsultant napisał:\n„wymienimy towar w ciągu tygodnia”\n\nNadal nic nie przyszło. Proszę o wymianę albo zwrot pieniędzy.',
    'Dzień dobry,\n\nDnia 12 stycznia 2026 r. Pani z obsługi pisze:\n„zwrot w 14 dni”\n\nMinął miesiąc, proszę o zwrot.',
    'Dzień dobry,\n\nW dniu zakupu sprzedawca napisała:\n\n„gwarancja 2 lata”\nProszę o naprawę.',
  ])('should keep a customer\'s own "W dniu …/Dnia … napisał:" and the request below it (%j)', (text) => {
    // Prepare, Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: text, quoted: false });
  });

  it('should keep a customer\'s own "W dniu … napisał:" above the history it cuts, as they wrote it', () => {
    // Prepare
    const own =
      'Dzień dobry,\n\nW dniu 12 stycznia konsultant napisał:\n„wymiana w tydzień”\n\nNadal nic. Proszę o zwrot.';
    const text = `${own}\n\nW dniu 12.01.2026 o 10:00, Anna Kowalska <anna@sklep.example> pisze:\n> Dzień dobry`;

    // Act
    const result = splitReply(text);

    // Assess: no word joiner left in it
    expect(result).toEqual({ newText: own, quoted: true });
  });

  it.each([
    [
      "Thunderbird's header, no address, no quote marks",
      'W dniu 12.01.2026 o 10:00, Anna Kowalska pisze:\nDzień dobry,\nmamy.',
    ],
    [
      "Gmail's old header",
      'W dniu 12 stycznia 2026 10:00 użytkownik Anna Kowalska <anna@sklep.example> napisał:\n> Dzień dobry',
    ],
    [
      'a header naming neither, over "> " lines',
      'Dnia 12 stycznia 2026 Anna Kowalska napisała:\n\n> Dzień dobry',
    ],
    [
      'a header wrapped, its address below',
      'W dniu 12 stycznia 2026, Anna Kowalska\n<anna@sklep.example> pisze:\nDzień dobry',
    ],
  ])('should still cut the Polish history at %s', (_case, history) => {
    // Prepare
    const text = `Dziękuję, czekam na fakturę.\n\n${history}`;

    // Act
    const result = splitReply(text);

    // Assess
    expect(result).toEqual({ newText: 'Dziękuję, czekam na fakturę.', quoted: true });
  });

  it('should not mistake a sentence starting with "Od:" for a quote header', () => {
    // Prepare, Act
    const result = splitReply('Od: jutra jestem na urlopie.\nProszę o kontakt z biurem.');

    // Assess
    expect(result.quoted).toBe(false);
  });

  it('should keep the whole text when everything is quoted', () => {
    // Prepare, Act
    const result = splitReply('> tylko cytat\n> nic nowego');

    // Assess
    expect(result.newText).toBe('> tylko cytat\n> nic nowego');
    expect(result.quoted).toBe(false);
  });

  it.each(['Dnia x\n', 'On x wrote:\n\n', 'W dniu x pisze:\n\n'])(
    'should stay fast on a huge text full of would-be quote headers (%j)',
    (header) => {
      // Prepare
      const text = header.repeat(50_000);
      const started = performance.now();

      // Act
      splitReply(text);

      // Assess
      expect(performance.now() - started).toBeLessThan(3000);
    },
  );
});

describe('messageIdsOf', () => {
  it('should list bracketed ids across folded lines and accept one bare id', () => {
    // Prepare, Act
    const ids = [messageIdsOf('<a@x>\r\n <b@y>  <c@z>'), messageIdsOf('bare@id'), messageIdsOf('two bare')];

    // Assess
    expect(ids).toEqual([['a@x', 'b@y', 'c@z'], ['bare@id'], []]);
  });
});

describe('htmlToText', () => {
  it('should convert markup, entities and line breaks', async () => {
    // Prepare, Act
    const text = await htmlToText('<p>A&amp;B</p><p>dwa<br>trzy</p>');

    // Assess
    expect(text).toBe('A&B\n\ndwa\ntrzy');
  });
});
