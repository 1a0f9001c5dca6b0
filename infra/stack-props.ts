// SwitchboardStack's props: what one deployment sets (from `-c key=value`, infra/context.ts).
import type { StackProps } from 'aws-cdk-lib';
import type { CustomDomain, MailSettings, Stage } from './context.ts';

export interface SwitchboardStackProps extends StackProps {
  readonly stage: Stage;
  /**
   * The base URL providers call (a custom domain in front of the API). Twilio signs the exact
   * URL it called, so signature checks need it. Default: the custom domain, else the API's own
   * endpoint.
   */
  readonly publicUrl?: string;
  /** Serves the API on `https://<domainName>` (and makes that the public URL). */
  readonly customDomain?: CustomDomain;
  /** Email intake and sending. Default: no receipt rule set, no SES sending. */
  readonly mail?: Partial<MailSettings>;
  readonly alertEmail?: string;
  readonly whatsappPhoneNumberId?: string;
  /** WHATSAPP_PHONE_NUMBER_IDS on every function that reads the WhatsApp token. */
  readonly whatsappPhoneNumberIds?: readonly string[];
  /** META_APP_ID on the http function and the worker (both record Meta echoes): echoes of our own Meta sends carry it. */
  readonly metaAppId?: string;
  /** META_HUMAN_AGENT on the http function (agents' replies): false without the app's Human Agent permission. */
  readonly metaHumanAgent?: boolean;
  /**
   * false: this deployment does not use Twilio. SWITCHBOARD_TWILIO=off on every function that
   * reads the provider secret (its Twilio webhooks are absent, an empty Twilio value raises no
   * alarm) and no Twilio webhook outputs. Default true.
   */
  readonly twilio?: boolean;
  /**
   * Partitions each single-valued listing key of the table is spread over (docs/scale.md).
   * Reads use the largest count the table has recorded. Default 8.
   */
  readonly indexShards?: number;
}
