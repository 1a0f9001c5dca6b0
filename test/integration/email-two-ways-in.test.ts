import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { SNS_MAX_AGE_MS } from '#lib/channels/ses/verify.ts';
import type { Message } from '#lib/domain/message.ts';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail, type PlainMail, postMailgunMail, rawMime } from '#test/support/email.ts';
import {
  fixtureFiles,
  mailgunMultipartRequest,
  signMailgun,
  TEST_NOW,
} from '#test/support/mailgun-factory.ts';
import {
  sesFixture,
  signSns,
  snsKeys,
  snsNotification,
  TEST_CERT_URL,
  TEST_TOPIC_ARN,
} from '#test/support/sns-signer.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// One mail, two ways in: both Mailgun and SES inbound configured (a move from one to the
// other, or MX records naming both). The same mail must be recorded once and acknowledged
// once whichever way delivers it first; a Message-ID another sender (or another mail) reuses
// must not swallow a real mail. Carried from earlier stops, fixed at stop 26.

const keys = snsKeys();
const fakeNetwork: typeof fetch = async (input) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url === TEST_CERT_URL) return new Response(keys.certificatePem);
  return new Response('<ConfirmSubscriptionResponse/>', { status: 200 });
};

/** The raw MIME of a plain mail with the fixtures' attachments (multipart/mixed, base64 parts). */
function rawMimeWithFiles(mail: PlainMail, files = fixtureFiles()): string {
  const [head = '', body = ''] = rawMime(mail).split('\r\n\r\n');
  const boundary = 'b1_two_ways_in';
  const parts = [
    ['Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: base64', '', body.trim()].join(
      '\r\n',
    ),
    ...files.map((file) =>
      [
        `Content-Type: ${file.contentType}; name="=?UTF-8?B?${Buffer.from(file.filename).toString('base64')}?="`,
        'Content-Disposition: attachment',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(file.content).toString('base64'),
      ].join('\r\n'),
    ),
  ];
  const headers = head
    .split('\r\n')
    .filter((line) => !/^Content-(Type|Transfer-Encoding):/i.test(line))
    .concat(`Content-Type: multipart/mixed; boundary="${boundary}"`);
  return `${headers.join('\r\n')}\r\n\r\n${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('')}--${boundary}--\r\n`;
}

/** The same mail as SES's SNS notification, signed, with a fresh SES message id. */
function sesDelivery(mail: PlainMail, raw = rawMime(mail)): Record<string, string> {
  const notification = sesFixture('received-inline') as {
    mail: Record<string, unknown>;
    receipt: Record<string, unknown>;
  };
  const sesMessageId = randomUUID().replace(/-/g, '');
  const message = {
    ...notification,
    mail: { ...notification.mail, messageId: sesMessageId, source: 'sender@bounce.example' },
    receipt: { ...notification.receipt, recipients: ['anna@mg.sklep.example'] },
    content: Buffer.from(raw).toString('base64'),
  };
  return signSns(snsNotification(message), keys);
}

describe('one mail through both Mailgun and SES', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  async function start(): Promise<void> {
    sb = await startTestSwitchboard({
      clock: new TestClock(TEST_NOW),
      env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN },
      fetch: fakeNetwork,
    });
  }

  async function postSes(mail: PlainMail, raw?: string): Promise<Response> {
    const message = sesDelivery(mail, raw);
    return sb.runtime.app.request('/webhooks/email/ses', {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: JSON.stringify(message),
    });
  }

  async function inboundMessages(): Promise<Message[]> {
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    const all: Message[] = [];
    for (const conversation of items) {
      const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
      all.push(...messages.filter((message) => message.direction === 'inbound'));
    }
    return all;
  }

  const zofia: PlainMail = {
    from: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
    messageId: 'CAH7x9kq3Zp1Lw8@mail.poczta.example.pl',
    subject: 'Pytanie o fakturę za wrzesień',
    body: 'Dzień dobry,\n\nczy mogę prosić o fakturę VAT za wrzesień?\n\nZ poważaniem\nZofia Wójcik',
  };

  it('should record and acknowledge once a mail SES delivers first and Mailgun after', async () => {
    // Prepare
    await start();

    // Act
    const responses = [await postSes(zofia), await postMailgunMail(sb, zofia)];
    await sb.drain();

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    const messages = await inboundMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.provider).toBe('ses');
    expect(await sb.outbox()).toHaveLength(1);
    const received = (await sb.events()).filter((event) => event.type === 'message.received');
    expect(received).toHaveLength(1);
  });

  it('should record and acknowledge once a mail Mailgun delivers first and SES after', async () => {
    // Prepare
    await start();

    // Act
    const responses = [await postMailgunMail(sb, zofia), await postSes(zofia)];
    await sb.drain();

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    const messages = await inboundMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.provider).toBe('mailgun');
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should not answer again a mail the other way delivers after an agent replied to it', async () => {
    // Prepare: SES delivered the mail, it was acknowledged and answered.
    await start();
    await postSes(zofia);
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Faktura jest w załączniku, pozdrawiam.',
    });
    expect(reply.status).toBe(201);

    // Act: Mailgun's copy of the same mail comes later (its retry of a POST we failed).
    sb.clock.advance(20 * 60_000);
    const response = await postMailgunMail(sb, zofia);
    await sb.drain();

    // Assess: not a new waiting episode, no second acknowledgement.
    expect(response.status).toBe(200);
    const acks = (await sb.outbox()).filter((sent) => sent.automatic);
    expect(acks).toHaveLength(1);
    expect(await inboundMessages()).toHaveLength(1);
  });

  it('should record the same mail once when both ways deliver it at the same moment', async () => {
    // Prepare
    await start();

    // Act
    const responses = await Promise.all([postSes(zofia), postMailgunMail(sb, zofia), postSes(zofia)]);
    await sb.drain();

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(await inboundMessages()).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should record and acknowledge once a mail with attachments, however each way reads them', async () => {
    // Prepare: Mailgun posts the files as multipart parts, SES stores the MIME they came in
    await start();
    const request = await mailgunMultipartRequest(signMailgun(mailgunMail(zofia)), fixtureFiles());

    // Act
    const viaSes = await postSes(zofia, rawMimeWithFiles(zofia));
    const viaMailgun = await sb.runtime.app.request('/webhooks/email/mailgun', {
      method: 'POST',
      headers: request.headers,
      body: request.rawBytes ? new Uint8Array(request.rawBytes) : request.rawBody,
    });
    await sb.drain();

    // Assess
    expect([viaSes.status, viaMailgun.status]).toEqual([200, 200]);
    const messages = await inboundMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.media.map((file) => file.size)).toEqual(
      fixtureFiles().map((file) => file.content.byteLength),
    );
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should keep the real attachments when a forged copy with files of the same sizes came first the other way', async () => {
    // Prepare: a copy of Zofia's mail sent first through SES, its invoice swapped for another of
    // the same size (another account number)
    await start();
    const swapped = fixtureFiles().map((file) => ({
      ...file,
      content:
        file.contentType === 'application/pdf'
          ? file.content.map((byte) => (byte === 0x31 ? 0x37 : byte))
          : file.content,
    }));
    expect(swapped[0]?.content).not.toEqual(fixtureFiles()[0]?.content);
    const forged = await postSes(zofia, rawMimeWithFiles(zofia, swapped));

    // Act: her real mail with her files through Mailgun
    const request = await mailgunMultipartRequest(signMailgun(mailgunMail(zofia)), fixtureFiles());
    const real = await sb.runtime.app.request('/webhooks/email/mailgun', {
      method: 'POST',
      headers: request.headers,
      body: request.rawBytes ? new Uint8Array(request.rawBytes) : request.rawBody,
    });
    await sb.drain();

    // Assess: her mail, with her files, is recorded too
    expect([forged.status, real.status]).toEqual([200, 200]);
    expect((await inboundMessages()).map((message) => message.provider).sort()).toEqual(['mailgun', 'ses']);
  });

  it('should record both mails when another sender reuses the Message-ID on the other way in', async () => {
    // Prepare
    await start();
    await postSes(zofia);

    // Act: a forged (or colliding) Message-ID from someone else, with the same words.
    const response = await postMailgunMail(sb, { ...zofia, from: 'Jan Nowak <jan@firma.example>' });
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const froms = (await inboundMessages()).map((message) => message.from).sort();
    expect(froms).toEqual(['jan@firma.example', 'zofia.wojcik@poczta.example.pl']);
    expect(await sb.outbox()).toHaveLength(2);
  });

  it('should record and acknowledge the real mail when a forged copy sending answers elsewhere came first the other way', async () => {
    // Prepare: someone who saw Zofia's mail (a copy, a list) sends it first through SES with
    // her Message-ID, From, subject and words, but a Reply-To of their own
    await start();
    const forged = await postSes({ ...zofia, extraHeaders: [['Reply-To', 'faktury@oszust.example']] });

    // Act: Zofia's real mail comes through Mailgun
    const real = await postMailgunMail(sb, zofia);
    await sb.drain();

    // Assess: her mail is hers, recorded in her conversation and acknowledged to her
    expect([forged.status, real.status]).toEqual([200, 200]);
    const contacts = (await inboundMessages()).map((message) => message.contactKey).sort();
    expect(contacts).toEqual(['email:faktury@oszust.example', 'email:zofia.wojcik@poczta.example.pl']);
    const acks = (await sb.outbox()).filter((sent) => sent.automatic);
    expect(acks.map((ack) => ack.to).sort()).toEqual([
      'faktury@oszust.example',
      'zofia.wojcik@poczta.example.pl',
    ]);
  });

  it('should record both mails when one sender’s mailer gives two different mails the same Message-ID', async () => {
    // Prepare
    await start();
    await postMailgunMail(sb, zofia);

    // Act
    const response = await postSes({
      ...zofia,
      body: 'I jeszcze jedno: proszę o duplikat faktury za sierpień.',
    });
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect(await inboundMessages()).toHaveLength(2);
  });

  it('should record both of two mails without a Message-ID (nothing to tell them apart by)', async () => {
    // Prepare
    await start();
    const { messageId: _none, ...withoutId } = zofia;
    await postSes(withoutId);

    // Act
    const response = await postMailgunMail(sb, withoutId);
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect(await inboundMessages()).toHaveLength(2);
  });

  // Found at stop 26: the same-mail record had no expiresAt and was kept for ever, one item per
  // mail with a Message-ID. It must outlive every later delivery of the mail: SES's through SNS
  // is accepted for 30 days after SNS signed it (a retry, a redrive from the 14-day DLQ), after a
  // sending server may have held the mail for up to 5 days (RFC 5321); Mailgun's for 9 hours.
  it('should give the same-mail record the table TTL, past the last day either way can still deliver the mail', async () => {
    // Prepare
    await start();

    // Act: Mailgun first, SES after (its copy names the first delivery)
    await postMailgunMail(sb, zofia);
    sb.clock.advance(3 * 60 * 60_000);
    await postSes(zofia);
    await sb.drain();

    // Assess: one record, expiring (DynamoDB TTL, epoch seconds) after SNS's signature window
    // plus a sender's 5 days of retries, counted from the last delivery; not years later
    const { Items = [] } = await sb.backends.dynamodb.send(
      new ScanCommand({
        TableName: sb.backends.tableName,
        FilterExpression: 'begins_with(pk, :same)',
        ExpressionAttributeValues: { ':same': { S: 'SAMEMSG#' } },
      }),
    );
    const records = Items.map((item) => unmarshall(item));
    expect(records).toHaveLength(1);
    const expiresAt = records[0]?.expiresAt;
    expect(typeof expiresAt, 'SAMEMSG item has no expiresAt (kept for ever)').toBe('number');
    const nowSeconds = sb.clock.now().getTime() / 1000;
    const days = (seconds: number) => seconds * 24 * 60 * 60;
    expect(expiresAt).toBeGreaterThanOrEqual(nowSeconds + SNS_MAX_AGE_MS / 1000 + days(5));
    expect(expiresAt).toBeLessThanOrEqual(nowSeconds + days(60));
    expect(records[0]?.provider).toBe('mailgun');
    expect(await inboundMessages()).toHaveLength(1);
  });
});
