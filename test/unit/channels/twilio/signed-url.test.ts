import fc from 'fast-check';
import { getExpectedTwilioSignature, validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { describe, expect, it } from 'vitest';
import { validateRequestWithHash } from '#lib/channels/twilio/signed-url.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import { signTwilioWithSharedKey, TEST_AUTH_TOKEN, twilioForm } from '#test/support/twilio-factory.ts';

// The SharedKey path copies twilio-node's URL variants and signed string (it hard-codes SHA-1):
// with SHA-1 the copy must answer exactly as twilio-node's validateRequest does.
const URLS = [
  'https://hooks.switchboard.example/webhooks/twilio/messaging?tenant=acme',
  'https://hooks.switchboard.example:443/webhooks/twilio/messaging',
  'http://hooks.switchboard.example/webhooks/twilio/status',
  'https://hooks.switchboard.example/webhooks/twilio/voice/recorded?lang=pl&x=it%27s',
  "https://hooks.switchboard.example/webhooks/twilio/voice/recorded?name=it's",
  'https://hooks.switchboard.example',
  'https://user:pass@[::1]:8443/webhooks/twilio/messaging?a=1&a=2',
];
const variants = (url: string) => [
  url,
  url.replace('.example/', '.example:443/'),
  url.replace('.example:443/', '.example/'),
  url.replace("it's", 'it%27s'),
  url.replace('it%27s', "it's"),
  `${url}/`,
];

describe('validateRequestWithHash', () => {
  it('should answer as twilio-node validateRequest does with SHA-1, for every URL variant signed and checked', () => {
    // Prepare
    const params = Object.fromEntries(twilioForm('sms-polish'));
    for (const signedFor of URLS.flatMap(variants)) {
      const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, signedFor, params);
      for (const checked of URLS.flatMap(variants)) {
        // Act
        const ours = validateRequestWithHash('sha1', TEST_AUTH_TOKEN, signature, checked, params);

        // Assess
        expect(ours, `signed for ${signedFor}, checked against ${checked}`).toBe(
          validateRequest(TEST_AUTH_TOKEN, signature, checked, params),
        );
      }
    }
  });

  it('should answer as twilio-node does with SHA-1 for any params, repeated values included', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/);
    const value = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), fc.boolean(), (params, tamper) => {
        const url = URLS[0] as string;
        const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, params);
        const checked = tamper ? { ...params, Extra: 'x' } : params;
        expect(validateRequestWithHash('sha1', TEST_AUTH_TOKEN, signature, url, checked)).toBe(
          validateRequest(TEST_AUTH_TOKEN, signature, url, checked),
        );
      }),
      fuzzRuns(200),
    );
  });

  it('should accept an HMAC-SHA256 signature made with the port when checked without it, and refuse a SHA-1 one', () => {
    // Prepare
    const form = twilioForm('sms-polish');
    const params = Object.fromEntries(form);
    const { headers } = signTwilioWithSharedKey(
      'https://hooks.switchboard.example:443/webhooks/twilio/messaging',
      form,
      'shared-secret',
    );
    const signature = headers.get('x-twilio-signature') as string;

    // Act
    const accepted = validateRequestWithHash(
      'sha256',
      'shared-secret',
      signature,
      'https://hooks.switchboard.example/webhooks/twilio/messaging',
      params,
    );
    const asSha1 = validateRequestWithHash(
      'sha1',
      'shared-secret',
      signature,
      'https://hooks.switchboard.example/webhooks/twilio/messaging',
      params,
    );

    // Assess
    expect([accepted, asSha1]).toEqual([true, false]);
  });
});
