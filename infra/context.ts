import type { Node } from 'constructs';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Email intake and sending, from `-c mailDomain=… -c sesFromAddress=…`. */
export interface MailSettings {
  /** The domain SES receives for; with it the stack creates a receipt rule set. */
  readonly domain?: string;
  /** `Anna Kowalska <anna@example.com>`: the signer of email acknowledgements. */
  readonly fromAddress?: string;
  /** The verified SES identity the acks are sent from. Default: the from address's domain. */
  readonly identityArn?: string;
  /** Days until raw mail under `inbound/` expires. */
  readonly rawMailDays: number;
  /** Days until files under `attachments/` expire. */
  readonly attachmentDays: number;
}

export interface CustomDomain {
  readonly domainName: string;
  /** An ACM certificate in the stack's region that covers `domainName`. */
  readonly certificateArn: string;
}

/** Everything a deployment may set with `-c key=value` (or in cdk.context.json). */
export interface SwitchboardContext {
  readonly stage: Stage;
  readonly publicUrl?: string;
  readonly customDomain?: CustomDomain;
  readonly mail: MailSettings;
  readonly alertEmail?: string;
  readonly whatsappPhoneNumberId?: string;
  /** More WhatsApp numbers of the Business Account answered from (the same token): -c whatsappPhoneNumberIds=id,id. */
  readonly whatsappPhoneNumberIds?: string[];
  /** The Meta app's id (not secret): Meta echoes our own sends with it, so they are told apart. */
  readonly metaAppId?: string;
  /**
   * Whether agents' late Messenger and Instagram replies (24 hours to 7 days) go tagged
   * HUMAN_AGENT: `off` when the Meta app lacks the Human Agent permission. Default on.
   */
  readonly metaHumanAgent?: boolean;
  /**
   * `-c twilio=off`: this deployment does not use Twilio (a business on Meta and email only), so a
   * secret without Twilio's values is no misconfiguration. Default on.
   */
  readonly twilio?: boolean;
  /** Partitions each single-valued listing key of the table is spread over (docs/scale.md). */
  readonly indexShards: number;
}

export const DEFAULT_RAW_MAIL_DAYS = 90;
export const DEFAULT_ATTACHMENT_DAYS = 365;
/** About 1,000 messages a second (measured by test/integration/cost-per-message.test.ts; docs/scale.md). */
export const DEFAULT_INDEX_SHARDS = 8;

/** Reads and checks the context once; a wrong value stops the synth with a message naming it. */
export function readContext(node: Node): SwitchboardContext {
  const get = (key: string) => text(key, node.tryGetContext(key));

  const stage = get('stage') ?? 'dev';
  if (!STAGES.includes(stage as Stage)) {
    throw new Error(`Unknown stage "${stage}": pass -c stage=${STAGES.join('|')}`);
  }

  const domainName = get('domainName');
  const certificateArn = get('certificateArn');
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    throw new Error('domainName and certificateArn go together: pass both or neither');
  }
  if (domainName !== undefined) check('domainName', domainName, DOMAIN);
  if (certificateArn !== undefined)
    check('certificateArn', certificateArn, /^arn:aws[\w-]*:acm:[\w-]+:\d{12}:certificate\/[\w-]+$/);

  let publicUrl = parsePublicUrl(get('publicUrl'));
  if (domainName !== undefined) {
    const custom = `https://${domainName}`;
    if (publicUrl !== undefined && publicUrl !== custom) {
      throw new Error(`publicUrl "${publicUrl}" contradicts domainName "${domainName}": pass one of them`);
    }
    publicUrl = custom;
  }

  const mailDomain = get('mailDomain');
  if (mailDomain !== undefined) check('mailDomain', mailDomain, DOMAIN);
  const fromAddress = get('sesFromAddress');
  if (fromAddress !== undefined)
    check('sesFromAddress', fromAddress, /^([^<>]*<)?[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+>?$/);
  const identityArn = get('sesIdentityArn');
  if (identityArn !== undefined)
    check('sesIdentityArn', identityArn, /^arn:aws[\w-]*:ses:[\w-]+:\d{12}:identity\/\S+$/);
  const alertEmail = get('alertEmail');
  if (alertEmail !== undefined) check('alertEmail', alertEmail, /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  const whatsappPhoneNumberId = get('whatsappPhoneNumberId');
  if (whatsappPhoneNumberId !== undefined) check('whatsappPhoneNumberId', whatsappPhoneNumberId, /^\d+$/);
  const listedNumbers = get('whatsappPhoneNumberIds');
  if (listedNumbers !== undefined)
    check('whatsappPhoneNumberIds', listedNumbers, /^\s*\d{1,32}\s*(,\s*\d{1,32}\s*)*$/);
  const whatsappPhoneNumberIds = listedNumbers?.split(',').map((id) => id.trim());
  const metaAppId = get('metaAppId');
  if (metaAppId !== undefined) check('metaAppId', metaAppId, /^\d{1,32}$/);
  const metaHumanAgent = get('metaHumanAgent');
  if (metaHumanAgent !== undefined) check('metaHumanAgent', metaHumanAgent, /^(on|off)$/);
  const twilio = get('twilio');
  if (twilio !== undefined) check('twilio', twilio, /^(on|off)$/);

  return {
    stage: stage as Stage,
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(domainName !== undefined && certificateArn !== undefined
      ? { customDomain: { domainName, certificateArn } }
      : {}),
    mail: {
      ...(mailDomain !== undefined ? { domain: mailDomain.toLowerCase() } : {}),
      ...(fromAddress !== undefined ? { fromAddress } : {}),
      ...(identityArn !== undefined ? { identityArn } : {}),
      rawMailDays: days('rawMailExpirationDays', get('rawMailExpirationDays'), DEFAULT_RAW_MAIL_DAYS),
      attachmentDays: days(
        'attachmentExpirationDays',
        get('attachmentExpirationDays'),
        DEFAULT_ATTACHMENT_DAYS,
      ),
    },
    ...(alertEmail !== undefined ? { alertEmail } : {}),
    ...(whatsappPhoneNumberId !== undefined ? { whatsappPhoneNumberId } : {}),
    ...(whatsappPhoneNumberIds !== undefined ? { whatsappPhoneNumberIds } : {}),
    ...(metaAppId !== undefined ? { metaAppId } : {}),
    ...(metaHumanAgent !== undefined ? { metaHumanAgent: metaHumanAgent === 'on' } : {}),
    ...(twilio !== undefined ? { twilio: twilio === 'on' } : {}),
    indexShards: shardCount(get('indexShards')),
  };
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function text(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`Context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function check(key: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) throw new Error(`Context ${key} is not valid: "${value}"`);
}

function days(key: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`Context ${key} must be a whole number of days (1 or more), got "${value}"`);
  }
  return parsed;
}

/** `-c indexShards=16` (reads use the largest count the table has recorded, so a smaller one hides nothing). */
function shardCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_INDEX_SHARDS;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 64) {
    throw new Error(`Context indexShards must be a whole number from 1 to 64, got "${value}"`);
  }
  return parsed;
}

/** `-c publicUrl=https://hooks.example.com` when something else (CloudFront) fronts the API. */
function parsePublicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'https:' || url.search || url.hash) {
    throw new Error(`publicUrl must be an https URL without query or fragment, got "${value}"`);
  }
  return url.href.replace(/\/+$/, '');
}
