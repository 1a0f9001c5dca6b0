import { afterEach, describe, expect, it } from 'vitest';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { startTestSwitchboard, TEST_PUBLIC_URL, type TestSwitchboard } from '#test/support/switchboard.ts';
import {
  SIGNATURE_SETTINGS_HEADER,
  signTwilio,
  signTwilioJsonWithSharedKey,
  signTwilioWithSharedKey,
  TEST_AUTH_TOKEN,
  TEST_SHARED_KEY_ID,
  twilioForm,
} from '#test/support/twilio-factory.ts';

// Stop 27: Twilio's Webhooks configuration API (Webhook Settings and Rules) signs the webhooks a
// Rule matches with the Setting's SharedKey (HMAC-SHA256 usually) instead of the auth token,
// and says so in X-Twilio-Webhooks-Signature-Settings. Only the auth token's HMAC-SHA1 was
// checked: a business that put a Rule on our URLs (for retries or timeouts, say) had every SMS,
// WhatsApp message and call refused with 403, which Twilio never posts again.

const SHARED_KEY = 'sk_secret_Lq8v2Zr0yXw5Tn4Hc7Jd1Fb9Gm3Kp6Ss';
const NEXT_SHARED_KEY = 'sk_secret_Vt3Nq7Wd2Ej9Rc5Yb8Hx1Ka4Mg6Pz0Uf';
const PATH = '/webhooks/twilio/messaging';

describe('Twilio webhooks signed with a Webhook Setting’s SharedKey', () => {
  let sb: TestSwitchboard | undefined;
  let metrics: ReturnType<typeof countingMetrics>;

  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  async function start(env: Record<string, string> = { TWILIO_WEBHOOK_SHARED_KEY: SHARED_KEY }) {
    metrics = countingMetrics();
    sb = await startTestSwitchboard({ env, metrics });
    return sb;
  }

  const post = (signed: { body: string; headers: Headers }, path = PATH) =>
    (sb as TestSwitchboard).runtime.app.request(path, { method: 'POST', ...signed });
  const sms = (from: string) => twilioForm('sms-polish', { From: from });
  const contacts = async () =>
    (
      (await (await (sb as TestSwitchboard).api('/api/conversations?limit=100')).json()) as {
        items: Array<{ contact: { key: string } }>;
      }
    ).items
      .map((conversation) => conversation.contact.key)
      .sort();
  const refusalLines = () =>
    (sb as TestSwitchboard).log.lines.filter((line) => line.message === 'webhook signature refused');
  const refusals = () =>
    metrics.counted
      .filter(({ name }) => name === 'SignatureRefusals')
      .reduce((sum, { value }) => sum + value, 0);

  it('should record an SMS signed the Webhook-Rule way (HMAC_SHA256 under the configured shared key)', async () => {
    // Prepare
    await start();

    // Act
    const response = await post(
      signTwilioWithSharedKey(`${TEST_PUBLIC_URL}${PATH}`, sms('+48601000011'), SHARED_KEY),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(await contacts()).toEqual(['phone:+48601000011']);
    expect(refusalLines()).toEqual([]);
  });

  it('should accept either shared key while the key is rotated (a Rule splitting traffic between two Settings)', async () => {
    // Prepare: the secret carries the new key beside the old one
    await start({
      TWILIO_WEBHOOK_SHARED_KEY: SHARED_KEY,
      TWILIO_WEBHOOK_SHARED_KEY_SECONDARY: NEXT_SHARED_KEY,
    });
    const url = `${TEST_PUBLIC_URL}${PATH}`;

    // Act: one webhook under each Setting's key, and one under a Setting that signs HMAC_SHA1
    const old = await post(signTwilioWithSharedKey(url, sms('+48601000012'), SHARED_KEY));
    const next = await post(
      signTwilioWithSharedKey(url, sms('+48601000013'), NEXT_SHARED_KEY, {
        keyId: 'webhooks_shared_key_next',
      }),
    );
    const sha1 = await post(
      signTwilioWithSharedKey(url, sms('+48601000014'), NEXT_SHARED_KEY, { algorithm: 'HMAC_SHA1' }),
    );

    // Assess
    expect([old.status, next.status, sha1.status]).toEqual([200, 200, 200]);
    expect(await contacts()).toEqual(['phone:+48601000012', 'phone:+48601000013', 'phone:+48601000014']);
  });

  it('should refuse (403) a webhook signed with another shared key, or with the auth token under the Settings header, storing nothing', async () => {
    // Prepare
    await start();
    const url = `${TEST_PUBLIC_URL}${PATH}`;
    const withTokenSignature = signTwilio(url, sms('+48601000016'));
    withTokenSignature.headers.set(
      SIGNATURE_SETTINGS_HEADER,
      `key=${TEST_SHARED_KEY_ID},algorithm=HMAC_SHA1`,
    );

    // Act
    const wrongKey = await post(signTwilioWithSharedKey(url, sms('+48601000015'), NEXT_SHARED_KEY));
    const tokenUnderHeader = await post(withTokenSignature);

    // Assess
    expect([wrongKey.status, tokenUnderHeader.status]).toEqual([403, 403]);
    expect(await contacts()).toEqual([]);
    expect(refusalLines().map((line) => line.fields?.reason)).toEqual(['signature mismatch']);
    expect(refusals()).toBe(2);
  });

  it('should refuse (403) a Settings header naming an algorithm it does not know, saying so in the log and counting it', async () => {
    // Prepare
    await start();

    // Act
    const response = await post(
      signTwilioWithSharedKey(`${TEST_PUBLIC_URL}${PATH}`, sms('+48601000017'), SHARED_KEY, {
        algorithm: 'HMAC_SHA512',
      }),
    );

    // Assess
    expect(response.status).toBe(403);
    expect(await contacts()).toEqual([]);
    expect(refusalLines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          channel: 'twilio',
          route: PATH,
          reason: 'unsupported signature algorithm',
          algorithm: 'HMAC_SHA512',
        }),
      }),
    ]);
    expect(refusals()).toBe(1);
  });

  it('should refuse (403) a webhook carrying the Settings header when no shared key is configured, the log saying what to configure and no secret', async () => {
    // Prepare: the business created the Rule but did not give us the key
    await start({});

    // Act
    const response = await post(
      signTwilioWithSharedKey(`${TEST_PUBLIC_URL}${PATH}`, sms('+48601000018'), SHARED_KEY),
    );

    // Assess
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).not.toMatch(/\bat .+\.(ts|js):\d+/);
    expect(await contacts()).toEqual([]);
    const [line, ...more] = refusalLines();
    expect(more).toEqual([]);
    expect(line?.fields).toEqual(
      expect.objectContaining({
        channel: 'twilio',
        route: PATH,
        reason: 'shared key not configured',
        signingKey: TEST_SHARED_KEY_ID,
        fix: expect.stringContaining('TWILIO_WEBHOOK_SHARED_KEY'),
      }),
    );
    expect(refusals()).toBe(1);
    const logged = JSON.stringify((sb as TestSwitchboard).log.lines) + body;
    expect(logged).not.toContain(SHARED_KEY);
    expect(logged).not.toContain(TEST_AUTH_TOKEN);
    expect(logged).not.toContain('601000018');
  });

  it('should check a JSON-bodied callback signed that way by its bodySHA256 (its signature passes; a changed body is refused)', async () => {
    // Prepare: no Twilio route reads a JSON body, so a genuine one is refused as malformed (400),
    // not as forged (403), which would raise the signature alarm
    await start();
    const json = JSON.stringify({
      MessageSid: 'SM0123456789abcdef0123456789abcdef',
      MessageStatus: 'delivered',
    });
    const signed = signTwilioJsonWithSharedKey(`${TEST_PUBLIC_URL}/webhooks/twilio/status`, json, SHARED_KEY);
    const path = signed.url.slice(TEST_PUBLIC_URL.length);

    // Act
    const genuine = await post(signed, path);
    const changed = await post({ headers: signed.headers, body: json.replace('delivered', 'read') }, path);

    // Assess
    expect(genuine.status).toBe(400);
    expect(((await genuine.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_PAYLOAD');
    expect(changed.status).toBe(403);
    expect(refusals()).toBe(1);
  });

  it('should keep accepting webhooks signed with the auth token (no Settings header) when a shared key is configured', async () => {
    // Prepare
    await start();

    // Act
    const response = await post(signTwilio(`${TEST_PUBLIC_URL}${PATH}`, sms('+48601000019')));

    // Assess
    expect(response.status).toBe(200);
    expect(await contacts()).toEqual(['phone:+48601000019']);
  });

  // Session 30: a production secret without the auth token, the shared key configured. What
  // carries the Settings header is checked with the key alone, as ever; what does not cannot be
  // checked and is refused as the channel's configuration, never as a forgery nor accepted.
  it('should, without the auth token, answer a webhook without the Settings header 503 unchecked and check one carrying it with the shared key only', async () => {
    // Prepare
    await start({ NODE_ENV: 'production', TWILIO_AUTH_TOKEN: '', TWILIO_WEBHOOK_SHARED_KEY: SHARED_KEY });
    const url = `${TEST_PUBLIC_URL}${PATH}`;
    const unsigned = signTwilioWithSharedKey(url, sms('+48601000021'), SHARED_KEY);
    unsigned.headers.delete('x-twilio-signature');
    const headerDropped = signTwilioWithSharedKey(url, sms('+48601000022'), SHARED_KEY);
    headerDropped.headers.delete(SIGNATURE_SETTINGS_HEADER);
    const json = JSON.stringify({ MessageSid: 'SM0123456789abcdef0123456789abcdef', MessageStatus: 'read' });
    const signedJson = signTwilioJsonWithSharedKey(
      `${TEST_PUBLIC_URL}/webhooks/twilio/status`,
      json,
      SHARED_KEY,
    );

    // Act
    const byKey = await post(signTwilioWithSharedKey(url, sms('+48601000020'), SHARED_KEY));
    const byToken = await post(signTwilio(url, sms('+48601000023'), TEST_AUTH_TOKEN));
    const noSignature = await post(unsigned);
    const noHeader = await post(headerDropped);
    const jsonBody = await post(signedJson, signedJson.url.slice(TEST_PUBLIC_URL.length));

    // Assess: only the key's webhook recorded; the header-less ones are the configuration's
    // (503, counted as ChannelMisconfigured, no signature refusal), the unsigned one a refusal
    const statuses = [byKey, byToken, noSignature, noHeader, jsonBody].map((response) => response.status);
    expect(statuses).toEqual([200, 503, 403, 503, 400]);
    // (the store read directly: the test's bootstrap token is too short for production)
    const { items } = await (sb as TestSwitchboard).runtime.store.listConversations({
      status: 'open',
      limit: 10,
    });
    expect(items.map((conversation) => conversation.contact.key)).toEqual(['phone:+48601000020']);
    expect(refusalLines().map((line) => line.fields?.reason)).toEqual(['signature missing']);
    const misconfigured = metrics.counted.filter(({ name }) => name === 'ChannelMisconfigured');
    expect(misconfigured).toHaveLength(2);
    const logged = JSON.stringify((sb as TestSwitchboard).log.lines);
    expect(logged).not.toContain(SHARED_KEY);
    expect(logged).not.toContain('601000023');
  });
});
