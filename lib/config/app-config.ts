import { ACK_MAX_ATTEMPTS } from '#lib/domain/ack-attempts.ts';
import { BEARER_TOKEN, MIN_PRODUCTION_TOKEN_LENGTH } from '#lib/domain/api-key.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { ConfigError, type Env, isProduction, requireSecrets } from './env.ts';
import { whatsappNumbersOf } from './meta-senders.ts';
import {
  halfConfiguredChannels,
  type MisconfiguredChannel,
  missingTwilio,
  type TokenlessChannel,
  tokenlessMetaChannels,
  unansweredEmail,
} from './misconfigured-channels.ts';

export type { MisconfiguredChannel, TokenlessChannel } from './misconfigured-channels.ts';

/** Everything a running Switchboard needs, parsed once at start-up. */
export type AppConfig = {
  production: boolean;
  /** The public base URL the providers call (no trailing slash); signatures are checked against it. */
  publicUrl: string;
  port: number;
  /**
   * null in production without TWILIO_AUTH_TOKEN and without a shared key: Twilio is switched off
   * (misconfiguredChannels), the other channels and the API run. npm start refuses it instead.
   * null too, whatever the secret holds, when the deployment does not use Twilio (unusedChannels).
   */
  twilio: {
    /**
     * null in production without TWILIO_ACCOUNT_SID: its webhooks are verified with the auth
     * token and recorded, nothing is sent through Twilio (misconfiguredChannels: 'twilio-sending').
     */
    accountSid: string | null;
    /**
     * null in production without TWILIO_AUTH_TOKEN while a shared key is set: only the webhooks
     * a Webhook Rule signs with that key (Twilio's Settings header) are verified and recorded, the
     * others answer 503 (misconfiguredChannels: 'twilio'); nothing is sent through Twilio.
     */
    authToken: string | null;
    /** Also accepted on webhooks while the auth token is rotated (TWILIO_AUTH_TOKEN_SECONDARY). */
    secondaryAuthToken?: string;
    /**
     * The SharedKey secrets a Webhook Setting signs webhooks with (TWILIO_WEBHOOK_SHARED_KEY and,
     * while it is rotated, TWILIO_WEBHOOK_SHARED_KEY_SECONDARY); empty when none is set.
     */
    webhookSharedKeys: string[];
    apiBaseUrl: string;
  } | null;
  /** null without META_APP_SECRET and META_VERIFY_TOKEN: Meta is off (one without the other is refused). */
  meta: {
    appSecret: string;
    verifyToken: string;
    appId: string | undefined;
    /** Answers every Page not in pageAccessTokens (the one Page of a deployment before them). */
    pageAccessToken: string | undefined;
    /** Page id → its token: a Page answered with its own (META_PAGE_ACCESS_TOKENS). */
    pageAccessTokens: Record<string, string>;
    instagramAccessToken: string | undefined;
    /** Instagram account id → its token (INSTAGRAM_ACCESS_TOKENS). */
    instagramAccessTokens: Record<string, string>;
    whatsappAccessToken: string | undefined;
    whatsappPhoneNumberId: string | undefined;
    /** Every number answered from: WHATSAPP_PHONE_NUMBER_ID, then WHATSAPP_PHONE_NUMBER_IDS' others. */
    whatsappPhoneNumberIds: string[];
    graphBaseUrl: string;
    /** A person's reply on Messenger or Instagram may go up to 7 days after the customer's last message (HUMAN_AGENT). */
    humanAgent: boolean;
  } | null;
  /** null without MAILGUN_SIGNING_KEY: the Mailgun webhook is off. */
  mailgun: { signingKey: string } | null;
  /** Inbound mail through SES → SNS (off without SES_TOPIC_ARNS), and acknowledgements through SES. */
  email: {
    sesTopicArns: string[];
    fromAddress: string | undefined;
    /** The SES configuration set our sends name, whose bounces and complaints come back (SNS). */
    configurationSet: string | undefined;
    bucket: string | undefined;
    s3Endpoint: string | undefined;
    /** The sweeper's recovery of stored mail SNS never delivered (off without a queue URL). */
    recovery: { queueUrl: string | undefined; afterMs: number; recheckSeconds: number };
  };
  /** The bootstrap token; empty when production runs without one (agentApiTokenRefused says so). */
  agentApiToken: string;
  /**
   * Why the bootstrap AGENT_API_TOKEN is refused (production only: missing, too short, or no
   * bearer header can carry it); null when it is accepted. The rest of the function runs.
   */
  agentApiTokenRefused: string | null;
  /**
   * Channels configured by half (production only: npm start refuses them), switched off: their
   * webhooks answer 503 CHANNEL_MISCONFIGURED; every other channel and the API run. 'email' is
   * reported only: its webhooks stay up (the mail is recorded), it cannot be answered.
   */
  misconfiguredChannels: MisconfiguredChannel[];
  /**
   * Messenger or Instagram without its sending token, Meta's webhook on (production only): their
   * messages are recorded, their acks wait (CHANNEL_MISCONFIGURED) and agents' replies are
   * refused 503; reported as each message arrives, never at start (the channel may be unused).
   */
  tokenlessChannels: TokenlessChannel[];
  /**
   * Channels the deployment says it does not use (SWITCHBOARD_TWILIO=off): absent, as a channel
   * never set up (its webhooks 404, nothing sent through it), and never reported as misconfigured.
   */
  unusedChannels: Array<'twilio'>;
  business: BusinessConfig;
  sender: 'outbox' | 'provider';
  /** Whether /inbox serves the reference inbox page (a static page over the public API). */
  inbox: boolean;
  aws: {
    region: string;
    tableName: string;
    /** How many partitions each single-valued listing key is spread over. */
    indexShards: number;
    ackQueueUrl: string | undefined;
    dynamoDbEndpoint: string | undefined;
    sqsEndpoint: string | undefined;
  };
  ack: {
    /** How long a pending ack may wait for a worker before the sweeper queues it again. */
    graceMs: number;
    /** How long a worker's claim on an ack lasts; longer than one send with its retries. */
    leaseMs: number;
    /** Send attempts before the ack is marked failed: the ack queue's maxReceiveCount too (ACK_MAX_ATTEMPTS). */
    maxAttempts: number;
    /** How long before the promised time an unanswered episode gets its late notice. */
    noticeLeadMs: number;
  };
  /** The EventBridge bus for downstream tools (unset locally: events.jsonl in the data dir). */
  eventBusName: string | undefined;
  /**
   * Twilio's form posts are small (64 KB); Meta batches up to 3 MB; SNS messages up to 256 KB
   * and Mailgun forwards carry attachments: 4 MB, because API Gateway hands the body to the
   * function inside a synchronous invocation (6 MB at most) and base64-encodes a multipart one
   * (a third larger). A larger forward is answered 413 by us, not lost before our code runs.
   */
  limits: { webhookBodyBytes: { twilio: number; meta: number; email: number }; apiRequestsPerMinute: number };
};

export const ACK_DEFAULTS: AppConfig['ack'] = {
  graceMs: 60_000,
  leaseMs: 60_000,
  maxAttempts: ACK_MAX_ATTEMPTS,
  noticeLeadMs: 30 * 60_000,
};

/** What is wrong with a bootstrap token (never the token itself), or null. */
function weakBootstrapToken(token: string, production: boolean): string | null {
  if (!BEARER_TOKEN.test(token)) {
    return 'AGENT_API_TOKEN must be 1 to 512 visible ASCII characters (no spaces), as a bearer token is sent';
  }
  if (production && token.length < MIN_PRODUCTION_TOKEN_LENGTH) {
    return `AGENT_API_TOKEN is too short for production: at least ${MIN_PRODUCTION_TOKEN_LENGTH} characters (the stack generates 48)`;
  }
  return null;
}

/** Assembles the configuration from a parsed environment (secrets already merged in). */
export function buildAppConfig(env: Env, business: BusinessConfig): AppConfig {
  const production = isProduction(env);
  // npm start refuses a missing or weak bootstrap token (the developer is there to fix it; it
  // generates one when none is set). A production function runs without it instead: stopping
  // its cold start would stop the webhooks too, and Twilio does not post a webhook again after
  // a 5xx (docs/channels.md). Likewise without a Twilio secret: only Twilio is switched off
  // (missingTwilio), Meta, email and the API run.
  const twilioUsed = env.SWITCHBOARD_TWILIO !== false;
  const secrets = requireSecrets(env, [
    ...(production ? (['AGENT_API_TOKEN'] as const) : []),
    ...(production || !twilioUsed ? (['TWILIO_AUTH_TOKEN', 'TWILIO_ACCOUNT_SID'] as const) : []),
  ]);
  // npm start refuses a channel configured by half (the developer sees it at once). A production
  // function switches off only that channel (its webhooks answer 503, so the provider retries):
  // failing the cold start would refuse every channel's webhooks, and Twilio's are never retried.
  const misconfiguredChannels = halfConfiguredChannels(env);
  if (misconfiguredChannels.length > 0 && !production) {
    throw new ConfigError(
      `A channel is configured by half: ${misconfiguredChannels.map((found) => found.reason).join('; ')}`,
    );
  }
  const agentApiToken = env.AGENT_API_TOKEN ?? '';
  const agentApiTokenRefused = agentApiToken
    ? weakBootstrapToken(agentApiToken, production)
    : 'AGENT_API_TOKEN is missing from the provider secret (the stack generates one: put it back, at least 32 characters)';
  if (agentApiTokenRefused && !production) throw new ConfigError(agentApiTokenRefused);
  const sender = env.SWITCHBOARD_SENDER ?? (production ? 'provider' : 'outbox');
  if (production) {
    misconfiguredChannels.push(...(twilioUsed ? missingTwilio(env) : []), ...unansweredEmail(env, sender));
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const webhookSharedKeys = [env.TWILIO_WEBHOOK_SHARED_KEY, env.TWILIO_WEBHOOK_SHARED_KEY_SECONDARY].filter(
    (key): key is string => key !== undefined,
  );
  const authToken = secrets.TWILIO_AUTH_TOKEN || null;
  return {
    production,
    publicUrl,
    port: env.PORT,
    // Without the auth token a shared key still verifies the webhooks a Webhook Rule signs with
    // it (production only: npm start requires the token): those are recorded, not lost.
    twilio:
      twilioUsed && (authToken || (production && webhookSharedKeys.length > 0))
        ? {
            accountSid: secrets.TWILIO_ACCOUNT_SID || null,
            authToken,
            // The secondary token is one the primary is rotated to: not used without a primary.
            ...(authToken && env.TWILIO_AUTH_TOKEN_SECONDARY
              ? { secondaryAuthToken: env.TWILIO_AUTH_TOKEN_SECONDARY }
              : {}),
            webhookSharedKeys,
            apiBaseUrl: env.TWILIO_API_BASE_URL,
          }
        : null,
    meta:
      env.META_APP_SECRET && env.META_VERIFY_TOKEN
        ? {
            appSecret: env.META_APP_SECRET,
            verifyToken: env.META_VERIFY_TOKEN,
            appId: env.META_APP_ID,
            pageAccessToken: env.META_PAGE_ACCESS_TOKEN,
            pageAccessTokens: env.META_PAGE_ACCESS_TOKENS,
            instagramAccessToken: env.INSTAGRAM_ACCESS_TOKEN,
            instagramAccessTokens: env.INSTAGRAM_ACCESS_TOKENS,
            whatsappAccessToken: env.WHATSAPP_ACCESS_TOKEN,
            whatsappPhoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID,
            whatsappPhoneNumberIds: whatsappNumbersOf(
              env.WHATSAPP_PHONE_NUMBER_ID,
              env.WHATSAPP_PHONE_NUMBER_IDS,
            ),
            graphBaseUrl: env.META_GRAPH_BASE_URL,
            humanAgent: env.META_HUMAN_AGENT ?? true,
          }
        : null,
    mailgun: env.MAILGUN_SIGNING_KEY ? { signingKey: env.MAILGUN_SIGNING_KEY } : null,
    email: {
      sesTopicArns: (env.SES_TOPIC_ARNS ?? '')
        .split(',')
        .map((arn) => arn.trim())
        .filter(Boolean),
      fromAddress: env.SES_FROM_ADDRESS,
      configurationSet: env.SES_CONFIGURATION_SET,
      bucket: env.MAIL_BUCKET,
      s3Endpoint: env.SWITCHBOARD_S3_ENDPOINT,
      recovery: {
        queueUrl: env.MAIL_RECHECK_QUEUE_URL,
        afterMs: env.MAIL_RECOVERY_AFTER_MINUTES * 60_000,
        // A mail SNS delivers late is let go within 10 minutes of being recorded.
        recheckSeconds: 600,
      },
    },
    eventBusName: env.EVENT_BUS_NAME,
    agentApiToken,
    agentApiTokenRefused,
    misconfiguredChannels,
    tokenlessChannels: tokenlessMetaChannels(env, production),
    unusedChannels: twilioUsed ? [] : ['twilio'],
    business,
    sender,
    inbox: env.SWITCHBOARD_INBOX ?? !production,
    aws: {
      region: env.AWS_REGION,
      tableName: env.TABLE_NAME,
      indexShards: env.TABLE_INDEX_SHARDS,
      ackQueueUrl: env.ACK_QUEUE_URL,
      dynamoDbEndpoint: env.SWITCHBOARD_DYNAMODB_ENDPOINT,
      sqsEndpoint: env.SWITCHBOARD_SQS_ENDPOINT,
    },
    ack: { ...ACK_DEFAULTS, noticeLeadMs: env.NOTICE_LEAD_MINUTES * 60_000 },
    limits: {
      webhookBodyBytes: { twilio: 64 * 1024, meta: 3 * 1024 * 1024 + 64 * 1024, email: 4 * 1024 * 1024 },
      apiRequestsPerMinute: env.API_REQUESTS_PER_MINUTE,
    },
  };
}
