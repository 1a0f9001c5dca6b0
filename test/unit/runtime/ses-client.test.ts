import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSesSender } from '#lib/channels/email/send-ses.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { createSesEmailClient } from '#lib/runtime/ses-client.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';

const ACK: OutboundText = {
  channel: 'email',
  provider: 'ses',
  to: 'zofia.wojcik@poczta.example.pl',
  from: 'kontakt@sklep.example',
  text: 'Dzień dobry,\n\nDziękujemy za wiadomość. Odpowiemy jutro do 10:00.\n\nAnna Kowalska',
  subject: 'Odpowiemy jutro do 10:00',
  idempotencyKey: 'msg_01',
  automatic: true,
};

let ses: FakeSes;

beforeEach(async () => {
  ses = await startFakeSes();
  // The client as production builds it, pointed at the fake by the SDK's own settings.
  vi.stubEnv('AWS_ENDPOINT_URL_SESV2', ses.url);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFAKESES');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await ses.close();
});

function sender(options: Parameters<typeof createSesEmailClient>[1] = {}) {
  const config = { aws: { region: 'eu-west-1' }, email: { fromAddress: 'anna@sklep.example' } } as AppConfig;
  const client = createSesEmailClient(config, options);
  if (!client) throw new Error('no SES client');
  return createSesSender({ client, from: 'Anna Kowalska <anna@sklep.example>' });
}

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SendError)) throw new Error(`expected SendError, got ${String(error)}`);
  return error;
}

// Stop 26: the SDK's default retry strategy (3 attempts) retried a send whose answer was lost,
// so an email ack or reply could go 2–3 times in one call before our uncertain logic saw it.
describe('createSesEmailClient', () => {
  it('should send a mail once when SES reads it and the connection drops before the answer, and fail uncertain', async () => {
    // Prepare
    ses.failNext(3, 'drop');

    // Act
    const error = await sendError(sender().send(ACK));

    // Assess
    expect(ses.requests, 'SendEmail calls SES received').toHaveLength(1);
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
  });

  it('should send a mail once when SES reads it and never answers (our timeout), and fail uncertain', async () => {
    // Prepare
    ses.failNext(3, 'hang');

    // Act
    const error = await sendError(sender({ requestTimeoutMs: 200 }).send(ACK));

    // Assess
    expect(ses.requests, 'SendEmail calls SES received').toHaveLength(1);
    expect(error).toMatchObject({ permanent: false, uncertain: true, code: 'SEND_UNCERTAIN' });
  });

  it.each([502, 504, 500])(
    'should send a mail once when SES answers HTTP %i (it may have taken it), and fail uncertain',
    async (status) => {
      // Prepare
      ses.failNext(3, { status, type: 'InternalFailure' });

      // Act
      const error = await sendError(sender().send(ACK));

      // Assess
      expect(ses.requests).toHaveLength(1);
      expect(error).toMatchObject({ permanent: false, uncertain: true });
    },
  );

  it('should retry within the call a send SES throttled (it took nothing), and then succeed', async () => {
    // Prepare
    ses.failNext(1, { status: 429, type: 'TooManyRequestsException' });

    // Act
    const receipt = await sender().send(ACK);

    // Assess
    expect(receipt.providerMessageId).not.toBeNull();
    expect(ses.requests).toHaveLength(2);
  });

  it('should retry within the call a send SES answered 503 (unavailable: nothing taken), and then succeed', async () => {
    // Prepare
    ses.failNext(1, { status: 503, type: 'ServiceUnavailable' });

    // Act
    const receipt = await sender().send(ACK);

    // Assess
    expect(receipt.providerMessageId).not.toBeNull();
    expect(ses.requests).toHaveLength(2);
  });
});
