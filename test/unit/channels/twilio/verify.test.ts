import fc from 'fast-check';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { describe, expect, it } from 'vitest';
import { verifyTwilioSignature } from '#lib/channels/twilio/verify.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import {
  signedTwilioRequest,
  signTwilio,
  signTwilioWithSharedKey,
  TEST_AUTH_TOKEN,
  TEST_WEBHOOK_URL,
  twilioForm,
} from '#test/support/twilio-factory.ts';

describe('verifyTwilioSignature', () => {
  it('should accept a request signed with twilio-node getExpectedTwilioSignature', () => {
    // Prepare
    const params = Object.fromEntries(twilioForm('sms-polish'));
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, TEST_WEBHOOK_URL, params);
    const request = {
      url: TEST_WEBHOOK_URL,
      headers: new Headers({ 'X-Twilio-Signature': signature }),
      rawBody: new URLSearchParams(params).toString(),
    };

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('ok');
  });

  it.each(['sms-polish', 'mms-two-media', 'whatsapp-profile'] as const)(
    'should accept the %s fixture signed over all its params',
    (fixture) => {
      // Prepare
      const request = signedTwilioRequest(twilioForm(fixture));

      // Act
      const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

      // Assess
      expect(outcome).toBe('ok');
    },
  );

  it('should reject a tampered param', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));
    const tampered = new URLSearchParams(request.rawBody);
    tampered.set('Body', 'Dzień dobry, proszę o zwrot 1000 zł');

    // Act
    const outcome = verifyTwilioSignature({ ...request, rawBody: tampered.toString() }, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a param added after signing', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));

    // Act
    const outcome = verifyTwilioSignature({ ...request, rawBody: `${request.rawBody}&OptOutType=STOP` }, [
      TEST_AUTH_TOKEN,
    ]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a param removed after signing', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));
    const trimmed = new URLSearchParams(request.rawBody);
    trimmed.delete('FromCountry');

    // Act
    const outcome = verifyTwilioSignature({ ...request, rawBody: trimmed.toString() }, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it.each([
    ['another host', 'https://evil.example/webhooks/twilio/messaging?tenant=acme'],
    ['another path', 'https://hooks.switchboard.example/webhooks/twilio/voice?tenant=acme'],
    ['another query value', 'https://hooks.switchboard.example/webhooks/twilio/messaging?tenant=globex'],
    ['no query', 'https://hooks.switchboard.example/webhooks/twilio/messaging'],
    ['http instead of https', 'http://hooks.switchboard.example/webhooks/twilio/messaging?tenant=acme'],
    ['a trailing slash', 'https://hooks.switchboard.example/webhooks/twilio/messaging/?tenant=acme'],
  ])('should reject a signature made for %s', (_case, signedUrl) => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url: TEST_WEBHOOK_URL, signedUrl });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should keep the query string verbatim (reordered params are another URL)', () => {
    // Prepare
    const signedUrl = 'https://hooks.switchboard.example/webhooks/twilio/messaging?a=1&b=2';
    const url = 'https://hooks.switchboard.example/webhooks/twilio/messaging?b=2&a=1';
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url, signedUrl });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should accept the URL with :443 when Twilio signed it without the port', () => {
    // Prepare
    const url = 'https://hooks.switchboard.example:443/webhooks/twilio/messaging?tenant=acme';
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url, signedUrl: TEST_WEBHOOK_URL });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('ok');
  });

  it('should accept the URL without the port when Twilio signed it with :443', () => {
    // Prepare
    const signedUrl = 'https://hooks.switchboard.example:443/webhooks/twilio/messaging?tenant=acme';
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url: TEST_WEBHOOK_URL, signedUrl });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('ok');
  });

  it('should reject a signature made for another port', () => {
    // Prepare
    const signedUrl = 'https://hooks.switchboard.example:8443/webhooks/twilio/messaging?tenant=acme';
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url: TEST_WEBHOOK_URL, signedUrl });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should answer missing when there is no X-Twilio-Signature header', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));
    request.headers.delete('x-twilio-signature');

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('missing');
  });

  it('should answer missing when the header is empty', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));
    request.headers.set('x-twilio-signature', '');

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('missing');
  });

  it('should reject a request signed with another auth token', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'), {
      authToken: 'ffffffffffffffffffffffffffffffff',
    });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should accept a request signed with either token while the auth token is rotated, and refuse a third', () => {
    // Prepare: found at stop 25: only one token was checked, so one side of the promotion was refused
    const secondary = 'abcdefabcdefabcdefabcdefabcdef12';
    const byPrimary = signedTwilioRequest(twilioForm('sms-polish'));
    const bySecondary = signedTwilioRequest(twilioForm('sms-polish'), { authToken: secondary });
    const byAnother = signedTwilioRequest(twilioForm('sms-polish'), {
      authToken: 'ffffffffffffffffffffffffffffffff',
    });

    // Act
    const outcomes = [byPrimary, bySecondary, byAnother].map((request) =>
      verifyTwilioSignature(request, [TEST_AUTH_TOKEN, secondary]),
    );

    // Assess
    expect(outcomes).toEqual(['ok', 'ok', 'invalid']);
  });

  it('should accept a request signed for the URL it arrived on, but not one signed for another URL', () => {
    // Prepare: found at stop 25: Twilio signs the URL it called, the API's own endpoint until
    // every number moves to a new custom domain (PUBLIC_URL)
    const arrived =
      'https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/webhooks/twilio/messaging?tenant=acme';
    const request = signedTwilioRequest(twilioForm('sms-polish'), { url: arrived });
    const elsewhere = signedTwilioRequest(twilioForm('sms-polish'), {
      url: 'https://other.example/webhooks/twilio/messaging?tenant=acme',
    });

    // Act
    const outcomes = [
      verifyTwilioSignature({ ...request, url: TEST_WEBHOOK_URL, receivedUrl: arrived }, [TEST_AUTH_TOKEN]),
      verifyTwilioSignature({ ...request, url: TEST_WEBHOOK_URL }, [TEST_AUTH_TOKEN]),
      verifyTwilioSignature({ ...elsewhere, url: TEST_WEBHOOK_URL, receivedUrl: arrived }, [TEST_AUTH_TOKEN]),
    ];

    // Assess
    expect(outcomes).toEqual(['ok', 'invalid', 'invalid']);
  });

  it('should reject a garbage signature and an unparseable URL without throwing', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'));
    request.headers.set('x-twilio-signature', 'not-base64!');

    // Act
    const outcomes = [
      verifyTwilioSignature(request, [TEST_AUTH_TOKEN]),
      verifyTwilioSignature({ ...request, url: 'not a url' }, [TEST_AUTH_TOKEN]),
    ];

    // Assess
    expect(outcomes).toEqual(['invalid', 'invalid']);
  });

  it('should sign repeated params as twilio-node does (values de-duplicated and sorted)', () => {
    // Prepare
    const form = twilioForm('sms-polish', { Tag: ['b', 'a', 'b'] });
    const request = signedTwilioRequest(form);
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, TEST_WEBHOOK_URL, {
      ...Object.fromEntries(form),
      Tag: ['a', 'b'],
    });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(outcome).toBe('ok');
    expect(request.headers.get('x-twilio-signature')).toBe(signature);
  });

  it('should sign only the URL when the body is empty (GET-configured webhook)', () => {
    // Prepare
    const url = `${TEST_WEBHOOK_URL}&MessageSid=SM0a1b2c3d4e5f60718293a4b5c6d7e8f9&Body=Hej`;
    const request = signedTwilioRequest({}, { url });

    // Act
    const outcome = verifyTwilioSignature(request, [TEST_AUTH_TOKEN]);

    // Assess
    expect(request.rawBody).toBe('');
    expect(outcome).toBe('ok');
  });

  it('should refuse to verify with an empty auth token', () => {
    // Prepare
    const request = signedTwilioRequest(twilioForm('sms-polish'), { authToken: '' });

    // Act
    const act = () => verifyTwilioSignature(request, ['']);

    // Assess
    expect(act).toThrow(/auth token/);
  });

  // Session 30: without the auth token (a production secret that lost it) a shared key still
  // verifies what a Webhook Rule signs with it; a webhook the token would sign is never accepted.
  it('should check only shared-key webhooks when no auth token is configured, and never accept one without the Settings header', () => {
    // Prepare
    const sharedKey = 'sk_secret_Lq8v2Zr0yXw5Tn4Hc7Jd1Fb9Gm3Kp6Ss';
    const form = twilioForm('sms-polish');
    const byKey = signTwilioWithSharedKey(TEST_WEBHOOK_URL, form, sharedKey);
    const byOtherKey = signTwilioWithSharedKey(TEST_WEBHOOK_URL, form, `${sharedKey}x`);
    const byToken = signTwilio(TEST_WEBHOOK_URL, form, TEST_AUTH_TOKEN);
    const check = (signed: { body: string; headers: Headers }) => () =>
      verifyTwilioSignature(
        { url: TEST_WEBHOOK_URL, headers: signed.headers, rawBody: signed.body },
        [],
        [sharedKey],
      );

    // Act + Assess
    expect(check(byKey)()).toBe('ok');
    expect(check(byOtherKey)()).toBe('invalid');
    expect(check(byToken)).toThrow(/auth token is not configured/);
    expect(() =>
      verifyTwilioSignature({ url: TEST_WEBHOOK_URL, headers: byKey.headers, rawBody: byKey.body }, []),
    ).toThrow(/auth token is not configured/);
  });

  it('should accept any signed form and reject it once any value changes', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/);
    const params = fc.dictionary(name, fc.string({ unit: 'grapheme' }), { minKeys: 1, maxKeys: 12 });
    fc.assert(
      fc.property(params, fc.nat(), (record, pick) => {
        // Prepare
        const { body, headers } = signTwilio(TEST_WEBHOOK_URL, record);
        const keys = Object.keys(record);
        const key = keys[pick % keys.length] as string;
        const changed = new URLSearchParams(record);
        changed.set(key, `${record[key]}x`);

        // Act
        const genuine = verifyTwilioSignature({ url: TEST_WEBHOOK_URL, headers, rawBody: body }, [
          TEST_AUTH_TOKEN,
        ]);
        const forged = verifyTwilioSignature(
          { url: TEST_WEBHOOK_URL, headers, rawBody: changed.toString() },
          [TEST_AUTH_TOKEN],
        );

        // Assess
        expect(genuine).toBe('ok');
        expect(forged).toBe('invalid');
      }),
      fuzzRuns(200),
    );
  });
});
