import { describe, expect, it } from 'vitest';
import { mailgunMessageId, normalizeMailgunRoute } from '#lib/channels/mailgun/normalize.ts';
import { parseMailgunRoute } from '#lib/channels/mailgun/schema.ts';
import { type InboundMessage, InboundMessageSchema } from '#lib/domain/message.ts';
import {
  fixtureFiles,
  mailgunFixture,
  mailgunMultipartRequest,
  mailgunRequest,
  signMailgun,
} from '#test/support/mailgun-factory.ts';

function deps() {
  const saved: { name: string; contentType: string; size: number }[] = [];
  return {
    saved,
    saveAttachment: async (name: string, contentType: string, bytes: Uint8Array) => {
      saved.push({ name, contentType, size: bytes.byteLength });
      return `attachments/${name}`;
    },
    ourAddresses: ['anna@mg.sklep.example'],
  };
}

async function normalize(form: URLSearchParams, d = deps()): Promise<InboundMessage> {
  const [event] = await normalizeMailgunRoute(parseMailgunRoute(mailgunRequest(form)), d);
  if (event?.type !== 'message') throw new Error('expected a message');
  return event.message;
}

describe('normalizeMailgunRoute', () => {
  it('should turn a route POST into an email message with stripped-text as its text', async () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));

    // Act
    const message = await normalize(form);

    // Assess
    expect(message).toEqual({
      provider: 'mailgun',
      providerMessageId: expect.stringMatching(/^CAH7x9kq3Zp1Lw9@mail\.poczta\.example\.pl#[0-9a-f]{16}$/),
      // The same mail's key through either provider (stop 26).
      sameMessageKey: expect.stringMatching(/^mail:[0-9a-f]{64}$/),
      channel: 'email',
      kind: 'message',
      contactKey: 'email:zofia.wojcik@poczta.example.pl',
      contactName: 'Zofia Wójcik',
      from: 'zofia.wojcik@poczta.example.pl',
      to: 'anna@mg.sklep.example',
      text: 'Dziękuję, czekam w takim razie na fakturę.\nProszę wysłać ją też na adres księgowości.',
      media: [],
      email: {
        subject: 'Re: Odpowiemy jutro do 10:00',
        messageId: 'CAH7x9kq3Zp1Lw9@mail.poczta.example.pl',
        inReplyTo: '20261110082000.a1b2c3d4e5f6@mg.sklep.example',
        references: [
          'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
          '20261110082000.a1b2c3d4e5f6@mg.sklep.example',
        ],
      },
      // The whole mail, quoted history included, kept beside the new part.
      fullText: expect.stringContaining('Dziękuję, czekam w takim razie na fakturę.'),
    });
    expect(message.fullText?.length).toBeGreaterThan(message.text.length);
    expect(InboundMessageSchema.safeParse(message).success).toBe(true);
  });

  it('should split body-plain itself when Mailgun sent no stripped-text', async () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    form.delete('stripped-text');

    // Act
    const message = await normalize(form);

    // Assess
    expect(message.text).toBe(
      'Dziękuję, czekam w takim razie na fakturę.\nProszę wysłać ją też na adres księgowości.',
    );
  });

  it('should fall back to the headers in message-headers when the top-level copies are absent', async () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    for (const name of ['Message-Id', 'In-Reply-To', 'References', 'To']) form.delete(name);

    // Act
    const message = await normalize(form);

    // Assess
    expect(message.providerMessageId).toMatch(/^CAH7x9kq3Zp1Lw9@mail\.poczta\.example\.pl#[0-9a-f]{16}$/);
    expect(message.email?.inReplyTo).toBe('20261110082000.a1b2c3d4e5f6@mg.sklep.example');
  });

  it('should convert body-html when body-plain is empty', async () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    form.set('body-plain', '');
    form.delete('stripped-text');
    form.set('body-html', '<p>Dzień dobry,</p><p>proszę o <b>fakturę</b>.</p>');

    // Act
    const message = await normalize(form);

    // Assess
    expect(message.text).toBe('Dzień dobry,\n\nproszę o fakturę.');
  });

  it('should store the attachments of a multipart POST', async () => {
    // Prepare
    const d = deps();
    const [pdf, png] = fixtureFiles().map((file) => file.content.byteLength);
    const request = await mailgunMultipartRequest(
      signMailgun(mailgunFixture('two-attachments')),
      fixtureFiles(),
    );

    // Act
    const [event] = await normalizeMailgunRoute(parseMailgunRoute(request), d);

    // Assess
    if (event?.type !== 'message') throw new Error('expected a message');
    expect(event.message.media).toEqual([
      {
        url: 'attachments/faktura-2026-09.pdf',
        contentType: 'application/pdf',
        name: 'faktura-2026-09.pdf',
        size: pdf,
      },
      { url: 'attachments/zdjęcie.png', contentType: 'image/png', name: 'zdjęcie.png', size: png },
    ]);
    expect(d.saved.map((saved) => saved.contentType)).toEqual(['application/pdf', 'image/png']);
  });

  it('should apply the loop guard to the headers Mailgun passes on', async () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    const headers = JSON.parse(form.get('message-headers') ?? '[]') as string[][];
    form.set('message-headers', JSON.stringify([...headers, ['Auto-Submitted', 'auto-replied']]));
    const bounce = signMailgun(mailgunFixture('reply-polish'));
    bounce.set('sender', '');

    // Act
    const messages = [await normalize(form), await normalize(bounce)];

    // Assess
    expect(messages.map((message) => message.noAckReason)).toEqual(['auto-submitted', 'null-return-path']);
  });

  it('should key a mail by its Message-Id and what it says: the same on a retry, not for another mail', () => {
    // Prepare: one POST, Mailgun's retry of it (signed afresh), and another mail reusing the id
    const form = mailgunFixture('reply-polish');
    const other = mailgunFixture('reply-polish');
    other.set('body-plain', 'Zupełnie inna sprawa.');
    const id = (f: URLSearchParams) => mailgunMessageId(parseMailgunRoute(mailgunRequest(signMailgun(f))));

    // Act
    const [first, retry, reused] = [id(form), id(form), id(other)];

    // Assess
    expect(first).toBe(retry);
    expect(reused).not.toBe(first);
    expect(reused.split('#')[0]).toBe(first.split('#')[0]);
  });

  it('should hash timestamp and token when the mail has no Message-Id', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'), {
      token: 'a'.repeat(50),
      timestamp: 1_793_000_000,
    });
    form.delete('Message-Id');
    form.set(
      'message-headers',
      JSON.stringify(
        (JSON.parse(form.get('message-headers') ?? '[]') as string[][]).filter(
          ([name]) => name !== 'Message-Id',
        ),
      ),
    );

    // Act
    const id = mailgunMessageId(parseMailgunRoute(mailgunRequest(form)));

    // Assess
    expect(id).toMatch(/^mailgun:[0-9a-f]{64}$/);
  });
});
