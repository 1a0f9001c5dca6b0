import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface MailFeedbackProps {
  readonly stage: string;
  /** The topic the SES route already takes (SES_TOPIC_ARNS): its signature check serves both. */
  readonly topic: sns.ITopic;
  /** The topic's key: SES encrypts what it publishes with it. */
  readonly topicKey: kms.IKey;
}

/**
 * The configuration set our sends name (SES_CONFIGURATION_SET), publishing their bounces and
 * complaints to the inbound-mail topic, where the http function settles the ack or reply they
 * name (docs/channels.md, "Our own mail that bounces or is marked as spam"). Only Bounce and
 * Complaint: a Delivery event would be a notification, a Lambda call and a write per mail for a
 * `delivered` no agent needs; Send, Open and Click are not ours to track.
 */
export class MailFeedback extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  /**
   * Its name as a reference to the resource (a token): a function given it is updated only after
   * the set exists. Spelled out, nothing orders the two, and a send naming a set not yet created
   * is refused (ConfigurationSetDoesNotExist) while the deploy runs.
   */
  readonly configurationSetName: string;
  readonly #name: string;

  constructor(scope: Construct, id: string, props: MailFeedbackProps) {
    super(scope, id);
    const name = `switchboard-${props.stage}`;
    this.#name = name;
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: name,
      // Bounce and complaint rates per stage in CloudWatch: what SES's account review reads.
      reputationMetrics: true,
    });
    // Its topic policy is written by CDK, pinned to this account and configuration set.
    this.configurationSet.addEventDestination('Feedback', {
      configurationSetEventDestinationName: 'bounces-and-complaints',
      destination: ses.EventDestination.snsTopic(props.topic),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesEventPublishingToEncryptedTopic',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.configurationSetName = this.configurationSet.configurationSetName;
  }

  /** The configuration set's ARN: SendEmail naming it needs ses:SendEmail on it too. */
  get arn(): string {
    return `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:configuration-set/${this.#name}`;
  }
}
