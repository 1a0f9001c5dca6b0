import PostalMime from 'postal-mime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSesSender } from '#lib/channels/email/send-ses.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';

const ACK: OutboundText & { thread: NonNullable<OutboundText['thread']> } = {
  channel: 'email',
  provider: 'ses',
  to: 'zofia.wojcik@poczta.example.pl',
  from: 'kontakt@sklep.example',
  text: 'Dzień dobry,\n\nDziękujemy za wiadomość. Odpowiemy jutro do 10:00.\n\nPozdrawiam serdecznie\nAnna Kowalska',
  subject: 'Odpowiemy jutro do 10:00',
  idempotencyKey: 'msg_01',
  automatic: true,
  thread: {
    subject: 'Pytanie o fakturę za wrzesień',
    messageId: 'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
    references: ['root@mail.poczta.example.pl'],
  },
};

let ses: FakeSes;

beforeEach(async () => {
  ses = await startFakeSes();
});

afterEach(async () => {
  await ses.close();
});

function sender(options: { maxAttempts?: number; configurationSetName?: string } = {}) {
  return createSesSender({
    client: ses.client({ maxAttempts: options.maxAttempts }),
    from: 'Anna Kowalska <anna@sklep.example>',
    configurationSetName: options.configurationSetName,
    now: () => new Date('2026-11-10T08:20:00Z'),
  });
}

function headerLines(raw: string): string[] {
  return raw.slice(0, raw.indexOf('\r\n\r\n')).split(/\r\n(?![ \t])/);
}

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SendError)) throw new Error(`expected SendError, got ${String(error)}`);
  return error;
}

describe('createSesSender', () => {
  it('should send raw MIME through SendEmail and return the SES MessageId', async () => {
    // Prepare
    const sesSender = sender({ configurationSetName: 'switchboard-acks' });

    // Act
    const receipt = await sesSender.send(ACK);

    // Assess
    expect(receipt.status).toBe('queued');
    expect(receipt.providerMessageId).toMatch(/^0102019a[0-9a-f]{16}-[0-9a-f]{8}-000000$/);
    const [request] = ses.requests;
    expect(request?.path).toBe('/v2/email/outbound-emails');
    expect(request?.body).toMatchObject({
      FromEmailAddress: 'anna@sklep.example',
      Destination: { ToAddresses: ['zofia.wojcik@poczta.example.pl'] },
      ConfigurationSetName: 'switchboard-acks',
    });
    expect(request?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('should thread the reply with In-Reply-To, References and Auto-Submitted, each once', async () => {
    // Prepare, Act
    await sender().send(ACK);

    // Assess
    const raw = ses.requests[0]?.rawMime ?? '';
    const lines = headerLines(raw);
    expect(lines).toContain('In-Reply-To: <CAH7x9kq3Zp1Lw8@mail.poczta.example.pl>');
    expect(lines).toContain(
      'References: <root@mail.poczta.example.pl>\r\n <CAH7x9kq3Zp1Lw8@mail.poczta.example.pl>',
    );
    expect(lines).toContain('Auto-Submitted: auto-replied');
    for (const name of ['In-Reply-To', 'References', 'Auto-Submitted', 'Subject', 'From', 'To']) {
      expect(lines.filter((line) => line.startsWith(`${name}:`))).toHaveLength(1);
    }
    expect(lines.find((line) => /^message-id:/i.test(line))).toBeUndefined();
  });

  it('should encode the Polish subject and sender name as RFC 2047 words and the body as UTF-8', async () => {
    // Prepare
    const sesSender = createSesSender({ client: ses.client(), from: 'Łucja Wąs <lucja@sklep.example>' });

    // Act
    await sesSender.send(ACK);

    // Assess
    const raw = ses.requests[0]?.rawMime ?? '';
    expect(raw).toMatch(/^[\x20-\x7e\r\n\t]*$/);
    expect(headerLines(raw).find((line) => line.startsWith('Subject:'))).toMatch(/^Subject: =\?UTF-8\?B\?/);
    const mail = await PostalMime.parse(raw);
    expect(mail.subject).toBe('Re: Pytanie o fakturę za wrzesień');
    expect(mail.from).toEqual({ name: 'Łucja Wąs', address: 'lucja@sklep.example' });
    // Canonical MIME text uses CRLF line ends.
    expect(mail.text?.replace(/\r\n/g, '\n').trim()).toBe(ACK.text);
    expect(mail.inReplyTo).toBe('<CAH7x9kq3Zp1Lw8@mail.poczta.example.pl>');
    expect(headerLines(raw)).toContain('Content-Type: text/plain; charset=UTF-8');
  });

  it('should come under the name of the person who signs it, RFC 2047-encoded, from the configured address', async () => {
    // Prepare: the configured sender names Anna; Łucja signs this one

    // Act
    await sender().send({ ...ACK, senderName: 'Łucja Wąs-Żółkiewska' });
    await sender().send({ ...ACK, senderName: 'Piotr Nowak' });

    // Assess
    const [polish, plain] = ses.requests;
    expect(polish?.body).toMatchObject({ FromEmailAddress: 'anna@sklep.example' });
    const raw = polish?.rawMime ?? '';
    expect(raw).toMatch(/^[\x20-\x7e\r\n\t]*$/);
    expect(headerLines(raw).find((line) => line.startsWith('From:'))).toMatch(/^From: =\?UTF-8\?B\?/);
    expect((await PostalMime.parse(raw)).from).toEqual({
      name: 'Łucja Wąs-Żółkiewska',
      address: 'anna@sklep.example',
    });
    expect(headerLines(plain?.rawMime ?? '')).toContain('From: "Piotr Nowak" <anna@sklep.example>');
  });

  it('should not add a second Re: to a subject that already has one', async () => {
    // Prepare
    const reply = { ...ACK, thread: { ...ACK.thread, subject: 'Re: Odpowiemy jutro do 10:00' } };

    // Act
    await sender().send(reply);

    // Assess
    const mail = await PostalMime.parse(ses.requests[0]?.rawMime ?? '');
    expect(mail.subject).toBe('Re: Odpowiemy jutro do 10:00');
  });

  it('should send a person’s reply to a mail without a subject under Re:, not an empty Subject', async () => {
    // Prepare: an agent's reply (its subject is the thread's), to a mail that had none
    const reply = { ...ACK, automatic: false, subject: '', thread: { ...ACK.thread, subject: '' } };

    // Act
    await sender().send(reply);

    // Assess
    expect(headerLines(ses.requests[0]?.rawMime ?? '')).toContain('Subject: Re:');
  });

  it('should send unthreaded under the given subject when there is no thread', async () => {
    // Prepare
    const { thread: _thread, ...unthreaded } = ACK;

    // Act
    await sender().send(unthreaded);

    // Assess
    const raw = ses.requests[0]?.rawMime ?? '';
    const mail = await PostalMime.parse(raw);
    expect(mail.subject).toBe('Odpowiemy jutro do 10:00');
    expect(raw).not.toMatch(/^In-Reply-To:/m);
    expect(headerLines(raw)).toContain('Auto-Submitted: auto-replied');
  });

  it.each([
    [400, 'MessageRejected'],
    [400, 'BadRequestException'],
  ])('should map HTTP %i %s to a permanent SendError', async (status, type) => {
    // Prepare
    ses.failNext(1, { status, type });

    // Act
    const error = await sendError(sender().send(ACK));

    // Assess
    expect(error.permanent).toBe(true);
    expect(error.code).toBe('SEND_REJECTED');
    expect(error.providerCode).toBe(type);
  });

  it.each([
    [400, 'MailFromDomainNotVerifiedException'],
    [400, 'SendingPausedException'],
    [400, 'AccountSuspendedException'],
    [400, 'ConfigurationSetSendingPausedException'],
    [404, 'NotFoundException'],
    [403, 'AccessDeniedException'],
    [403, 'UnrecognizedClientException'],
  ])(
    'should map HTTP %i %s, a refusal of our account, to a retryable SendError of ours',
    async (status, type) => {
      // Prepare: found at stop 23: sending paused or a lost IAM grant failed every email ack for good.
      ses.failNext(1, { status, type });

      // Act
      const error = await sendError(sender().send(ACK));

      // Assess
      expect(error).toMatchObject({
        permanent: false,
        ours: true,
        code: 'SEND_UNAUTHORIZED',
        providerCode: type,
      });
    },
  );

  it.each([
    [429, 'TooManyRequestsException'],
    [400, 'LimitExceededException'],
    [400, 'Throttling'],
    [503, 'ServiceUnavailable'],
  ])('should map HTTP %i %s to a retryable SendError, retried within the call', async (status, type) => {
    // Prepare: every try refused (SES took nothing). A 500 may come after SES took the mail: it
    // is uncertain (test/unit/runtime/ses-client.test.ts)
    ses.failNext(3, { status, type });

    // Act
    const error = await sendError(sender().send(ACK));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.code).toBe('SEND_FAILED');
    expect(ses.requests).toHaveLength(3);
  });

  it('should map a dropped connection to a retryable SendError', async () => {
    // Prepare
    ses.failNext(1, 'drop');

    // Act
    const error = await sendError(sender().send(ACK));

    // Assess
    expect(error.permanent).toBe(false);
  });

  it('should succeed when the SDK retries a throttled send', async () => {
    // Prepare
    ses.failNext(1, { status: 429, type: 'TooManyRequestsException' });

    // Act
    const receipt = await sender({ maxAttempts: 2 }).send(ACK);

    // Assess
    expect(receipt.providerMessageId).not.toBeNull();
    expect(ses.requests).toHaveLength(2);
  });

  it('should refuse a recipient that is not an email address without calling SES', async () => {
    // Prepare, Act
    const error = await sendError(sender().send({ ...ACK, to: '+48601234567' }));

    // Assess
    expect(error.permanent).toBe(true);
    expect(ses.requests).toHaveLength(0);
  });

  it('should refuse a from option that is not a mailbox at start-up', () => {
    // Act
    const act = () => createSesSender({ client: ses.client(), from: 'Anna Kowalska' });

    // Assess
    expect(act).toThrow(/not a mailbox/);
  });
});
