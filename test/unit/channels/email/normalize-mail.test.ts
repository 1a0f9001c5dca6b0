import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { parseMime } from '#lib/channels/email/mime.ts';
import { type MailContext, normalizeMail } from '#lib/channels/email/normalize-mail.ts';
import { type InboundMessage, InboundMessageSchema } from '#lib/domain/message.ts';

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
