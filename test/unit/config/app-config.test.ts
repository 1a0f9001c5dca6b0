import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { buildAppConfig } from '#lib/config/app-config.ts';
import { ConfigError, parseEnv } from '#lib/config/env.ts';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { memoryLog } from '#test/support/silent-log.ts';

/** The http function's environment as the stack sets it, with the provider secret merged in. */
const LAMBDA_ENV = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://hooks.example.com',
  TABLE_NAME: 'Switchboard-prod-DataTable',
  ACK_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/acks',
  EVENT_BUS_NAME: 'switchboard-prod',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  AGENT_API_TOKEN: 'generated-agent-token-0123456789',
};

const META_WEBHOOK = {
  META_APP_SECRET: 'meta-app-secret-0123456789',
  META_VERIFY_TOKEN: 'a-long-random-string-you-choose',
};

/** npm start: the configuration, then the runtime wired from it; what it threw, if anything. */
function coldStart(
  values: Record<string, string>,
  nodeEnv = 'development',
): { started?: Runtime; refused?: unknown } {
  try {
    const config = buildAppConfig(
      parseEnv({ ...LAMBDA_ENV, NODE_ENV: nodeEnv, ...values }),
      DEFAULT_BUSINESS_CONFIG,
    );
    const started = createRuntime({
      config,
      dynamodb: new DynamoDBClient({ region: 'eu-central-1' }),
      sqs: new SQSClient({ region: 'eu-central-1' }),
      log: memoryLog(),
    });
    return { started };
  } catch (refused) {
    return { refused };
  }
}

// A channel configured by half started, recorded that channel's messages and never answered
// them. Found at stop 23 (an ops review): the WhatsApp token lives in the provider secret, its
// number id in the stack's context, and a deploy forgot one. Stop 26: npm start refuses it (the
// developer sees it at once); a production function switches off only that channel (these
// tests asserted a refusal in production too: that stopped every channel's webhooks;
// test/integration/cold-start.test.ts shows the channel switched off).
describe('a channel configured by half, refused by npm start, switched off in production', () => {
  it('should refuse to start with a WhatsApp Cloud access token but no phone number id, instead of leaving WhatsApp unanswered', () => {
    // Prepare: the token is in the secret; the phone number id is a deploy-time context value
    // (-c whatsappPhoneNumberId) that this deploy forgot: two places that must agree.
    const values = { ...META_WEBHOOK, WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef' };

    // Act
    const { started, refused } = coldStart(values);

    // Assess: not a start with WhatsApp Cloud messages received, recorded and never answered
    const whatsappSender = started?.sendAckDeps.senders('meta', 'whatsapp');
    expect(
      refused,
      `started with WhatsApp Cloud switched off (sender: ${whatsappSender === undefined ? 'none' : 'present'})`,
    ).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/WHATSAPP_PHONE_NUMBER_ID/);
    expect((refused as Error).message).not.toContain('EAAwhatsappToken');
  });

  it.each([
    [
      'a WhatsApp phone number id without its token',
      { ...META_WEBHOOK, WHATSAPP_PHONE_NUMBER_ID: '106540352242922' },
      'WHATSAPP_ACCESS_TOKEN',
    ],
    [
      'a Meta app secret without the verify token',
      { META_APP_SECRET: 'meta-app-secret-0123456789' },
      'META_VERIFY_TOKEN',
    ],
    [
      'a Meta verify token without the app secret',
      { META_VERIFY_TOKEN: 'a-long-random-string' },
      'META_APP_SECRET',
    ],
    [
      'a Page token without the Meta webhook',
      { META_PAGE_ACCESS_TOKEN: 'EAApageToken0123456789' },
      'META_APP_SECRET and META_VERIFY_TOKEN',
    ],
    [
      'an Instagram token without the Meta webhook',
      { INSTAGRAM_ACCESS_TOKEN: 'EAAinstagram0123456789' },
      'META_APP_SECRET and META_VERIFY_TOKEN',
    ],
  ])('should refuse to start with %s, naming what is missing', (_case, values, named) => {
    // Act
    const { refused } = coldStart(values);

    // Assess
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain(
      `${named} ${named.includes(' and ') ? 'are' : 'is'} missing`,
    );
    for (const value of Object.values(values)) expect((refused as Error).message).not.toContain(value);
  });

  it.each([
    [
      'a WhatsApp Cloud access token without its phone number id',
      { ...META_WEBHOOK, WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef' },
      [{ channel: 'whatsapp', missing: ['WHATSAPP_PHONE_NUMBER_ID'] }],
    ],
    [
      'a Meta app secret without the verify token',
      { META_APP_SECRET: 'meta-app-secret-0123456789' },
      [{ channel: 'meta', missing: ['META_VERIFY_TOKEN'] }],
    ],
    [
      'a WhatsApp token without the Meta webhook or its number id',
      { WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef' },
      [
        { channel: 'whatsapp', missing: ['WHATSAPP_PHONE_NUMBER_ID'] },
        { channel: 'meta', missing: ['META_APP_SECRET', 'META_VERIFY_TOKEN'] },
      ],
    ],
    [
      'a WhatsApp phone number id with no Meta secret at all',
      { WHATSAPP_PHONE_NUMBER_ID: '106540352242922' },
      [
        { channel: 'whatsapp', missing: ['WHATSAPP_ACCESS_TOKEN'] },
        { channel: 'meta', missing: ['META_APP_SECRET', 'META_VERIFY_TOKEN'] },
      ],
    ],
  ])(
    'should start in production with %s, that channel switched off and named',
    async (_case, values, off) => {
      // Act
      const { started, refused } = coldStart(values, 'production');
      const config = buildAppConfig(parseEnv({ ...LAMBDA_ENV, ...values }), DEFAULT_BUSINESS_CONFIG);
      const whatsapp = started?.sendAckDeps.senders('meta', 'whatsapp');

      // Assess: what is off refuses each send as ours (the job waits for the completed
      // configuration, not skipped), the rest wired; names only, never a value
      expect(refused).toBeUndefined();
      await expect(
        whatsapp?.send({
          channel: 'whatsapp',
          provider: 'meta',
          to: '+48601234567',
          from: '106540352242922',
          text: 'Dzień dobry',
          idempotencyKey: 'msg_1',
        }),
      ).rejects.toMatchObject({ ours: true, permanent: false });
      expect(config.misconfiguredChannels).toEqual(off.map((entry) => expect.objectContaining(entry)));
      for (const value of Object.values(values)) {
        expect(JSON.stringify(config.misconfiguredChannels)).not.toContain(value);
      }
    },
  );

  it.each([
    ['no Meta at all', {}],
    ['the Meta webhook with no sending token', META_WEBHOOK],
    [
      'WhatsApp Cloud complete',
      {
        ...META_WEBHOOK,
        WHATSAPP_ACCESS_TOKEN: 'EAAwhatsapp0123',
        WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      },
    ],
  ])('should start in production with %s', (_case, values) => {
    // Act
    const { started, refused } = coldStart(values, 'production');

    // Assess
    expect(refused).toBeUndefined();
    expect(started).toBeDefined();
  });

  // Found at stop 26: mail received with no SES_FROM_ADDRESS was recorded, never answered, unflagged.
  it.each([
    [
      'a Mailgun signing key',
      { MAILGUN_SIGNING_KEY: 'key-0123456789abcdef0123456789abcdef' },
      'MAILGUN_SIGNING_KEY is set',
    ],
    ["the stack's mail domain", { MAIL_DOMAIN: 'example.com' }, 'MAIL_DOMAIN is set'],
  ])(
    'should report email as unanswerable in production with %s and no SES_FROM_ADDRESS, and npm start should start',
    (_case, values, named) => {
      // Act
      const production = buildAppConfig(parseEnv({ ...LAMBDA_ENV, ...values }), DEFAULT_BUSINESS_CONFIG);
      const withSender = buildAppConfig(
        parseEnv({ ...LAMBDA_ENV, ...values, SES_FROM_ADDRESS: 'Anna Kowalska <anna@example.com>' }),
        DEFAULT_BUSINESS_CONFIG,
      );
      const { refused } = coldStart(values);

      // Assess
      expect(production.misconfiguredChannels).toEqual([
        expect.objectContaining({ channel: 'email', missing: ['SES_FROM_ADDRESS'] }),
      ]);
      expect(production.misconfiguredChannels[0]?.reason).toContain(named);
      expect(JSON.stringify(production.misconfiguredChannels)).not.toContain('key-0123');
      expect(withSender.misconfiguredChannels).toEqual([]);
      expect(refused).toBeUndefined();
    },
  );

  // Stop 27: a production secret without a Twilio value stopped every cold start (all webhooks
  // and the API down); now only Twilio is switched off there. npm start still refuses it (it
  // generates both when unset, so only a value set to nothing reaches this).
  // Stop 29: without the SID alone the webhooks stay up (the token verifies them, they are
  // recorded); only sending is off ('twilio-sending').
  it.each([
    ['TWILIO_AUTH_TOKEN', 'twilio'],
    ['TWILIO_ACCOUNT_SID', 'twilio-sending'],
  ])(
    'should refuse npm start without %s, and switch only Twilio (%s) off in production',
    async (name, switchedOff) => {
      // Act
      const { refused } = coldStart({ [name]: '' });
      const { started } = coldStart({ [name]: '' }, 'production');
      const config = buildAppConfig(parseEnv({ ...LAMBDA_ENV, [name]: '' }), DEFAULT_BUSINESS_CONFIG);
      const sms = started?.sendAckDeps.senders('twilio', 'sms');

      // Assess: named, never a value; Twilio's sends refused as ours (the job waits), not skipped
      expect((refused as Error | undefined)?.message).toBe(`Missing required secret: ${name}`);
      expect(config.twilio === null ? null : config.twilio.accountSid).toBeNull();
      expect(config.twilio === null).toBe(switchedOff === 'twilio');
      expect(config.misconfiguredChannels).toEqual([
        expect.objectContaining({ channel: switchedOff, missing: [name] }),
      ]);
      expect(JSON.stringify(config.misconfiguredChannels)).not.toMatch(/0123456789abcdef/);
      await expect(
        sms?.send({
          channel: 'sms',
          provider: 'twilio',
          to: '+48601234567',
          from: '+48221234567',
          text: 'Dzień dobry',
          idempotencyKey: 'msg_1',
        }),
      ).rejects.toMatchObject({ ours: true, permanent: false });
    },
  );

  // Session 30: without the auth token but with a Webhook Rule's shared key, Twilio is reported
  // switched off (the alarm) while its channel stays wired for the webhooks that key verifies;
  // nothing can be sent (no token), and no secret is named by value.
  it('should keep Twilio wired for its shared key without the auth token in production, reporting it switched off and sending nothing', async () => {
    // Act
    const values = { TWILIO_AUTH_TOKEN: '', TWILIO_WEBHOOK_SHARED_KEY: 'sk_secret_0123456789abcdef' };
    const config = buildAppConfig(parseEnv({ ...LAMBDA_ENV, ...values }), DEFAULT_BUSINESS_CONFIG);
    const withoutKey = buildAppConfig(
      parseEnv({ ...LAMBDA_ENV, TWILIO_AUTH_TOKEN: '' }),
      DEFAULT_BUSINESS_CONFIG,
    );
    const { refused } = coldStart(values);
    const { started } = coldStart(values, 'production');
    const sms = started?.sendAckDeps.senders('twilio', 'sms');

    // Assess
    expect((refused as Error | undefined)?.message).toBe('Missing required secret: TWILIO_AUTH_TOKEN');
    expect(config.twilio).toMatchObject({
      authToken: null,
      webhookSharedKeys: ['sk_secret_0123456789abcdef'],
    });
    expect(withoutKey.twilio).toBeNull();
    expect(config.misconfiguredChannels).toEqual([
      expect.objectContaining({ channel: 'twilio', missing: ['TWILIO_AUTH_TOKEN'] }),
    ]);
    expect(config.misconfiguredChannels[0]?.reason).toContain('shared key');
    expect(JSON.stringify(config.misconfiguredChannels)).not.toMatch(/sk_secret|0123456789abcdef/);
    await expect(
      sms?.send({
        channel: 'sms',
        provider: 'twilio',
        to: '+48601234567',
        from: '+48221234567',
        text: 'Dzień dobry',
        idempotencyKey: 'msg_1',
      }),
    ).rejects.toMatchObject({ ours: true, permanent: false });
  });
});
