import { describe, expect, it } from 'vitest';
import type { ProviderWebhook } from '#lib/channels/channel.ts';
import { createTwilioChannel, type TwilioChannel } from '#lib/channels/twilio/index.ts';
import type { InboundEvent } from '#lib/domain/message.ts';
import { TestClock } from '#test/support/clock.ts';
import {
  signedTwilioRequest,
  TEST_AUTH_TOKEN,
  type TwilioFixture,
  testWebhookUrl,
  twilioFixture,
  twilioForm,
} from '#test/support/twilio-factory.ts';

type Route = Exclude<keyof TwilioChannel, 'provider' | 'sender' | 'verifiesTokenSignatures'>;

// Each webhook with the route Twilio calls and a fixture of what it sends there.
const WEBHOOKS: [Route, TwilioFixture][] = [
  ['messaging', 'sms-polish'],
  ['status', 'status-delivered'],
  ['voice', 'voice-incoming'],
  ['recording', 'recording-completed'],
  ['transcription', 'transcription-completed'],
  ['recordAction', 'record-action'],
];

const CALL = 'CA5c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f';

function channel(clock = new TestClock('2026-11-17T09:15:30Z')): TwilioChannel {
  return createTwilioChannel({
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    authToken: TEST_AUTH_TOKEN,
    clock,
  });
}

async function receive(route: Route, fixture: TwilioFixture, twilio = channel()): Promise<InboundEvent[]> {
  const request = signedTwilioRequest(twilioFixture(fixture), { url: testWebhookUrl(route) });
  const webhook = twilio[route] as ProviderWebhook<unknown>;
  if ((await webhook.verify(request)) !== 'ok') throw new Error('signature refused');
  return webhook.normalize(webhook.parse(request));
}

describe('createTwilioChannel webhooks', () => {
  it.each(WEBHOOKS)('should accept %s signed over the public URL and every param', async (route, fixture) => {
    // Prepare
    const request = signedTwilioRequest(twilioFixture(fixture), { url: testWebhookUrl(route) });

    // Act
    const outcome = await channel()[route].verify(request);

    // Assess
    expect(outcome).toBe('ok');
  });

  it.each(WEBHOOKS)('should refuse %s once a param is tampered with', async (route, fixture) => {
    // Prepare
    const request = signedTwilioRequest(twilioFixture(fixture), { url: testWebhookUrl(route) });
    const tampered = new URLSearchParams(request.rawBody);
    tampered.set('AccountSid', 'ACffffffffffffffffffffffffffffffff');

    // Act
    const outcome = await channel()[route].verify({ ...request, rawBody: tampered.toString() });

    // Assess
    expect(outcome).toBe('invalid');
  });

  it.each(WEBHOOKS)('should answer missing for %s without X-Twilio-Signature', async (route, fixture) => {
    // Prepare
    const request = signedTwilioRequest(twilioFixture(fixture), { url: testWebhookUrl(route) });
    request.headers.delete('x-twilio-signature');

    // Act
    const outcome = await channel()[route].verify(request);

    // Assess
    expect(outcome).toBe('missing');
  });

  it.each(WEBHOOKS)('should refuse %s signed for another route', async (route, fixture) => {
    // Prepare
    const other = route === 'voice' ? 'recording' : 'voice';
    const request = signedTwilioRequest(twilioFixture(fixture), {
      url: testWebhookUrl(route),
      signedUrl: testWebhookUrl(other),
    });

    // Act
    const outcome = await channel()[route].verify(request);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should record a call, then its voicemail tied to it by the CallSid', async () => {
    // Prepare
    const twilio = channel();

    // Act
    const [call] = await receive('voice', 'voice-incoming', twilio);
    const [voicemail] = await receive('recording', 'recording-completed', twilio);

    // Assess
    expect(call).toMatchObject({ type: 'message', message: { kind: 'call', providerMessageId: CALL } });
    expect(voicemail).toMatchObject({
      type: 'message',
      message: { kind: 'voicemail', callId: CALL, contactKey: `call:${CALL}`, durationSeconds: 23 },
    });
  });

  it('should stamp a delivery update with the channel clock', async () => {
    // Prepare
    const clock = new TestClock('2026-11-17T10:00:00Z');

    // Act
    const events = await receive('status', 'status-undelivered-30007', channel(clock));

    // Assess
    expect(events).toEqual([
      {
        type: 'delivery',
        update: {
          provider: 'twilio',
          providerMessageId: 'SM5f60718293a4b5c6d7e8f9a0b1c2d3e4',
          status: 'undelivered',
          errorCode: '30007',
          at: '2026-11-17T10:00:00.000Z',
        },
      },
    ]);
  });

  it.each([
    ['messaging', 'whatsapp-stop', 'message'],
    ['transcription', 'transcription-completed', 'transcription'],
    ['recording', 'recording-absent', 'ignored'],
    ['recordAction', 'record-action', 'ignored'],
  ] as const)('should route %s (%s) to one %s event', async (route, fixture, type) => {
    // Prepare, Act
    const events = await receive(route, fixture);

    // Assess
    expect(events.map((event) => event.type)).toEqual([type]);
  });

  it('should parse each verified request by its own body when requests interleave', async () => {
    // Prepare: the form read by verify is reused by parse, per request
    const twilio = channel();
    const first = signedTwilioRequest(twilioForm('sms-polish', { Body: 'first', From: '+48601000001' }));
    const second = signedTwilioRequest(twilioForm('sms-polish', { Body: 'second', From: '+48601000002' }));
    const tampered = { ...first, rawBody: second.rawBody };

    // Act
    const verified = [
      await twilio.messaging.verify(first),
      await twilio.messaging.verify(second),
      await twilio.messaging.verify(tampered),
    ];
    const parsed = [second, first, tampered].map((request) => twilio.messaging.parse(request));

    // Assess
    expect(verified).toEqual(['ok', 'ok', 'invalid']);
    expect(parsed.map(({ Body, From }) => [Body, From])).toEqual([
      ['second', '+48601000002'],
      ['first', '+48601000001'],
      ['second', '+48601000002'],
    ]);
  });
});
