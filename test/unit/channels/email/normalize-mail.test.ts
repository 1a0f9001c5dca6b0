import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { type ParsedMail, parseMime } from '#lib/channels/email/mime.ts';
import { type MailContext, normalizeMail, sameMailKey } from '#lib/channels/email/normalize-mail.ts';
import { type InboundMessage, InboundMessageSchema } from '#lib/domain/message.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';

type Saved = { name: string; contentType: string; bytes: Uint8Array };

function context(overrides: Partial<MailContext> = {}): MailContext & { saved: Saved[] } {
  const saved: Saved[] = [];
  return {
    provider: 'ses',
    providerMessageId: '4mq1l0c7k2d8v0s1g2h3j4k5l6m7n8o9p0q1r2s3',
    recipient: 'kontakt@sklep.example',
    envelopeSender: 'someone@example.pl',
    ourAddresses: ['anna@sklep.example'],
    saveAttachment: async (name, contentType, bytes) => {
      saved.push({ name, contentType, bytes });
      return `s3://switchboard-attachments/${saved.length}/${name}`;
    },
    saved,
    ...overrides,
  };
}

async function normalizeFixture(name: string, ctx = context()): Promise<InboundMessage> {
  const raw = readFileSync(new URL(`../../../fixtures/email/${name}.eml`, import.meta.url));
  const [event, ...rest] = await normalizeMail(await parseMime(raw), ctx);
  if (rest.length > 0 || event?.type !== 'message') throw new Error('expected one message event');
  return event.message;
}

describe('normalizeMail', () => {
  it('should turn the Polish mail into an email message keyed by the lower-cased From address', async () => {
    // Prepare, Act
    const message = await normalizeFixture('plain-polish');

    // Assess
    expect(message).toEqual({
      provider: 'ses',
      providerMessageId: '4mq1l0c7k2d8v0s1g2h3j4k5l6m7n8o9p0q1r2s3',
      // The same mail's key through either provider (stop 26).
      sameMessageKey: expect.stringMatching(/^mail:[0-9a-f]{64}$/),
      channel: 'email',
      kind: 'message',
      contactKey: 'email:zofia.wojcik@poczta.example.pl',
      contactName: 'Zofia Wójcik',
      from: 'zofia.wojcik@poczta.example.pl',
      to: 'kontakt@sklep.example',
      text:
        'Dzień dobry,\n\nczy mogę prosić o fakturę VAT za wrzesień? Zamówienie nr 2026/09/1187.\n' +
        'Dane do faktury bez zmian.\n\nZ poważaniem\nZofia Wójcik',
      media: [],
      email: {
        subject: 'Pytanie o fakturę za wrzesień',
        messageId: 'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
        references: [],
      },
    });
    expect(InboundMessageSchema.safeParse(message).success).toBe(true);
  });

  it('should record only the new part of a reply, with its threading headers', async () => {
    // Prepare, Act
    const message = await normalizeFixture('reply-polish');

    // Assess
    expect(message.text).toBe(
      'Dziękuję, czekam w takim razie na fakturę.\nProszę wysłać ją też na adres księgowości.',
    );
    expect(message.email).toEqual({
      subject: 'Re: Odpowiemy jutro do 10:00',
      messageId: 'CAH7x9kq3Zp1Lw9@mail.poczta.example.pl',
      inReplyTo: '0100019a2f4c1d2e-5b6a7c8d-0001-000000@eu-west-1.amazonses.com',
      references: [
        'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
        '0100019a2f4c1d2e-5b6a7c8d-0001-000000@eu-west-1.amazonses.com',
      ],
    });
  });

  it('should store each attachment and list it as media with where it was stored', async () => {
    // Prepare
    const ctx = context();

    // Act
    const message = await normalizeFixture('two-attachments', ctx);

    // Assess
    expect(message.media).toEqual([
      {
        url: 's3://switchboard-attachments/1/faktura-2026-09.pdf',
        contentType: 'application/pdf',
        name: 'faktura-2026-09.pdf',
        size: 125,
      },
      {
        url: 's3://switchboard-attachments/2/zdjęcie.png',
        contentType: 'image/png',
        name: 'zdjęcie.png',
        size: 70,
      },
    ]);
    expect(ctx.saved.map((saved) => saved.bytes.byteLength)).toEqual([125, 70]);
  });

  it('should key the contact by the Reply-To it answers, and keep the From as the author', async () => {
    // Prepare, Act
    const message = await normalizeFixture('two-attachments');

    // Assess
    expect(message.contactKey).toBe('email:biuro@zielinski.example.pl');
    expect(message.from).toBe('piotr.zielinski@example.pl');
    // The From's name is not the Reply-To's (a web form's From names the form): the ack greets no one by it.
    expect(message.contactName).toBeUndefined();
    expect(message.email?.replyTo).toBe('biuro@zielinski.example.pl');
  });

  it('should set the loop guard reason on an auto-reply', async () => {
    // Prepare, Act
    const message = await normalizeFixture('auto-reply');

    // Assess
    expect(message.noAckReason).toBe('auto-submitted');
  });

  it('should hold back a mail SES marked as spam and keep the attachments of none with a virus', async () => {
    // Prepare
    const spam = context({ verdicts: { spam: 'FAIL', virus: 'PASS' } });
    const virus = context({ verdicts: { spam: 'PASS', virus: 'FAIL' } });

    // Act
    const spamMessage = await normalizeFixture('two-attachments', spam);
    const virusMessage = await normalizeFixture('two-attachments', virus);

    // Assess
    expect(spamMessage.noAckReason).toBe('spam');
    expect(spamMessage.media).toHaveLength(2);
    expect(virusMessage.noAckReason).toBe('virus');
    expect(virusMessage.media).toEqual([]);
    expect(virus.saved).toEqual([]);
  });

  it('should use the envelope sender for the null return path of a bounce', async () => {
    // Prepare, Act
    const message = await normalizeFixture('plain-polish', context({ envelopeSender: '' }));

    // Assess
    expect(message.noAckReason).toBe('null-return-path');
  });

  it('should fall back to the To header when the provider gives no recipient', async () => {
    // Prepare, Act
    const message = await normalizeFixture('plain-polish', context({ recipient: undefined }));

    // Assess
    expect(message.to).toBe('kontakt@sklep.example');
  });

  it('should hash a provider id longer than the store takes', async () => {
    // Prepare, Act
    const message = await normalizeFixture('plain-polish', context({ providerMessageId: 'x'.repeat(300) }));

    // Assess
    expect(message.providerMessageId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('should refuse a mail without a From address', async () => {
    // Prepare
    const mail = await parseMime('To: kontakt@sklep.example\r\nSubject: x\r\n\r\nbody');

    // Act
    const act = normalizeMail(mail, context());

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedPayloadError);
  });
});

/** Header values a hostile sender writes: injected headers, encoded words, huge ids, odd bytes. */
const hostileHeader = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    'x\r\nBcc: victim@example.com',
    'evil@example.com\r\nReply-To: attacker@example.com',
    '<id@x>\r\nMessage-ID: <other@x>',
    '=?UTF-8?B?ZXZpbEBleGFtcGxlLmNvbQ0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?=',
    '\u0000',
    'a\u0000b',
    `<${'x'.repeat(100_000)}@example.com>`,
    `${'x'.repeat(20_000)}@example.com`,
    '=?UTF-8?Q?=FF=FE?=',
  ),
);

/** A raw mail from hostile fields; `files` attachments of `size` bytes; an invalid UTF-8 tail. */
function hostileMime(fields: {
  from: string;
  replyTo: string;
  messageId: string;
  subject: string;
  body: Uint8Array;
  files: number;
}): Buffer {
  const boundary = 'b_hostile';
  const head = [
    `From: ${fields.from || 'Ewa <ewa@example.com>'}`,
    `Reply-To: ${fields.replyTo}`,
    'To: kontakt@sklep.example',
    `Subject: ${fields.subject}`,
    `Message-ID: ${fields.messageId}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
  ].join('\r\n');
  const parts = [
    Buffer.from(`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`),
    Buffer.from(fields.body),
    ...Array.from({ length: fields.files }, (_, n) =>
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Type: application/pdf; name="f${n}.pdf"\r\n` +
          `Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`file ${n}`).toString('base64')}`,
      ),
    ),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ];
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), ...parts]);
}

function plainMail(overrides: Partial<ParsedMail> = {}): ParsedMail {
  return {
    headers: [],
    from: { address: 'ewa@example.com' },
    to: [{ address: 'kontakt@sklep.example' }],
    subject: 'Faktura',
    messageId: 'CAH7x9kq3Zp1Lw8@mail.example.com',
    references: [],
    text: 'Dzień dobry,\nproszę o fakturę.',
    newText: 'Dzień dobry,\nproszę o fakturę.',
    attachments: [],
    ...overrides,
  };
}

const file = (n: number, bytes = `file ${n}`) => ({
  name: `f${n}.pdf`,
  contentType: 'application/pdf',
  size: bytes.length,
  content: new TextEncoder().encode(bytes),
});

describe('the same-mail key under hostile mail fields', { timeout: fuzzTimeout(30_000) }, () => {
  it('should give any parsed mail a key the store takes, the same on every parse, or refuse it as malformed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          from: hostileHeader,
          replyTo: hostileHeader,
          messageId: fc.oneof(
            hostileHeader,
            hostileHeader.map((id) => `<${id}>`),
          ),
          subject: hostileHeader,
          body: fc.oneof(
            fc.string({ maxLength: 200 }).map((text) => new TextEncoder().encode(text)),
            fc.uint8Array({ maxLength: 200 }),
          ),
          files: fc.oneof({ weight: 9, arbitrary: fc.nat({ max: 3 }) }, fc.constant(2_000)),
        }),
        async (fields) => {
          // Prepare
          const raw = hostileMime(fields);

          // Act
          const normalize = async () => {
            const [event] = await normalizeMail(await parseMime(raw), context());
            return event?.type === 'message' ? event.message : undefined;
          };
          let message: InboundMessage | undefined;
          try {
            message = await normalize();
          } catch (error) {
            // Assess: refused as the caller's 4xx, never another error
            expect(error).toBeInstanceOf(MalformedPayloadError);
            return;
          }

          // Assess: a message the store and the work queue take, its key bounded and stable
          expect(InboundMessageSchema.safeParse(message).success).toBe(true);
          if (message?.sameMessageKey === undefined) return;
          expect(message.sameMessageKey).toMatch(/^mail:[0-9a-f]{64}$/);
          expect((await normalize())?.sameMessageKey).toBe(message.sameMessageKey);
        },
      ),
      fuzzRuns(100),
    );
  });

  it('should tell apart mails that differ in what they say, where answers go or a file, and only those', () => {
    const part = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('\u0000', 'a\u0000', '\u0000b', '', ' '),
    );
    const mail = fc.record({
      replyTo: fc.option(fc.constantFrom('ewa@example.com', 'adam@example.com'), { nil: undefined }),
      messageId: part.filter((id) => id !== ''),
      subject: part,
      text: part,
      files: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
    });
    const keyOf = (m: {
      replyTo?: string;
      messageId: string;
      subject: string;
      text: string;
      files: string[];
    }) =>
      sameMailKey(
        plainMail({
          messageId: m.messageId,
          subject: m.subject,
          text: m.text,
          attachments: m.files.map((bytes, n) => file(n, bytes)),
        }),
        'ewa@example.com',
        m.replyTo,
      );
    /** What the key is meant to digest: the same mail through either way in, however broken or trimmed. */
    const said = (m: {
      replyTo?: string;
      messageId: string;
      subject: string;
      text: string;
      files: string[];
    }) =>
      JSON.stringify([
        m.replyTo ?? '',
        m.messageId,
        m.subject.normalize('NFC').trim(),
        m.text.normalize('NFC').replace(/\s+/gu, ''),
        m.files,
      ]);
    type Mail = { replyTo?: string; messageId: string; subject: string; text: string; files: string[] };
    // Another mail: any, or this one with the boundary between two neighbouring fields moved
    // (what the first ended with begins the next), which a digest of the fields one after the
    // other must not mistake for the same.
    const moved = (m: Mail) =>
      fc.nat({ max: 12 }).map((cut): Mail => {
        const joined = `${m.messageId}\u0000${m.subject}`;
        const at = Math.min(Math.max(1, cut), joined.length);
        return { ...m, messageId: joined.slice(0, at), subject: joined.slice(at + 1) };
      });
    const pair = fc.oneof(
      fc.tuple(mail, mail),
      mail.chain((a) => fc.tuple(fc.constant(a), moved(a))),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        // Act + Assess
        expect(keyOf(a) === keyOf(b), `${JSON.stringify(a)} ${JSON.stringify(b)}`).toBe(said(a) === said(b));
      }),
      fuzzRuns(2_000),
    );
  });

  it('should not take a mail whose Message-ID and subject differ from another’s only where a NUL stands for its copy', () => {
    // Prepare: Mailgun's form keeps a NUL in either field
    const first = plainMail({ messageId: 'n1@firma-b.example\u0000', subject: '' });
    const second = plainMail({ messageId: 'n1@firma-b.example', subject: '\u0000' });

    // Act + Assess
    expect(sameMailKey(first, 'ewa@example.com')).not.toBe(sameMailKey(second, 'ewa@example.com'));
  });

  it('should keep the key a mail without a NUL had before stop 26’s fix (one mail delivered both ways across the deploy)', () => {
    // Prepare: the key as it was digested: each field and a NUL, then each file's SHA-256 and a NUL
    const mail = plainMail({ replyTo: { address: 'adam@example.com' }, attachments: [file(1)] });
    const before = createHash('sha256');
    for (const part of [
      'ewa@example.com',
      'adam@example.com',
      mail.messageId,
      'Faktura',
      'Dzieńdobry,proszęofakturę.',
    ]) {
      before.update(part as string).update('\0');
    }
    before.update(createHash('sha256').update(file(1).content).digest()).update('\0');

    // Act + Assess
    expect(sameMailKey(mail, 'ewa@example.com', 'adam@example.com')).toBe(`mail:${before.digest('hex')}`);
  });

  it('should key the same mail alike however its text is broken, and a 51st file not at all', () => {
    // Prepare
    const files = Array.from({ length: 50 }, (_, n) => file(n));
    const mail = plainMail({ attachments: files });

    // Act
    const key = sameMailKey(mail, 'ewa@example.com');

    // Assess
    expect(
      sameMailKey({ ...mail, text: ' Dzień  dobry,\r\n\r\nproszę o\tfakturę. ' }, 'ewa@example.com'),
    ).toBe(key);
    expect(sameMailKey({ ...mail, attachments: [...files, file(50)] }, 'ewa@example.com')).toBe(key);
    expect(sameMailKey({ ...mail, attachments: [file(99), ...files.slice(1)] }, 'ewa@example.com')).not.toBe(
      key,
    );
  });
});
