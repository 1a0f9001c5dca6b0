import { z } from 'zod';
import { PhoneNumberIdsSchema, TokenMapSchema } from './meta-senders.ts';

/** A configuration value is missing or wrong; the message names it and never shows a secret. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const url = z.url({ protocol: /^https?$/ });

/** The environment, as documented in the README's configuration table. */
export const EnvSchema = z.object({
  NODE_ENV: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  /**
   * The account's secondary auth token while it is rotated (docs/deploy.md): Twilio signs with
   * the primary until the secondary is promoted, then with it at once, so both are accepted.
   */
  TWILIO_AUTH_TOKEN_SECONDARY: optionalText,
  /**
   * The secret of the SharedKey a Twilio Webhook Setting signs with, for webhooks a Webhook Rule
   * matches (they carry X-Twilio-Webhooks-Signature-Settings); the secondary is the next key
   * while the key is rotated (docs/deploy.md).
   */
  TWILIO_WEBHOOK_SHARED_KEY: optionalText,
  TWILIO_WEBHOOK_SHARED_KEY_SECONDARY: optionalText,
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_API_BASE_URL: url.default('https://api.twilio.com'),
  /** Checked by buildAppConfig for what a bearer header can carry (and its length in production). */
  AGENT_API_TOKEN: optionalText,
  PUBLIC_URL: url.optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SWITCHBOARD_DATA_DIR: optionalText,
  SWITCHBOARD_CONFIG: optionalText,
  SWITCHBOARD_DYNAMODB_ENDPOINT: url.optional(),
  SWITCHBOARD_SQS_ENDPOINT: url.optional(),
  /** `outbox` writes acknowledgements to outbox.jsonl; `provider` calls the providers' APIs. */
  SWITCHBOARD_SENDER: z.enum(['outbox', 'provider']).optional(),
  /**
   * Whether this deployment uses Twilio (on/off; default on). Off (`-c twilio=off`): its webhooks
   * are absent (404) and a secret without Twilio's values is no misconfiguration (docs/deploy.md).
   */
  SWITCHBOARD_TWILIO: optionalText.pipe(z.stringbool().optional()),
  /** Serve the reference inbox page at /inbox (on/off, true/false); default on except in production. */
  SWITCHBOARD_INBOX: optionalText.pipe(z.stringbool().optional()),
  SWITCHBOARD_SECRETS_ARN: optionalText,
  META_APP_SECRET: optionalText,
  META_VERIFY_TOKEN: optionalText,
  /** The Page token that answers every Page not in META_PAGE_ACCESS_TOKENS. */
  META_PAGE_ACCESS_TOKEN: optionalText,
  /** Page id → its token (JSON object), for several Pages: each answered with its own. */
  META_PAGE_ACCESS_TOKENS: TokenMapSchema,
  INSTAGRAM_ACCESS_TOKEN: optionalText,
  /** Instagram account id → its token (the linked Page's; JSON object), for several accounts. */
  INSTAGRAM_ACCESS_TOKENS: TokenMapSchema,
  WHATSAPP_ACCESS_TOKEN: optionalText,
  MAILGUN_SIGNING_KEY: optionalText,
  /** The Meta app's id: echoes of messages this app sent are our own. */
  META_APP_ID: optionalText,
  META_GRAPH_BASE_URL: url.default('https://graph.facebook.com'),
  /**
   * Agents' replies on Messenger and Instagram between 24 hours and 7 days after the customer's
   * last message go tagged HUMAN_AGENT (on/off; default on). Needs the Meta app's Human Agent
   * permission (App Review): without it, off makes the API answer 409 OUTSIDE_WINDOW itself.
   */
  META_HUMAN_AGENT: optionalText.pipe(z.stringbool().optional()),
  WHATSAPP_PHONE_NUMBER_ID: optionalText,
  /** More numbers of the WhatsApp Business Account answered from (comma-separated ids), the same token. */
  WHATSAPP_PHONE_NUMBER_IDS: PhoneNumberIdsSchema,
  /** SNS topic ARNs SES notifies (comma-separated); others are refused. */
  SES_TOPIC_ARNS: optionalText,
  /** The address email acknowledgements come from, e.g. "Anna Kowalska <anna@example.com>". */
  SES_FROM_ADDRESS: optionalText,
  /** The SES configuration set every send names: its Bounce and Complaint events come back over SNS. */
  SES_CONFIGURATION_SET: optionalText,
  /** The domain SES receives mail for (set by the stack with -c mailDomain): mail arrives to be answered. */
  MAIL_DOMAIN: optionalText,
  /** Where mail and attachments are stored (S3 bucket on AWS). */
  MAIL_BUCKET: optionalText,
  SWITCHBOARD_S3_ENDPOINT: url.optional(),
  /** The EventBridge bus Switchboard's events go to (set by CDK). */
  EVENT_BUS_NAME: optionalText,
  /** Each API key's budget of requests a minute (429 with Retry-After past it). */
  API_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  /** Minutes before the promised time that an unanswered customer gets the late notice. */
  NOTICE_LEAD_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  TABLE_NAME: z.string().min(3).default('switchboard'),
  /**
   * Partitions each single-valued listing key of the table is spread over (docs/scale.md): 8
   * takes about 1,000 messages a second. Reads use the largest count the table has recorded.
   */
  TABLE_INDEX_SHARDS: z.coerce.number().int().min(1).max(64).default(8),
  // Not z.url(): local queue URLs carry hosts like sqs.<region>.127.0.0.1.
  ACK_QUEUE_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
    .optional(),
  /** The queue of the mail bucket's ObjectCreated notices (sweeper only): recovers mail SNS never delivered. */
  MAIL_RECHECK_QUEUE_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
    .optional(),
  /** How old a stored mail must be before the sweeper records it itself (SNS retries ~55 min). */
  MAIL_RECOVERY_AFTER_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  AWS_REGION: z.string().default('eu-central-1'),
});
export type Env = z.infer<typeof EnvSchema>;

/**
 * The secrets npm start needs (it generates any that is unset). A production function starts
 * without each: without AGENT_API_TOKEN it refuses only the bootstrap token, without a Twilio
 * secret only Twilio is switched off (buildAppConfig).
 */
export const REQUIRED_SECRETS = ['TWILIO_AUTH_TOKEN', 'TWILIO_ACCOUNT_SID', 'AGENT_API_TOKEN'] as const;
/** Secrets of channels that are optional: a channel without its secrets is switched off. */
export const OPTIONAL_SECRETS = [
  'META_APP_SECRET',
  'META_VERIFY_TOKEN',
  'META_PAGE_ACCESS_TOKEN',
  'INSTAGRAM_ACCESS_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'MAILGUN_SIGNING_KEY',
] as const;
export const SECRET_NAMES = [...REQUIRED_SECRETS, ...OPTIONAL_SECRETS] as const;
/**
 * Secrets present only while a credential is rotated: read from the provider secret like the
 * others, never generated by npm start (its dev tokens are never rotated).
 */
export const ROTATION_SECRETS = ['TWILIO_AUTH_TOKEN_SECONDARY'] as const;
/**
 * Secrets set only by a business that signs Twilio's webhooks with a SharedKey (a Webhook
 * Setting): read from the provider secret like the others, never generated by npm start (a
 * webhook without Twilio's Settings header never needs them).
 */
export const TWILIO_SHARED_KEY_SECRETS = [
  'TWILIO_WEBHOOK_SHARED_KEY',
  'TWILIO_WEBHOOK_SHARED_KEY_SECONDARY',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type RequiredSecretName = (typeof REQUIRED_SECRETS)[number];

/**
 * A variable set to nothing (`PORT=` in a .env) is unset, for every variable: z.coerce alone
 * would read an empty PORT as 0, any free port, while the CLIs look on 3000.
 */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value?.trim()));
  const result = EnvSchema.safeParse(set);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
}

export function isProduction(env: Env): boolean {
  return env.NODE_ENV === 'production';
}

/**
 * Fails fast, naming every missing secret (never its value). `notRequired` names the ones the
 * caller handles itself when missing (production's: buildAppConfig); they come back undefined.
 */
export function requireSecrets(
  env: Env,
  notRequired: readonly RequiredSecretName[] = [],
): Record<RequiredSecretName, string | undefined> {
  const missing = REQUIRED_SECRETS.filter((name) => !env[name] && !notRequired.includes(name));
  if (missing.length > 0) {
    throw new ConfigError(`Missing required secret${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  }
  return Object.fromEntries(SECRET_NAMES.map((name) => [name, env[name]])) as Record<
    SecretName,
    string | undefined
  >;
}
