import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ProviderSecretProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Provider credentials and the agents' API token, one JSON secret read by the functions at cold
 * start. The template holds only empty placeholders and a generated token: operators fill in the
 * Twilio values with `aws secretsmanager put-secret-value`, so no credential is ever in git or in
 * CloudFormation.
 */
export class ProviderSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ProviderSecretProps) {
    super(scope, id);

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: `switchboard/${props.stage}/providers`,
      description: 'Switchboard provider credentials (Twilio) and the agents API bearer token',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '' }),
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
        'The Twilio values are issued by Twilio and rotated in its console, then pasted here; ' +
        'a rotation Lambda cannot mint them. The agents API token is rotated by hand together ' +
        'with the agents tool, which has no hook for an automatic rotation yet.',
    });
  }
}
