import { describe, expect, it } from 'vitest';
import { verifyTwilioSignature } from '#lib/channels/twilio/verify.ts';
import { twilioMessageParams, twilioWebhook } from '#lib/local/simulate-payloads.ts';

// npm run simulate signs as Twilio would for this deployment: with the shared key the way a
// Webhook Rule's Setting does when TWILIO_WEBHOOK_SHARED_KEY is set, so the path can be tried locally.
describe('twilioWebhook (npm run simulate)', () => {
  const publicUrl = 'http://localhost:3000';
  const params = twilioMessageParams({
    from: '+48601234567',
    to: '+48221234567',
    body: 'Dzień dobry',
    accountSid: 'AC0123456789abcdef0123456789abcdef',
  });
  const asReceived = (hook: ReturnType<typeof twilioWebhook>) => ({
    url: `${publicUrl}${hook.path}`,
    headers: new Headers(hook.headers),
    rawBody: hook.body,
  });

  it('should sign with the shared key, HMAC_SHA256, and name it in the Settings header when one is given', () => {
    // Act
    const hook = twilioWebhook('/webhooks/twilio/messaging', params, {
      authToken: 'auth-token-0123456789abcdef01234',
      publicUrl,
      sharedKey: 'shared-key-secret',
    });

    // Assess: accepted under the shared key only
    expect(hook.headers['x-twilio-webhooks-signature-settings']).toMatch(/^key=.+,algorithm=HMAC_SHA256$/);
    expect(verifyTwilioSignature(asReceived(hook), ['another-token'], ['shared-key-secret'])).toBe('ok');
    expect(verifyTwilioSignature(asReceived(hook), ['another-token'], ['another-key'])).toBe('invalid');
  });

  it('should sign with the auth token and no Settings header without a shared key', () => {
    // Act
    const hook = twilioWebhook('/webhooks/twilio/messaging', params, {
      authToken: 'auth-token-0123456789abcdef01234',
      publicUrl,
    });

    // Assess
    expect(hook.headers['x-twilio-webhooks-signature-settings']).toBeUndefined();
    expect(verifyTwilioSignature(asReceived(hook), ['auth-token-0123456789abcdef01234'])).toBe('ok');
  });
});
