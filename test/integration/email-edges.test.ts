import { domainToASCII } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '#lib/domain/message.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import { drainWith, headerOf, mailgunMail, postMailgunMail, sesRuntime } from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { signMailgun, TEST_NOW, TEST_SIGNING_KEY } from '#test/support/mailgun-factory.ts';
import { memoryLog } from '#test/support/silent-log.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
  contact: { key: string };
  ack: { state: string; reason?: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

async function inboundMessages(sb: TestSwitchboard): Promise<Message[]> {
  const all: Message[] = [];
  for (const conversation of await conversations(sb)) {
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 1_000 });
    all.push(...messages.filter((message) => message.direction === 'inbound'));
  }
  return all;
}

// Inbound email at its edges: an autoresponder marked only by Precedence, Mailgun's retry of a
// POST we failed, a Message-Id reused by another mail, a mail built to outgrow DynamoDB's item,
// a person's reply (never marked automatic), and a customer's own mail after their list post.
// Found by a review of the email paths at stop 22.

describe('inbound email at its edges', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it('should not drop a different customer’s mail that reuses a Message-ID already seen through Mailgun', async () => {
    // Prepare: two senders whose mailers produce the same Message-ID.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const messageId = '1@scanner.local';
    await postMailgunMail(sb, { from: 'Jan <jan@firma-a.example>', messageId });

    // Act
    const second = await postMailgunMail(sb, {
      from: 'Ewa <ewa@firma-b.example>',
      messageId,
      body: 'Inna sprawa.',
    });
    await sb.drain();

    // Assess
    expect(second.status).toBe(200);
    const keysSeen = (await conversations(sb)).map((c) => c.contact.key).sort();
    expect(keysSeen).toEqual(['email:ewa@firma-b.example', 'email:jan@firma-a.example']);
  });

  it('should record both of two mails of one sender whose Message-ID and subject differ only where a NUL stands (the same-mail key)', async () => {
    // Prepare: the first mail's Message-ID ends with a NUL and it has no subject; the second's
    // Message-ID is the first's without it, and its subject is that NUL (a Mailgun form keeps it)
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const from = 'Ewa <ewa@firma-b.example>';
    await postMailgunMail(sb, { from, messageId: 'n1@firma-b.example\u0000', subject: '' });

    // Act
    const second = await postMailgunMail(sb, { from, messageId: 'n1@firma-b.example', subject: '\u0000' });
    await sb.drain();

    // Assess: two mails, each recorded (the second is no copy of the first)
    expect(second.status).toBe(200);
    expect((await inboundMessages(sb)).map((message) => message.email?.messageId).sort()).toEqual([
      'n1@firma-b.example',
      'n1@firma-b.example\u0000',
    ]);
  });

  it('should not acknowledge an autoresponder that marks itself only with Precedence: auto_reply', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunMail({
      from: 'Biuro <biuro@firma.example>',
      messageId: 'vacation-1@firma.example',
      subject: 'Autoreply: Pytanie o fakturę',
      body: 'Jestem na urlopie do 20 listopada.',
      extraHeaders: [['Precedence', 'auto_reply']],
    });

    // Act
    await sb.postMailgun(signMailgun(form));
    await sb.drain();

    // Assess
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should finish a Mailgun mail whose first POST failed mid-record when Mailgun retries it 10 minutes later', async () => {
    // Prepare: the first delivery stores the message, then dies before its conversation is written.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const signed = signMailgun(
      mailgunMail({ from: 'Zofia <zofia.wojcik@poczta.example.pl>', messageId: 'retry-1@poczta.example.pl' }),
    );
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });
    const first = await sb.postMailgun(signed);
    fault.remove();

    // Act: Mailgun's first retry of a route POST comes after 10 minutes, with the same form.
    sb.clock.advance(10 * 60_000);
    const retry = await sb.postMailgun(signed);
    await sb.drain();

    // Assess
    expect(first.status).toBe(500);
    expect(retry.status).toBe(200);
    expect((await conversations(sb)).map((c) => c.ack?.state)).toEqual(['sent']);
  });

  it('should store (not 5xx forever) a long mail with a long References chain and many attachments, within the 400 KB item', async () => {
    // Prepare: every part within what the normalizer accepts on its own: inline text under
    // MAX_INLINE_TEXT, 100 references of under 998 octets, and Mailgun attachments (uncapped,
    // unlike the 50 of the MIME path), each only a media entry in the message item.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const body = 'Szczegoly zamowienia w zalacznikach. '.repeat(1_700);
    const references = Array.from(
      { length: 100 },
      (_, i) => `<${String(i).padStart(3, '0')}${'x'.repeat(960)}@example.jp>`,
    );
    const form = mailgunMail({ from: 'Yuki <yuki@example.jp>', messageId: 'long-1@example.jp', body });
    form.set('References', references.join(' '));
    const files = Array.from({ length: 950 }, (_, i) => ({
      field: `attachment-${i + 1}`,
      filename: `Dokumentacja fotograficzna szkody - samochod WX 12345 - zdjecie ${String(i).padStart(4, '0')} z 0950 (oryginal).jpeg`,
    }));
    form.set('attachment-count', String(files.length));
    const signed = signMailgun(form);
    const data = new FormData();
    for (const [name, value] of signed) data.append(name, value);
    for (const file of files)
      data.append(file.field, new Blob([new Uint8Array([0xff])], { type: 'image/jpeg' }), file.filename);

    // Act
    const response = await sb.runtime.app.request('/webhooks/email/mailgun', { method: 'POST', body: data });

    // Assess
    expect(response.status).toBe(200);
    const stored = await inboundMessages(sb);
    expect(stored).toHaveLength(1);
  });

  it('should not mark an agent’s own reply Auto-Submitted: auto-replied (RFC 3834 §5 is for automatic responses)', async () => {
    // Prepare: the mail recorded, and the http function as deployed: SES as the email sender.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    await postMailgunMail(sb, {
      from: 'Zofia <zofia.wojcik@poczta.example.pl>',
      messageId: 'q-1@poczta.example.pl',
    });
    const [conversation] = await conversations(sb);
    const ses = await startFakeSes();
    const http = sesRuntime(sb, ses);

    // Act: a person writes the answer.
    const response = await http.app.request(`/api/conversations/${conversation?.id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': 'agent-reply-1',
      },
      body: JSON.stringify({ text: 'Faktura jest w załączniku, pozdrawiam.' }),
    });
    await ses.close();

    // Assess
    expect(response.status).toBeLessThan(300);
    expect(ses.requests).toHaveLength(1);
    expect(ses.requests[0]?.rawMime).not.toMatch(/^Auto-Submitted: auto-replied/m);
  });

  it('should acknowledge a customer’s own mail that follows their list post into the same waiting episode', async () => {
    // Prepare: the customer's post to a mailing list we are subscribed to comes in first.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const from = 'Zofia <zofia.wojcik@poczta.example.pl>';
    await postMailgunMail(sb, {
      from,
      messageId: 'list-post-1@poczta.example.pl',
      subject: '[klienci] Pytanie do wszystkich',
      extraHeaders: [
        ['List-Id', 'Klienci <klienci.lists.sklep.example>'],
        ['Precedence', 'list'],
      ],
    });

    // Act: then she writes to us directly.
    sb.clock.advance(60_000);
    await postMailgunMail(sb, { from, messageId: 'direct-1@poczta.example.pl' });
    await sb.drain();

    // Assess
    expect(await inboundMessages(sb)).toHaveLength(2);
    expect(await sb.outbox()).toHaveLength(1);
  });
});

// Mailgun signs only `timestamp + token`, not the form: a signature seen once could carry
// another mail. Found at stop 23: the token was remembered only after its mail was stored.
describe('a Mailgun token bound to its mail', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  const mail = (from: string, body: string, token: string) =>
    signMailgun(mailgunMail({ from, messageId: `${token}@poczta.example.pl`, body }), { token });

  it('should refuse another mail carrying a token whose own mail is still being stored', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const token = 'a'.repeat(50);

    // Act: the genuine POST and a copy of its signature on another form, at the same moment.
    const [genuine, forged] = await Promise.all([
      sb.postMailgun(mail('Zofia <zofia@poczta.example.pl>', 'Proszę o fakturę.', token)),
      sb.postMailgun(mail('Mallory <m@evil.example>', 'Kliknij tutaj.', token)),
    ]);
    await sb.drain();

    // Assess
    expect([genuine.status, forged.status].sort()).toEqual([200, 406]);
    expect(await conversations(sb)).toHaveLength(1);
  });

  it('should refuse another mail on a token whose first POST failed, and still take Mailgun’s retry of it', async () => {
    // Prepare: the genuine POST fails before anything is stored.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const token = 'b'.repeat(50);
    const genuine = mail('Zofia <zofia@poczta.example.pl>', 'Proszę o fakturę.', token);
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });
    const first = await sb.postMailgun(genuine);
    fault.remove();

    // Act
    const forged = await sb.postMailgun(mail('Mallory <m@evil.example>', 'Kliknij tutaj.', token));
    sb.clock.advance(10 * 60_000);
    const retry = await sb.postMailgun(genuine);
    await sb.drain();

    // Assess
    expect([first.status, forged.status, retry.status]).toEqual([500, 406, 200]);
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['email:zofia@poczta.example.pl']);
  });
});

/** Where SES was asked to deliver each send, and the To header each carried. */
function sesRecipients(ses: FakeSes): Array<{ destination: string[] | undefined; to: string | undefined }> {
  return ses.requests.map((request) => ({
    destination: (request.body as { Destination?: { ToAddresses?: string[] } }).Destination?.ToAddresses,
    to: headerOf(request.rawMime, 'To'),
  }));
}

// Mailgun signs with a rotated key at once, while a warm instance still holds the old one until
// the secret is put and every function touched (docs/deploy.md, "Rotating a secret"). Found at
// stop 25: a signature that did not match was answered 406, after which Mailgun never retries,
// so every mail of the rotation window was lost.
describe('rotating the Mailgun signing key', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it('should answer a mail signed with the rotated key with a status Mailgun retries, so the refreshed function records it', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    expect(sb.config.mailgun?.signingKey).toBe(TEST_SIGNING_KEY);
    const rotated = 'key-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const form = signMailgun(
      mailgunMail({ from: 'Ewa Nowak <ewa@klient.example>', messageId: 'rot-1@klient.example' }),
      { key: rotated },
    );

    // Act: Mailgun posts the mail to the warm instance, then (it retries anything but 200 and
    // 406, with the form it first signed) to a fresh instance that has the new key.
    const warm = await sb.postMailgun(form);
    sb.clock.advance(10 * 60_000);
    const fresh = createRuntime({
      config: { ...sb.config, mailgun: { signingKey: rotated } },
      dynamodb: sb.backends.dynamodb,
      sqs: sb.backends.sqs,
      log: memoryLog(),
      clock: sb.clock,
      outbox: { send: async () => ({ providerMessageId: null, status: 'queued' }) },
    });
    const retry = await fresh.app.request('/webhooks/email/mailgun', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });

    // Assess: a refusal Mailgun retries (403), and the refreshed function records the mail
    expect({ warm: warm.status, retriedByMailgun: warm.status !== 406 && warm.status !== 200 }).toEqual({
      warm: 403,
      retriedByMailgun: true,
    });
    expect(retry.status).toBe(200);
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['email:ewa@klient.example']);
  });
});

// Who an email contact is and where answers to them go: an RFC 5322 quoted local part, an
// internationalized domain (Unicode or Punycode, SES sends only the latter) and Reply-To
// (RFC 5322 §3.6.2). Found at stop 23 by reviews of contact identity and of the texts customers get.
describe('an email contact and where answers go', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes | undefined;

  afterEach(async () => {
    await ses?.close();
    ses = undefined;
    await sb?.stop();
  });

  /** Switchboard at TEST_NOW with `env`, a fake SES, and the SES runtime over them. */
  const startWithSes = async (env?: Record<string, string>): Promise<{ http: Runtime; ses: FakeSes }> => {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...(env ? { env } : {}) });
    const started = await startFakeSes();
    ses = started;
    return { http: sesRuntime(sb, started), ses: started };
  };

  const agentReply = (http: Runtime, conversationId: string) =>
    http.app.request(`/api/conversations/${conversationId}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': `reply-${conversationId}`,
      },
      body: JSON.stringify({ text: 'Dzień dobry, faktura jest w drodze.' }),
    });

  it('should record and answer a mail whose From has a quoted local part ("jan kowalski"@firma.example)', async () => {
    // Prepare
    const { http, ses } = await startWithSes();

    // Act: an RFC 5322-valid author address
    const response = await postMailgunMail(sb, {
      from: 'Jan Kowalski <"jan kowalski"@firma.example>',
      messageId: 'q1@firma.example',
    });
    await drainWith(sb, http);

    // Assess: recorded in a conversation (a 4xx here loses the mail: Mailgun gives up), and acknowledged
    expect(response.status).toBe(200);
    const items = await conversations(sb);
    expect(items).toHaveLength(1);
    expect(items[0]?.contact.key).toBe('email:"jan kowalski"@firma.example');
    expect(sesRecipients(ses)).toEqual([
      { destination: ['"jan kowalski"@firma.example'], to: '<"jan kowalski"@firma.example>' },
    ]);
  });

  it('should send an answer to an internationalized domain in the Punycode form SES requires', async () => {
    // Prepare: a customer whose mail client writes the domain in Unicode (SMTPUTF8 / EAI)
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    await postMailgunMail(sb, { from: 'Zofia <zofia@żółw.example>', messageId: 'idn1@poczta.example' });
    const [conversation] = await conversations(sb);
    ses = await startFakeSes();

    // Act
    const response = await agentReply(sesRuntime(sb, ses), conversation?.id as string);

    // Assess: SES takes no SMTPUTF8; a non-ASCII domain must be given as Punycode (RFC 3492)
    expect(response.status).toBeLessThan(300);
    const punycode = `zofia@${domainToASCII('żółw.example')}`;
    expect(sesRecipients(ses)).toEqual([{ destination: [punycode], to: `<${punycode}>` }]);
  });

  it('should key one person the same whether their mail client writes the domain in Unicode or in Punycode', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

    // Act: the same address, from a client with SMTPUTF8 and from one without
    await postMailgunMail(sb, { from: 'Zofia <zofia@żółw.example>', messageId: 'idn1@poczta.example' });
    sb.clock.advance(60_000);
    await postMailgunMail(sb, {
      from: `Zofia <ZOFIA@${domainToASCII('żółw.example')}>`,
      messageId: 'idn2@poczta.example',
    });

    // Assess
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual([
      `email:zofia@${domainToASCII('żółw.example')}`,
    ]);
  });

  it('should send the acknowledgement and the answer to the Reply-To address the mail names, and key the contact by it (RFC 5322 §3.6.2)', async () => {
    // Prepare: a mail sent by a web form in the customer's name, replies asked to the customer
    const { http, ses } = await startWithSes();
    await postMailgunMail(sb, {
      from: 'Formularz kontaktowy <formularz@strona-klienta.example>',
      messageId: 'form-1@strona-klienta.example',
      extraHeaders: [['Reply-To', 'Jan Nowak <jan.nowak@klient.example>']],
    });
    const [conversation] = await conversations(sb);

    // Act: the acknowledgement, then a person answers
    await drainWith(sb, http);
    const response = await agentReply(http, conversation?.id as string);

    // Assess: the contact is the person our answers reach; both letters where the customer asked
    expect(response.status).toBe(201);
    expect(conversation?.contact.key).toBe('email:jan.nowak@klient.example');
    expect(sesRecipients(ses)).toEqual([
      { destination: ['jan.nowak@klient.example'], to: '<jan.nowak@klient.example>' },
      { destination: ['jan.nowak@klient.example'], to: '<jan.nowak@klient.example>' },
    ]);
  });

  it('should acknowledge each person who writes through the same web form (one From, their own Reply-To) in a conversation of their own', async () => {
    // Prepare: found at stop 23 (review d2): keyed by the form's From, the second person joined
    // the first one's episode unacknowledged, and the route then pointed at them: an answer to
    // the first person's question would have gone to the second.
    const { http, ses } = await startWithSes();
    await postMailgunMail(sb, {
      from: 'Formularz kontaktowy <formularz@strona-klienta.example>',
      messageId: 'form-1@strona-klienta.example',
      body: 'Dzień dobry, zamówienie 1001 nie doszło. Jan Nowak, ul. Polna 1, Kraków.',
      extraHeaders: [['Reply-To', 'Jan Nowak <jan.nowak@klient.example>']],
    });
    await drainWith(sb, http);
    sb.clock.advance(5 * 60_000);

    // Act: another person submits the same form
    await postMailgunMail(sb, {
      from: 'Formularz kontaktowy <formularz@strona-klienta.example>',
      messageId: 'form-2@strona-klienta.example',
      body: 'Dzień dobry, chcę zwrócić buty z zamówienia 2002.',
      extraHeaders: [['Reply-To', 'Ewa Lis <ewa.lis@inna-firma.example>']],
    });
    await drainWith(sb, http);

    // Assess: each person is told when they will hear back, in a conversation with them; the
    // form stays recorded as the author
    expect(
      sesRecipients(ses)
        .flatMap((send) => send.destination)
        .sort(),
    ).toEqual(['ewa.lis@inna-firma.example', 'jan.nowak@klient.example']);
    expect((await conversations(sb)).map((conversation) => conversation.contact.key).sort()).toEqual([
      'email:ewa.lis@inna-firma.example',
      'email:jan.nowak@klient.example',
    ]);
    expect(new Set((await inboundMessages(sb)).map((message) => message.from))).toEqual(
      new Set(['formularz@strona-klienta.example']),
    );
  });

  it('should answer at the From when the Reply-To has a non-ASCII local part SES cannot send to', async () => {
    // Prepare: found at stop 23 (review d2): the ack failed for good and no agent could answer
    const { http, ses } = await startWithSes();

    // Act: an ASCII From (sendable) whose Reply-To has an EAI (UTF-8) local part
    await postMailgunMail(sb, {
      from: 'Józef Wójcik <jozef@firma.example>',
      messageId: 'eai-1@firma.example',
      extraHeaders: [['Reply-To', 'Józef Wójcik <józef@firma.example>']],
    });
    await drainWith(sb, http);
    const [conversation] = await conversations(sb);
    const reply = await agentReply(http, conversation?.id as string);

    // Assess: the acknowledgement and the agent's answer reach the From
    expect(conversation?.ack?.state).toBe('sent');
    expect(reply.status).toBe(201);
    expect(sesRecipients(ses).flatMap((send) => send.destination)).toEqual([
      'jozef@firma.example',
      'jozef@firma.example',
    ]);
  });

  it('should answer the From of a list post and of a mail whose Reply-To is our own address', async () => {
    // Prepare: a list post (its Reply-To is the list) and a mail that names us as Reply-To
    const { http, ses } = await startWithSes({ SES_FROM_ADDRESS: 'Anna Kowalska <anna@sklep.example>' });
    await postMailgunMail(sb, {
      from: 'Zofia <zofia@poczta.example.pl>',
      messageId: 'list-1@poczta.example.pl',
      extraHeaders: [
        ['List-Id', 'Klienci <klienci.lists.example>'],
        ['Reply-To', 'klienci@lists.example'],
      ],
    });
    await postMailgunMail(sb, {
      from: 'Jan <jan@firma.example>',
      messageId: 'loop-1@firma.example',
      extraHeaders: [['Reply-To', 'Anna Kowalska <ANNA@sklep.example>']],
    });

    // Act
    for (const conversation of await conversations(sb)) await agentReply(http, conversation.id);

    // Assess: never to every member of the list, never to ourselves
    expect(
      sesRecipients(ses)
        .flatMap((send) => send.destination)
        .sort(),
    ).toEqual(['jan@firma.example', 'zofia@poczta.example.pl']);
  });
});
