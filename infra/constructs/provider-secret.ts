import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ProviderSecretProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The provider credentials the operators paste in, as empty placeholders in the template (the
 * runtime reads these names). AGENT_API_TOKEN is generated.
 */
export const PROVIDER_SECRET_KEYS = [
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'META_APP_SECRET',
  'META_VERIFY_TOKEN',
  'META_PAGE_ACCESS_TOKEN',
  'INSTAGRAM_ACCESS_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'MAILGUN_SIGNING_KEY',
] as const;

/**
 * Provider credentials and the agents' API token, one JSON secret read by the functions at cold
 * start. The template holds only empty placeholders and a generated token: operators fill in the
 * provider values with `aws secretsmanager put-secret-value` (docs/deploy.md), so no credential
 * is ever in git or in CloudFormation.
 *
 * CloudFormation generates the value only when the secret is created, or when this template
 * changes: a change to the placeholders replaces the stored value, so put it again afterwards.
 */
export class ProviderSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ProviderSecretProps) {
    super(scope, id);

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: `switchboard/${props.stage}/providers`,
      description: 'Switchboard provider credentials (Twilio, Meta, Mailgun) and the agents API bearer token',
      generateSecretString: {
        secretStringTemplate: JSON.stringify(
          Object.fromEntries(PROVIDER_SECRET_KEYS.map((key) => [key, ''])),
        ),
        generateStringKey: 'AGENT_API_TOKEN',
        // Sent as a bearer token in a header: keep it to characters that need no escaping.
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: props.removalPolicy,
    });

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The provider values are issued by Twilio, Meta and Mailgun and rotated in their consoles, ' +
        'then pasted here; a rotation Lambda cannot mint them. The agents API token is rotated by hand together ' +
        'with the agents tool, which has no hook for an automatic rotation yet.',
    });
  }
}
