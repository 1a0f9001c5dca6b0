import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { type Env, isProduction, requireSecrets } from './env.ts';

/** Everything a running Switchboard needs, parsed once at start-up. */
export type AppConfig = {
  production: boolean;
  /** The public base URL the providers call (no trailing slash); signatures are checked against it. */
  publicUrl: string;
  port: number;
  twilio: { accountSid: string; authToken: string; apiBaseUrl: string };
  agentApiToken: string;
  business: BusinessConfig;
  sender: 'outbox' | 'provider';
  aws: {
    region: string;
    tableName: string;
    ackQueueUrl: string | undefined;
    dynamoDbEndpoint: string | undefined;
    sqsEndpoint: string | undefined;
  };
  ack: {
    /** How long a pending ack may wait for a worker before the sweeper queues it again. */
    graceMs: number;
    /** How long a worker's claim on an ack lasts; longer than one send with its retries. */
    leaseMs: number;
    /** Send attempts before the ack is marked failed (equals the queue's maxReceiveCount). */
    maxAttempts: number;
  };
  limits: { webhookBodyBytes: number };
};

export const ACK_DEFAULTS: AppConfig['ack'] = { graceMs: 60_000, leaseMs: 60_000, maxAttempts: 5 };

/** Assembles the configuration from a parsed environment (secrets already merged in). */
export function buildAppConfig(env: Env, business: BusinessConfig): AppConfig {
  const production = isProduction(env);
  const secrets = requireSecrets(env);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    production,
    publicUrl,
    port: env.PORT,
    twilio: {
      accountSid: secrets.TWILIO_ACCOUNT_SID,
      authToken: secrets.TWILIO_AUTH_TOKEN,
      apiBaseUrl: env.TWILIO_API_BASE_URL,
    },
    agentApiToken: secrets.AGENT_API_TOKEN,
    business,
    sender: env.SWITCHBOARD_SENDER ?? (production ? 'provider' : 'outbox'),
    aws: {
      region: env.AWS_REGION,
      tableName: env.TABLE_NAME,
      ackQueueUrl: env.ACK_QUEUE_URL,
      dynamoDbEndpoint: env.SWITCHBOARD_DYNAMODB_ENDPOINT,
      sqsEndpoint: env.SWITCHBOARD_SQS_ENDPOINT,
    },
    ack: { ...ACK_DEFAULTS },
    limits: { webhookBodyBytes: 64 * 1024 },
  };
}
