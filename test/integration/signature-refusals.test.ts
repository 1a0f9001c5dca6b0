import { afterEach, describe, expect, it } from 'vitest';
import type { MetricName, Metrics } from '#lib/ports/metrics.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { mailgunFixture, signMailgun } from '#test/support/mailgun-factory.ts';
import { metaFixtureBody, signMeta } from '#test/support/meta-factory.ts';
import { memoryLog } from '#test/support/silent-log.ts';
import { sesFixture, signSns, snsKeys, snsNotification } from '#test/support/sns-signer.ts';
import { startTestSwitchboard, TEST_PUBLIC_URL, type TestSwitchboard } from '#test/support/switchboard.ts';
import { signTwilio, twilioForm } from '#test/support/twilio-factory.ts';

// Stop 26: a rotated or mistyped Twilio auth token, Meta app secret, Mailgun signing key or SNS
// topic made every webhook of that channel 403 (Twilio never retries one: the messages were
// lost), and nothing was logged or counted, so ops saw nothing.

function countingMetrics(): Metrics & {
  counted: Array<{ name: MetricName; value: number; channel?: string }>;
} {
  const counted: Array<{ name: MetricName; value: number; channel?: string }> = [];
  return {
    counted,
    count: (name, value = 1, dimension) =>
      void counted.push({ name, value, ...(dimension ? { channel: dimension.value } : {}) }),
    timing: () => {},
  };
}

const refusals = (metrics: ReturnType<typeof countingMetrics>) =>
  metrics.counted
    .filter(({ name }) => name === 'SignatureRefusals')
    .reduce((sum, { value }) => sum + value, 0);

describe('webhook signature refusals', () => {
  let sb: TestSwitchboard;
  let runtime: Runtime;
  let log: ReturnType<typeof memoryLog>;
  let metrics: ReturnType<typeof countingMetrics>;

  afterEach(async () => {
    await sb.stop();
  });

  async function start(env: Record<string, string> = {}, fetchCertificate?: typeof fetch) {
    sb = await startTestSwitchboard({ env, ...(fetchCertificate ? { fetch: fetchCertificate } : {}) });
    log = memoryLog();
    metrics = countingMetrics();
    runtime = createRuntime({
      config: sb.config,
      dynamodb: sb.backends.dynamodb,
      sqs: sb.backends.sqs,
      log,
      clock: sb.clock,
      metrics,
      ...(fetchCertificate ? { fetch: fetchCertificate } : {}),
    });
  }

  const postSmsSignedWith = (authToken: string, from = '+48601234567') => {
    const path = '/webhooks/twilio/messaging';
    const { body, headers } = signTwilio(
      `${TEST_PUBLIC_URL}${path}`,
      twilioForm('sms-polish', { From: from, Body: 'Mój numer to +48601234567' }),
      authToken,
    );
    return runtime.app.request(path, { method: 'POST', headers, body });
  };
  const refusalLines = () => log.lines.filter((line) => line.message === 'webhook signature refused');

  it('should log a warn line naming the channel, route, reason and URLs checked, and count it, when Twilio signs with another auth token', async () => {
    // Prepare: the auth token was rotated in Twilio's console, not in our secret
    await start();
    const rotated = 'ffffffffffffffffffffffffffffffff';

    // Act
    const response = await postSmsSignedWith(rotated);

    // Assess: 403 as before, now seen; nothing secret or personal in the line
    expect(response.status).toBe(403);
    expect(refusalLines()).toEqual([
      {
        level: 'warn',
        message: 'webhook signature refused',
        fields: expect.objectContaining({
          channel: 'twilio',
          route: '/webhooks/twilio/messaging',
          reason: 'signature mismatch',
          urls: [
            `${TEST_PUBLIC_URL}/webhooks/twilio/messaging`,
            'http://localhost/webhooks/twilio/messaging',
          ],
        }),
      },
    ]);
    expect(refusals(metrics)).toBe(1);
    const logged = JSON.stringify(log.lines);
    expect(logged).not.toContain(rotated);
    expect(logged).not.toContain('601234567');
    expect(logged).not.toContain(response.headers.get('x-twilio-signature') ?? 'no-such-header');
  });

  it('should say "unknown topic" for a genuine SNS notification from a topic not in SES_TOPIC_ARNS', async () => {
    // Prepare: the receipt rule publishes to a topic the deployment does not list
    const sns = snsKeys();
    await start(
      { SES_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:switchboard-inbound-mail' },
      async () => new Response(sns.certificatePem),
    );
    const message = signSns(
      snsNotification(sesFixture('received-inline'), {
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:switchboard-mail-renamed',
      }),
      sns,
    );

    // Act
    const response = await runtime.app.request('/webhooks/email/ses', {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: JSON.stringify(message),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(refusalLines()).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          channel: 'ses',
          route: '/webhooks/email/ses',
          reason: 'unknown topic',
        }),
      }),
    ]);
    expect(refusals(metrics)).toBe(1);
  });

  it('should say "expired" for a Mailgun form signed too long ago (406), and "signature mismatch" for another key', async () => {
    // Prepare
    await start();
    const post = (form: URLSearchParams) =>
      runtime.app.request('/webhooks/email/mailgun', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    const now = Math.floor(sb.clock.now().getTime() / 1000);

    // Act
    const old = await post(signMailgun(mailgunFixture('reply-polish'), { timestamp: now - 24 * 3600 }));
    const wrongKey = await post(
      signMailgun(mailgunFixture('reply-polish'), { key: 'key-rotated', timestamp: now }),
    );

    // Assess
    expect([old.status, wrongKey.status]).toEqual([406, 403]);
    expect(refusalLines().map((line) => line.fields?.reason)).toEqual(['expired', 'signature mismatch']);
    expect(refusals(metrics)).toBe(2);
  });

  it('should log an unsigned post as "signature missing" without counting it (no provider sends one)', async () => {
    // Prepare
    await start();

    // Act
    const response = await runtime.app.request('/webhooks/meta', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'page', entry: [] }),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(refusalLines().map((line) => line.fields)).toEqual([
      { channel: 'meta', route: '/webhooks/meta', reason: 'signature missing' },
    ]);
    expect(refusals(metrics)).toBe(0);
  });

  it('should count every refusal but log at most one line a minute per channel and reason, saying how many it left out', async () => {
    // Prepare: a scanner posts forged Twilio webhooks
    await start();
    for (let i = 0; i < 50; i++) await postSmsSignedWith('00000000000000000000000000000000');

    // Act: a minute later, the next one
    sb.clock.advance(60_000);
    await postSmsSignedWith('00000000000000000000000000000000');

    // Assess
    expect(refusals(metrics)).toBe(51);
    expect(refusalLines().map((line) => line.fields?.suppressed ?? 0)).toEqual([0, 49]);
  });
});

// Stop 27: while a channel was switched off for its configuration, every post to its webhook
// wrote an error line: a scanner (or the provider's own retries, Meta's for 36 hours) could fill
// the log, unlike signature refusals, rate-limited above. Now the same limit applies.
describe('webhooks of a switched-off channel', () => {
  let sb: TestSwitchboard;
  let runtime: Runtime;
  let log: ReturnType<typeof memoryLog>;
  let metrics: ReturnType<typeof countingMetrics>;

  afterEach(async () => {
    await sb.stop();
  });

  const post = {
    twilio: () => {
      const path = '/webhooks/twilio/messaging';
      const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${path}`, twilioForm('sms-polish'), 'unused');
      return runtime.app.request(path, { method: 'POST', headers, body });
    },
    meta: () => postMeta('messenger-text'),
    whatsapp: () => postMeta('whatsapp-text'),
  };
  const postMeta = (fixture: 'messenger-text' | 'whatsapp-text') => {
    const body = metaFixtureBody(fixture);
    return runtime.app.request('/webhooks/meta', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(body) },
      body,
    });
  };

  it.each([
    ['twilio', ['TWILIO_AUTH_TOKEN']],
    ['meta', ['META_VERIFY_TOKEN']],
    ['whatsapp', ['WHATSAPP_PHONE_NUMBER_ID']],
  ] as const)(
    'should answer and count every post to switched-off %s but log at most one line a minute, saying how many it left out',
    async (channel, missing) => {
      // Prepare: a production function with the channel switched off (as buildAppConfig leaves it)
      sb = await startTestSwitchboard();
      log = memoryLog();
      metrics = countingMetrics();
      const off = { channel, missing: [...missing], reason: `${missing[0]} is missing` };
      runtime = createRuntime({
        config: {
          ...sb.config,
          ...(channel === 'twilio' ? { twilio: null } : {}),
          misconfiguredChannels: [off],
        },
        dynamodb: sb.backends.dynamodb,
        sqs: sb.backends.sqs,
        log,
        clock: sb.clock,
        metrics,
      });

      // Act: 50 posts (a scanner, or the provider retrying), then one a minute later
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) statuses.push((await post[channel]()).status);
      sb.clock.advance(60_000);
      statuses.push((await post[channel]()).status);

      // Assess: each refused and counted (the alarm's metric, and how many Twilio lost); two lines
      const lines = log.lines.filter((line) => line.message === 'webhook refused: channel switched off');
      expect(statuses).toEqual(Array(51).fill(503));
      expect(
        metrics.counted
          .filter(({ name }) => name === 'ChannelMisconfigured')
          .reduce((n, { value }) => n + value, 0),
      ).toBe(51);
      expect(lines.map((line) => [line.fields?.channel, line.fields?.suppressed ?? 0])).toEqual([
        [channel, 0],
        [channel, 49],
      ]);
    },
  );
});
