import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetaChannel } from '#lib/channels/meta/index.ts';
import {
  createInstagramSender,
  createMessengerSender,
  createWhatsAppCloudSender,
  DEFAULT_GRAPH_VERSION,
  type MetaSenderOptions,
  messageIdOfTag,
} from '#lib/channels/meta/send.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import {
  FAKE_INSTAGRAM_TOKEN,
  FAKE_PAGE_TOKEN,
  FAKE_PHONE_NUMBER_ID,
  FAKE_WHATSAPP_TOKEN,
  type FakeMeta,
  GRAPH_FAILURES,
  startFakeMeta,
} from '#test/support/fake-meta.ts';
import { IGSID, PAGE_ID, PSID } from '#test/support/meta-factory.ts';

const MESSENGER: OutboundText = {
  channel: 'messenger',
  provider: 'meta',
  to: PSID,
  from: PAGE_ID,
  text: 'Dzień dobry! Odpowiemy do jutra, 10:00. — Anna Nowak, +48 22 123 45 67',
  idempotencyKey: 'msg_01',
};
const WHATSAPP: OutboundText = {
  ...MESSENGER,
  channel: 'whatsapp',
  to: '+48601234567',
  from: '+48221234567',
};

let meta: FakeMeta;

beforeEach(async () => {
  meta = await startFakeMeta();
});

afterEach(async () => {
  await meta.close();
});

function messenger(options: Partial<MetaSenderOptions> = {}) {
  return createMessengerSender({
    accessToken: FAKE_PAGE_TOKEN,
    graphBaseUrl: meta.url,
    baseDelayMs: 20,
    ...options,
  });
}

function whatsapp(options: Partial<MetaSenderOptions> = {}) {
  return createWhatsAppCloudSender({
    accessToken: FAKE_WHATSAPP_TOKEN,
    phoneNumberId: FAKE_PHONE_NUMBER_ID,
    graphBaseUrl: meta.url,
    baseDelayMs: 20,
    ...options,
  });
}

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SendError)) throw new Error(`expected SendError, got ${String(error)}`);
  return error;
}

describe('createMessengerSender', () => {
  it('should post the documented body to /me/messages with the Page token as Bearer', async () => {
    // Act
    const receipt = await messenger().send(MESSENGER);

    // Assess
    expect(receipt.status).toBe('sent');
    expect(receipt.providerMessageId).toMatch(/^m_/);
    const [request] = meta.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/${DEFAULT_GRAPH_VERSION}/me/messages`);
    expect(request?.query).toEqual({});
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_PAGE_TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({
      recipient: { id: PSID },
      messaging_type: 'RESPONSE',
      message: { text: MESSENGER.text, metadata: 'switchboard:msg_01' },
    });
  });

  it("should tag a person's reply after the 24-hour window HUMAN_AGENT, and never an automatic message", async () => {
    // Act
    await messenger().send({ ...MESSENGER, humanAgent: true });
    await messenger().send({ ...MESSENGER, humanAgent: true, automatic: true });
    await messenger().send({ ...MESSENGER, automatic: true });

    // Assess: Meta allows the tag for people only (an ack or a notice is a bot's)
    expect(meta.requests.map((request) => request.body)).toEqual([
      {
        recipient: { id: PSID },
        messaging_type: 'MESSAGE_TAG',
        tag: 'HUMAN_AGENT',
        message: { text: MESSENGER.text, metadata: 'switchboard:msg_01' },
      },
      {
        recipient: { id: PSID },
        messaging_type: 'RESPONSE',
        message: { text: MESSENGER.text, metadata: 'switchboard:msg_01' },
      },
      {
        recipient: { id: PSID },
        messaging_type: 'RESPONSE',
        message: { text: MESSENGER.text, metadata: 'switchboard:msg_01' },
      },
    ]);
  });

  it('should send a text of 2000 characters whole, and refuse a longer one permanently without calling Meta, never cutting it', async () => {
    // Prepare: stop 25, a cut dropped the reply's signature and stored a text never sent
    const whole = 'Słowo '.repeat(333).concat('ok');
    expect(whole).toHaveLength(2000);

    // Act
    await messenger().send({ ...MESSENGER, text: whole });
    const error = await sendError(messenger().send({ ...MESSENGER, text: `${whole}!` }));

    // Assess
    expect((meta.requests[0]?.body as { message?: { text?: string } } | undefined)?.message?.text).toBe(
      whole,
    );
    expect(error).toMatchObject({ permanent: true, providerCode: 'too-long' });
    expect(meta.requests).toHaveLength(1);
  });

  it.each([
    ['outside the 24 h window', GRAPH_FAILURES.outsideWindow, 'outside-window'],
    ['outside the Instagram window', GRAPH_FAILURES.instagramOutsideWindow, 'outside-window'],
    ['a person who is not available', GRAPH_FAILURES.unavailable, 'undeliverable'],
    [
      'a person not receiving messages from us (10/2018108)',
      { status: 400, code: 10, subcode: 2018108, message: "(#10) This person isn't receiving messages" },
      'undeliverable',
    ],
  ])('should fail permanently without retrying for %s', async (_case, failure, providerCode) => {
    // Prepare
    meta.failNext(1, failure);

    // Act
    const error = await sendError(messenger().send(MESSENGER));

    // Assess
    expect(error.permanent).toBe(true);
    expect(error.code).toBe('SEND_REJECTED');
    expect(error.providerCode).toBe(providerCode);
    expect(meta.requests).toHaveLength(1);
  });

  it('should fail as ours, not permanently and without retrying in the call, when Graph refuses the token, without leaking it', async () => {
    // Prepare: found at stop 23: an expired Page token failed every ack for good.
    const sender = messenger({ accessToken: 'EAAwrongToken000000000000' });

    // Act
    const error = await sendError(sender.send(MESSENGER));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.ours).toBe(true);
    expect(error.code).toBe('SEND_UNAUTHORIZED');
    expect(error.providerCode).toBe('190');
    expect(meta.requests).toHaveLength(1);
    expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error)}`).not.toContain('EAAwrong');
  });

  it.each([
    [
      'permission denied (10, no subcode)',
      { status: 403, code: 10, message: '(#10) Permission denied' },
      '10',
    ],
    [
      'an expired token (190/463)',
      { status: 400, code: 190, subcode: 463, message: 'Session expired' },
      '190:463',
    ],
    ['a capability missing (3)', { status: 400, code: 3, message: 'Capability' }, '3'],
    ['a policy block (368)', { status: 400, code: 368, message: 'Temporarily blocked' }, '368'],
    ['an account locked (131031)', { status: 400, code: 131031, message: 'Account locked' }, '131031'],
  ])(
    'should fail as ours, not permanently and without retrying, for %s',
    async (_case, failure, providerCode) => {
      // Prepare: found at stop 23: our token's and account's refusals failed acks for good.
      meta.failNext(1, failure);

      // Act
      const error = await sendError(messenger().send(MESSENGER));

      // Assess
      expect(error).toMatchObject({ permanent: false, ours: true, providerCode });
      expect(meta.requests).toHaveLength(1);
    },
  );

  it('should retry a 429 after Retry-After and then succeed', async () => {
    // Prepare
    meta.failNext(1, {
      status: 429,
      code: 613,
      message: 'Calls to this api have exceeded the rate limit.',
      retryAfter: '1',
    });
    const started = performance.now();

    // Act
    const receipt = await messenger().send(MESSENGER);

    // Assess
    expect(receipt.providerMessageId).toMatch(/^m_/);
    expect(meta.requests).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('should retry a 500 twice and then fail not permanently', async () => {
    // Prepare
    meta.failNext(3, GRAPH_FAILURES.serverError);

    // Act
    const error = await sendError(messenger().send(MESSENGER));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.code).toBe('SEND_FAILED');
    expect(meta.requests).toHaveLength(3);
  });

  it.each([502, 504])(
    'should not send again in the call when a gateway answers %i (Meta may have taken it), but fail uncertain',
    async (status) => {
      // Prepare: an edge in front of the Graph API answers with its own page
      meta.failNext(3, { status, gateway: true });

      // Act
      const error = await sendError(messenger().send(MESSENGER));

      // Assess
      expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
      expect(meta.requests).toHaveLength(1);
    },
  );

  it('should not send again in the call after a 500 that carries no Graph error (not the Graph API answering), but fail uncertain', async () => {
    // Prepare
    meta.failNext(3, { status: 500, gateway: true });

    // Act
    const error = await sendError(messenger().send(MESSENGER));

    // Assess
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
    expect(meta.requests).toHaveLength(1);
  });

  it('should retry a 503, which says the message was not taken, and then succeed', async () => {
    // Prepare
    meta.failNext(2, { status: 503, gateway: true });

    // Act
    const receipt = await messenger().send(MESSENGER);

    // Assess
    expect(receipt.providerMessageId).toMatch(/^m_/);
    expect(meta.requests).toHaveLength(3);
  });

  it('should retry an error Graph marks transient even on HTTP 400', async () => {
    // Prepare
    meta.failNext(1, { status: 400, code: 1, message: 'Please reduce the amount of data', transient: true });

    // Act
    const receipt = await messenger().send(MESSENGER);

    // Assess
    expect(receipt.status).toBe('sent');
    expect(meta.requests).toHaveLength(2);
  });

  // Found at stop 24: 1200 and the business-use-case rate limits other than Messenger's were
  // failed for good.
  it.each([
    ['(#1200) Temporary send message failure', 1200, 'messenger'],
    ['the Pages rate limit 80001', 80001, 'messenger'],
    ['the Instagram rate limit 80002', 80002, 'messenger'],
    ['the Messenger rate limit 80006', 80006, 'messenger'],
    ['the WhatsApp Business Account rate limit 80007', 80007, 'whatsapp'],
  ] as const)('should retry %s on HTTP 400 and succeed when it clears', async (_case, code, channel) => {
    // Prepare
    meta.failNext(1, { status: 400, code, message: `(#${code}) Please try again later.` });

    // Act
    const receipt =
      channel === 'whatsapp' ? await whatsapp().send(WHATSAPP) : await messenger().send(MESSENGER);

    // Assess
    expect(receipt.status).toBe('sent');
    expect(meta.requests).toHaveLength(2);
  });

  it('should time out a hanging request and fail not permanently, uncertain, without sending it again in the call', async () => {
    // Prepare: stop 25, Meta may have taken a request it did not answer: resending doubled it
    meta.failNext(3, 'hang');
    const started = performance.now();

    // Act
    const error = await sendError(messenger({ timeoutMs: 150, totalBudgetMs: 1000 }).send(MESSENGER));

    // Assess
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
    expect(error.message).toMatch(/no answer within/);
    expect(meta.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1200);
  });

  it('should fail not permanently when Graph cannot be reached', async () => {
    // Prepare
    const url = meta.url;
    await meta.close();
    meta = await startFakeMeta();

    // Act
    const error = await sendError(messenger({ graphBaseUrl: url }).send(MESSENGER));

    // Assess: refused before anything reached Graph, so certainly not sent
    expect(error).toMatchObject({ permanent: false, uncertain: false });
    expect(error.message).toMatch(/network error \(ECONNREFUSED\)/);
  });
});

describe('createInstagramSender', () => {
  it('should post to /me/messages with the Instagram token, and refuse a text over 1000 bytes without cutting it', async () => {
    // Prepare
    const sender = createInstagramSender({ accessToken: FAKE_INSTAGRAM_TOKEN, graphBaseUrl: meta.url });
    // 950 characters, but over 1000 bytes of UTF-8
    const text = 'Zażółć gęślą jaźń. '.repeat(50);
    expect(text.length).toBeLessThan(1000);

    // Act
    const receipt = await sender.send({ ...MESSENGER, channel: 'instagram', to: IGSID });
    const error = await sendError(sender.send({ ...MESSENGER, channel: 'instagram', to: IGSID, text }));

    // Assess
    expect(receipt.providerMessageId).toMatch(/^m_/);
    const request = meta.requests[0];
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_INSTAGRAM_TOKEN}`);
    const body = request?.body as { recipient: { id: string }; message: { text: string } };
    expect(body.recipient.id).toBe(IGSID);
    expect(body.message.text).toBe(MESSENGER.text);
    expect(error).toMatchObject({ permanent: true, providerCode: 'too-long' });
    expect(meta.requests).toHaveLength(1);
  });

  it("should fail permanently as outside the window on Instagram's own subcode, without retrying", async () => {
    // Prepare
    const sender = createInstagramSender({ accessToken: FAKE_INSTAGRAM_TOKEN, graphBaseUrl: meta.url });
    meta.failNext(1, GRAPH_FAILURES.instagramOutsideWindow);

    // Act
    const error = await sendError(sender.send({ ...MESSENGER, channel: 'instagram', to: IGSID }));

    // Assess
    expect(error.permanent).toBe(true);
    expect(error.providerCode).toBe('outside-window');
    expect(meta.requests).toHaveLength(1);
  });
});

describe('createWhatsAppCloudSender', () => {
  it('should post the documented text body to /{phone-number-id}/messages and return the wamid', async () => {
    // Act
    const receipt = await whatsapp().send(WHATSAPP);

    // Assess
    expect(receipt).toEqual({ providerMessageId: expect.stringMatching(/^wamid\./), status: 'sent' });
    const [request] = meta.requests;
    expect(request?.path).toBe(`/${DEFAULT_GRAPH_VERSION}/${FAKE_PHONE_NUMBER_ID}/messages`);
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_WHATSAPP_TOKEN}`);
    expect(request?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '48601234567',
      type: 'text',
      text: { body: WHATSAPP.text, preview_url: false },
      biz_opaque_callback_data: 'switchboard:msg_01',
    });
  });

  // Stop 26: Meta's "Business-scoped user IDs" page: a user known only by a BSUID is messaged
  // with `recipient` (the whole BSUID), not `to`; its digits alone were sent as a phone number.
  it('should send to a business-scoped user id (a username without a number) as `recipient`, never as a number', async () => {
    // Act
    await whatsapp().send({ ...WHATSAPP, to: 'PL.13491208655302741918' });

    // Assess
    expect(meta.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      recipient: 'PL.13491208655302741918',
      type: 'text',
      text: { body: WHATSAPP.text, preview_url: false },
      biz_opaque_callback_data: 'switchboard:msg_01',
    });
  });

  // Stop 26: a send whose answer was lost is found by the status Meta sends for it, which carries
  // this tag; templates take it too (a person's reply after the 24-hour window).
  it('should tag a template send with our message id in biz_opaque_callback_data, as a text send', async () => {
    // Act: the fake approved no template (refused 132001): the request is what counts here
    await whatsapp()
      .send({
        ...WHATSAPP,
        idempotencyKey: 'msg_01jd3q5k8n0000000000000000',
        template: { name: 'odpowiedz_konsultanta', language: 'pl', parameters: ['Jutro rano.', 'Anna'] },
      })
      .catch(() => undefined);

    // Assess
    const body = meta.requests[0]?.body as { type?: string; biz_opaque_callback_data?: string };
    expect(body.type).toBe('template');
    expect(body.biz_opaque_callback_data).toBe('switchboard:msg_01jd3q5k8n0000000000000000');
    expect(messageIdOfTag(body.biz_opaque_callback_data)).toBe('msg_01jd3q5k8n0000000000000000');
  });

  it('should strip a whatsapp: prefix from the recipient', async () => {
    // Act
    await whatsapp().send({ ...WHATSAPP, to: 'whatsapp:+48601234567' });

    // Assess
    expect((meta.requests[0]?.body as { to?: string } | undefined)?.to).toBe('48601234567');
  });

  it.each([
    ['re-engagement (outside the 24 h window)', GRAPH_FAILURES.reengagement, 'outside-window'],
    ['an undeliverable recipient', GRAPH_FAILURES.undeliverable, 'undeliverable'],
  ])('should fail permanently without retrying for %s', async (_case, failure, providerCode) => {
    // Prepare
    meta.failNext(1, failure);

    // Act
    const error = await sendError(whatsapp().send(WHATSAPP));

    // Assess
    expect(error.permanent).toBe(true);
    expect(error.providerCode).toBe(providerCode);
    expect(error.message).not.toContain('48601234567');
    expect(meta.requests).toHaveLength(1);
  });

  it.each([
    ['throughput 130429 (HTTP 429)', GRAPH_FAILURES.throughput],
    ['spam rate limit 131048', GRAPH_FAILURES.spamLimit],
    ['pair rate limit 131056', GRAPH_FAILURES.pairLimit],
  ])('should retry %s and succeed when it clears', async (_case, failure) => {
    // Prepare
    meta.failNext(1, failure);

    // Act
    const receipt = await whatsapp().send(WHATSAPP);

    // Assess
    expect(receipt.providerMessageId).toMatch(/^wamid\./);
    expect(meta.requests).toHaveLength(2);
  });

  it('should fail not permanently with the Graph code when a rate limit outlasts the retries', async () => {
    // Prepare
    meta.failNext(3, GRAPH_FAILURES.throughput);

    // Act
    const error = await sendError(whatsapp().send(WHATSAPP));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.providerCode).toBe('130429');
    expect(meta.requests).toHaveLength(3);
  });

  it('should fail as ours, not permanently, on a wrong token', async () => {
    // Act
    const error = await sendError(whatsapp({ accessToken: FAKE_PAGE_TOKEN }).send(WHATSAPP));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.ours).toBe(true);
    expect(error.providerCode).toBe('190');
    expect(meta.requests).toHaveLength(1);
  });
});

describe('createMetaChannel senders', () => {
  it('should create a sender only for each configured token', () => {
    // Act
    const none = createMetaChannel({ appSecret: 's', verifyToken: 't' });
    const some = createMetaChannel({
      appSecret: 's',
      verifyToken: 't',
      pageAccessToken: FAKE_PAGE_TOKEN,
      whatsappAccessToken: FAKE_WHATSAPP_TOKEN,
      whatsappPhoneNumberId: FAKE_PHONE_NUMBER_ID,
    });

    // Assess
    expect(Object.keys(none.senders)).toEqual([]);
    expect(Object.keys(some.senders).sort()).toEqual(['messenger', 'whatsapp']);
  });

  it('should refuse a WhatsApp token without a phone number id', () => {
    // Act
    const act = () =>
      createMetaChannel({ appSecret: 's', verifyToken: 't', whatsappAccessToken: FAKE_WHATSAPP_TOKEN });

    // Assess
    expect(act).toThrow(/whatsappPhoneNumberId/);
  });
});
