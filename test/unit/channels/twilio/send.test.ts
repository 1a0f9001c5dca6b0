import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioSender, type TwilioSenderOptions } from '#lib/channels/twilio/send.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { TestClock } from '#test/support/clock.ts';
import {
  FAKE_ACCOUNT_SID,
  FAKE_AUTH_TOKEN,
  type FakeTwilio,
  startFakeTwilio,
} from '#test/support/fake-twilio.ts';

const SMS: OutboundText = {
  channel: 'sms',
  provider: 'twilio',
  to: '+48601234567',
  from: '+48221234567',
  text: 'Dzień dobry! Odpowiemy do jutra, 10:00. — Anna Nowak, +48 22 123 45 67',
  idempotencyKey: 'msg_01',
};

let twilio: FakeTwilio;

beforeEach(async () => {
  twilio = await startFakeTwilio();
});

afterEach(async () => {
  await twilio.close();
});

function sender(options: Partial<TwilioSenderOptions> = {}) {
  return createTwilioSender({
    accountSid: FAKE_ACCOUNT_SID,
    authToken: FAKE_AUTH_TOKEN,
    apiBaseUrl: twilio.url,
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

describe('createTwilioSender', () => {
  it('should return the message sid and status Twilio answers', async () => {
    // Prepare
    const twilioSender = sender();

    // Act
    const receipt = await twilioSender.send(SMS);

    // Assess
    expect(receipt.status).toBe('queued');
    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(twilio.requests).toHaveLength(1);
  });

  it('should post a form with To, From and Body to the Messages resource with Basic auth', async () => {
    // Prepare
    const twilioSender = sender();

    // Act
    await twilioSender.send(SMS);

    // Assess
    const [request] = twilio.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages.json`);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${FAKE_ACCOUNT_SID}:${FAKE_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(request?.form).toEqual({ To: '+48601234567', From: '+48221234567', Body: SMS.text });
  });

  it('should keep or add the whatsapp: prefix on both addresses for WhatsApp', async () => {
    // Prepare
    const message: OutboundText = {
      ...SMS,
      channel: 'whatsapp',
      to: 'whatsapp:+48601234567',
      from: '+48221234567',
    };

    // Act
    await sender().send(message);

    // Assess
    expect(twilio.requests[0]?.form).toMatchObject({
      To: 'whatsapp:+48601234567',
      From: 'whatsapp:+48221234567',
    });
  });

  it('should send from a Messaging Service when from is its SID', async () => {
    // Prepare
    const message: OutboundText = { ...SMS, from: 'MG5d4c3b2a1908f7e6d5c4b3a291807f6e' };

    // Act
    const receipt = await sender().send(message);

    // Assess
    expect(twilio.requests[0]?.form).toEqual({
      To: '+48601234567',
      MessagingServiceSid: 'MG5d4c3b2a1908f7e6d5c4b3a291807f6e',
      Body: SMS.text,
    });
    expect(receipt.status).toBe('accepted');
  });

  it.each([
    [400, 21211, 'invalid To'],
    [400, 21610, 'unsubscribed recipient'],
    [400, 21614, 'not a mobile number'],
    [404, 20404, 'not found'],
  ])('should fail permanently without retrying on HTTP %i error %i (%s)', async (status, code) => {
    // Prepare
    twilio.failNext(1, {
      status,
      code,
      message: "The 'To' number +48601234567 is not a valid phone number.",
    });

    // Act
    const error = await sendError(sender().send(SMS));

    // Assess
    expect(error.permanent).toBe(true);
    expect(error.code).toBe('SEND_REJECTED');
    expect(error.providerCode).toBe(String(code));
    expect(error.message).not.toContain('+48601234567');
    expect(twilio.requests).toHaveLength(1);
  });

  it.each([
    [21610, 'opted-out'],
    [21635, 'no-sms'],
    [21614, 'no-sms'],
    [21211, undefined],
  ])(
    'should say a refusal with %i is for the number itself (%s), keeping its code',
    async (code, recipient) => {
      // Prepare
      twilio.failNext(1, { status: 400, code, message: 'refused' });

      // Act
      const error = await sendError(sender().send(SMS));

      // Assess
      expect(error).toMatchObject({ permanent: true, providerCode: String(code) });
      expect(error.recipient).toBe(recipient);
    },
  );

  it("should name a WhatsApp refusal for the 24-hour window (63016) outside-window, permanently, as Meta's is", async () => {
    // Prepare
    twilio.failNext(1, { status: 400, code: 63016, message: 'Failed to send freeform message' });

    // Act
    const error = await sendError(sender().send(SMS));

    // Assess
    expect(error).toMatchObject({ permanent: true, code: 'SEND_REJECTED', providerCode: 'outside-window' });
    expect(twilio.requests).toHaveLength(1);
  });

  it('should fail as ours, not permanently and without retrying in the call, when Twilio refuses the credentials, without leaking the token', async () => {
    // Prepare: found at stop 23: a rotated auth token failed every ack for good, as if the
    // customer's number were wrong.
    const twilioSender = sender({ authToken: 'wrong-token-0000000000000000000000' });

    // Act
    const error = await sendError(twilioSender.send(SMS));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.ours).toBe(true);
    expect(error.code).toBe('SEND_UNAUTHORIZED');
    expect(error.providerCode).toBe('20003');
    expect(twilio.requests).toHaveLength(1);
    expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error)}`).not.toContain('wrong-token');
  });

  it.each([
    [403, 20003, 'permission denied'],
    [401, 20005, 'account not active'],
    [403, 20403, 'account suspended'],
    [401, 70051, 'API key without the permission'],
    [400, 21660, 'From number of another account'],
    // Found at stop 25: Geo Permissions and our own From are fixed in our Console, not by the customer.
    [400, 21408, 'region not enabled in our Geo Permissions'],
    [400, 21606, 'From not a message-capable number of the account'],
    [400, 21212, 'invalid From number'],
  ])('should fail as ours on HTTP %i error %i (%s), not permanently', async (status, code) => {
    // Prepare
    twilio.failNext(1, { status, code, message: 'Refused' });

    // Act
    const error = await sendError(sender().send(SMS));

    // Assess
    expect(error).toMatchObject({ permanent: false, ours: true, providerCode: String(code) });
    expect(twilio.requests).toHaveLength(1);
  });

  it('should wait for Retry-After on 429 and then succeed', async () => {
    // Prepare
    twilio.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: '1' });
    const started = performance.now();

    // Act
    const receipt = await sender().send(SMS);

    // Assess
    expect(receipt.status).toBe('queued');
    expect(twilio.requests).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('should give up at once when Retry-After is past the time budget', async () => {
    // Prepare
    twilio.failNext(1, { status: 429, retryAfter: '30' });
    const started = performance.now();

    // Act
    const error = await sendError(sender({ totalBudgetMs: 2000 }).send(SMS));

    // Assess
    expect(error.permanent).toBe(false);
    expect(error.providerCode).toBe('20429');
    expect(twilio.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('should not send again in the call after a 500, which Twilio documents may come after it took the message (20500), but fail uncertain', async () => {
    // Prepare: Twilio's 20500 "an error in the server handling logic or a timeout in the API":
    // a message POST that got it "is not idempotent", a retry may text the customer twice
    twilio.failNext(3, { status: 500, code: 20500, message: 'Internal Server Error' });

    // Act
    const error = await sendError(sender().send(SMS));

    // Assess
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
    expect(twilio.requests).toHaveLength(1);
  });

  it.each([502, 504])(
    'should not send again in the call when a gateway answers %i after Twilio took the message, but fail uncertain and find it',
    async (status) => {
      // Prepare: Twilio's backend takes the message; its edge answers with a gateway's page
      twilio.failNext(3, { status, taken: true });
      const started = new Date(Date.now() - 1000);
      const twilioSender = sender();

      // Act
      const error = await sendError(twilioSender.send(SMS));
      const found = await twilioSender.find?.(SMS, started);

      // Assess: one message texted, and the lookup finds it
      expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
      expect(error.message).toContain(`HTTP ${status}`);
      expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
      expect(found).toHaveLength(1);
    },
  );

  it('should succeed when a 503 clears before the retries run out (20503: "temporarily unavailable", retry with back-off)', async () => {
    // Prepare
    twilio.failNext(2, { status: 503, code: 20503 });

    // Act
    const receipt = await sender().send(SMS);

    // Assess
    expect(receipt.providerMessageId).toMatch(/^SM/);
    expect(twilio.requests).toHaveLength(3);
  });

  it('should time out a hanging request and fail not permanently, uncertain, without sending it again in the call', async () => {
    // Prepare: stop 25, a timeout may come after Twilio took the message: resending it doubled it
    twilio.failNext(3, 'hang');
    const started = performance.now();

    // Act
    const error = await sendError(sender({ timeoutMs: 150, totalBudgetMs: 1000 }).send(SMS));

    // Assess
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
    expect(error.message).toMatch(/no answer within/);
    expect(twilio.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1200);
  });

  it('should find the message Twilio took when its answer was lost, by its To, From and body, and nothing for another text', async () => {
    // Prepare
    twilio.failNext(1, 'take-and-hang');
    const twilioSender = sender({ timeoutMs: 150 });
    const since = new Date();
    await sendError(twilioSender.send(SMS));

    // Act
    const found = await twilioSender.find?.(SMS, since);
    const other = await twilioSender.find?.({ ...SMS, text: 'Inna wiadomość' }, since);
    const older = await twilioSender.find?.(SMS, new Date(since.getTime() + 10 * 60_000));

    // Assess
    expect(found).toMatchObject([{ providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) }]);
    expect(other).toEqual([]);
    expect(older).toEqual([]);
    const lookup = twilio.requests.at(-1);
    expect(lookup?.method).toBe('GET');
    expect(lookup?.path).toContain('To=%2B48601234567');
    expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('should list only the messages Twilio created since the try began (less 5 s for its whole-second stamps and the clocks), oldest first', async () => {
    // Prepare: stop 25, a lookup reached a minute back and adopted an agent's earlier reply with
    // the same words; Twilio stamps what it takes by the test's clock, to the whole second
    const clock = new TestClock('2026-11-25T10:00:00.800Z');
    twilio.useClock(clock);
    const twilioSender = sender();
    const first = await twilioSender.send(SMS);
    clock.advance(20_000);
    const second = await twilioSender.send(SMS);

    // Act: a try that began 0.8 s before Twilio's stamp of the second (10:00:20, cut from .800),
    // and one 30 s after the first
    const sinceSecond = await twilioSender.find?.(SMS, new Date('2026-11-25T10:00:20.800Z'));
    const sinceFirst = await twilioSender.find?.(SMS, new Date('2026-11-25T10:00:00.800Z'));
    const later = await twilioSender.find?.(SMS, new Date('2026-11-25T10:00:30.000Z'));

    // Assess
    expect(sinceSecond?.map((found) => found.providerMessageId)).toEqual([second.providerMessageId]);
    expect(sinceFirst?.map((found) => found.providerMessageId)).toEqual([
      first.providerMessageId,
      second.providerMessageId,
    ]);
    expect(later).toEqual([]);
  });

  it('should stop retrying when the total budget runs out before the retries do', async () => {
    // Prepare
    twilio.failNext(5, 'hang');
    const started = performance.now();

    // Act
    const error = await sendError(sender({ timeoutMs: 300, totalBudgetMs: 400, maxRetries: 5 }).send(SMS));

    // Assess
    expect(error.permanent).toBe(false);
    expect(twilio.requests.length).toBeLessThanOrEqual(2);
    expect(performance.now() - started).toBeLessThan(700);
  });

  it('should fail not permanently, and certainly not sent, when Twilio cannot be reached (the connection refused)', async () => {
    // Prepare
    const url = twilio.url;
    await twilio.close();
    twilio = await startFakeTwilio();

    // Act
    const error = await sendError(sender({ apiBaseUrl: url }).send(SMS));

    // Assess
    expect(error).toMatchObject({ permanent: false, uncertain: false, code: 'SEND_FAILED' });
    expect(error.message).toMatch(/network error \(ECONNREFUSED\)/);
  });
});

// Stop 34: Twilio's status callback names our message, and the message can be read back by its SID.
describe('the StatusCallback naming our message, and a message read back by its SID', () => {
  it('should send StatusCallback as our status URL with our message id in its query', async () => {
    // Prepare
    const url = 'https://switchboard.example.com/webhooks/twilio/status';

    // Act
    await sender({ statusCallbackUrl: url }).send(SMS);
    await sender({ statusCallbackUrl: `${url}?tenant=acme` }).send(SMS);

    // Assess
    expect(twilio.requests.map((request) => request.form.StatusCallback)).toEqual([
      `${url}?m=msg_01`,
      `${url}?tenant=acme&m=msg_01`,
    ]);
  });

  it('should read back a message Twilio took by its SID (where it went, as Twilio says), and answer null for one it has not', async () => {
    // Prepare
    const twilioSender = sender();
    const receipt = await twilioSender.send(SMS);

    // Act
    const read = await twilioSender.fetchSent?.(receipt.providerMessageId as string);
    const unknown = await twilioSender.fetchSent?.(`SM${'0'.repeat(32)}`);

    // Assess
    expect(read?.text).toBe(SMS.text);
    expect(read?.at).toBeInstanceOf(Date);
    expect(read).toMatchObject({ channel: 'sms', to: SMS.to, from: SMS.from });
    expect(unknown).toBeNull();
  });

  it('should throw a SendError, not answer null, when Twilio cannot be asked', async () => {
    // Prepare: Twilio's API does not answer
    const down = sender({
      fetch: async () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      },
    });

    // Act + Assess
    await expect(down.fetchSent?.(`SM${'0'.repeat(32)}`)).rejects.toBeInstanceOf(SendError);
  });
});
