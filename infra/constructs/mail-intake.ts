import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Where SES puts raw mail; the notification names the key, the http function reads it. */
export const INBOUND_PREFIX = 'inbound/';
/** Where the http function puts the attachments it extracts. */
export const ATTACHMENTS_PREFIX = 'attachments/';

/**
 * How SNS retries a notification our endpoint did not take (SNS allows at most 3,600 s in all).
 * 1 immediate retry, 2 after 20 s, 2 backing off exponentially from 20 s towards 300 s, then 9
 * every 300 s: about 49 minutes, and at most 55 even if every backoff retry waited 300 s.
 * A deploy, a cold start storm or a DynamoDB hiccup is over long before; what is still failing
 * after that goes to the dead-letter queue and raises an alarm.
 */
export const SES_DELIVERY_RETRIES = {
  minDelayTarget: Duration.seconds(20),
  maxDelayTarget: Duration.seconds(300),
  numRetries: 14,
  numNoDelayRetries: 1,
  numMinDelayRetries: 2,
  numMaxDelayRetries: 9,
  backoffFunction: sns.BackoffFunction.EXPONENTIAL,
} as const satisfies sns.HealthyRetryPolicy;

/** The longest the retry policy can take: every backoff retry counted at the maximum delay. */
export function retryHorizonSeconds(policy: sns.HealthyRetryPolicy): number {
  const min = policy.minDelayTarget?.toSeconds() ?? 20;
  const max = policy.maxDelayTarget?.toSeconds() ?? 20;
  const noDelay = policy.numNoDelayRetries ?? 0;
  const minDelay = policy.numMinDelayRetries ?? 0;
  const maxDelay = policy.numMaxDelayRetries ?? 0;
  const backoff = (policy.numRetries ?? 3) - noDelay - minDelay - maxDelay;
  return minDelay * min + Math.max(backoff, 0) * max + maxDelay * max;
}

/**
 * How long a mail-recheck notice stays hidden once received: the sweeper's look at a mail that
 * is not due yet, and the pause after a failed recovery. 24 receives are about 4 hours: the
 * first hour waiting for SNS, then about 18 attempts before the notice goes to its
 * dead-letter queue.
 */
export const RECHECK_VISIBILITY = Duration.minutes(10);
export const RECHECK_MAX_RECEIVES = 24;

/** What a function needs to recover mail: one env var and the recheck queue's grants. */
export interface RecheckConsumer {
  readonly role: iam.IGrantable;
  setEnvironment(name: string, value: string): void;
}

export interface MailIntakeProps {
  readonly stage: string;
  /** The https URL SNS posts to: `<public URL>/webhooks/email/ses`. */
  readonly endpoint: string;
  /** With a domain, a receipt rule set stores its mail and notifies the topic. */
  readonly mailDomain?: string;
  readonly rawMailDays: number;
  readonly attachmentDays: number;
  /** Encrypts the topic; SES gets to use it for this topic only. */
  readonly topicKey: kms.IKey;
  /** Production keeps the mail bucket (and the mail) when the stack goes. */
  readonly retain: boolean;
}

/**
 * Inbound email: SES stores each message under `inbound/` in a private bucket and notifies an
 * SNS topic, which posts the notification (headers and the S3 key, never the body) to the http
 * function over HTTPS, retrying for most of an hour before parking it in a dead-letter queue.
 * Storing first (S3 action + topic) instead of the SNS action avoids SNS's 150 KB limit, past
 * which SES bounces the mail.
 */
export class MailIntake extends Construct {
  readonly bucket: s3.Bucket;
  readonly topic: sns.Topic;
  readonly deadLetterQueue: sqs.Queue;
  readonly subscription: sns.Subscription;
  /**
   * `mail-recheck`: an ObjectCreated notice for every object under `inbound/`. The sweeper
   * records the mail SNS never delivered (it gives up after its retry policy), so no mail is
   * lost to an outage of our endpoint, without ever listing the bucket.
   */
  readonly recheckQueue: sqs.Queue;
  readonly recheckDeadLetterQueue: sqs.Queue;
  /** Absent without a mail domain. Must be made active by hand: see docs/deploy.md. */
  readonly ruleSet?: ses.ReceiptRuleSet;
  readonly ruleSetName: string;

  constructor(scope: Construct, id: string, props: MailIntakeProps) {
    super(scope, id);

    this.ruleSetName = `switchboard-${props.stage}`;
    const ruleName = `switchboard-${props.stage}-inbound`;
    const ruleArn = `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:receipt-rule-set/${this.ruleSetName}:receipt-rule/${ruleName}`;
    const fromOurRule = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': ruleArn },
    };

    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3: SES's S3 action can write to it with no key grant. SSE-KMS with a customer key
      // would only add a key policy and a per-request KMS charge for the same protection at rest.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Unversioned on purpose: every key is written once (SES message id, attachment id), and
      // expiring personal data must really delete it, not keep it as a noncurrent version.
      versioned: false,
      lifecycleRules: [
        { id: 'expire-raw-mail', prefix: INBOUND_PREFIX, expiration: Duration.days(props.rawMailDays) },
        {
          id: 'expire-attachments',
          prefix: ATTACHMENTS_PREFIX,
          expiration: Duration.days(props.attachmentDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Dev: `cdk destroy` fails on a bucket that still holds mail; empty it first (docs/deploy.md).
      // No autoDeleteObjects: it would add a custom-resource Lambda able to delete every object.
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only SES (put under inbound/, pinned to this account and receipt rule) and the http ' +
        'function role (get inbound/, put attachments/) can touch objects; public access is blocked ' +
        'and TLS enforced. Server access logs would copy object keys (mail ids) into a second bucket ' +
        'needing the same protection and retention; an audit of object reads enables CloudTrail S3 ' +
        'data events for this bucket instead, and bucket changes are in CloudTrail already.',
    });

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Switchboard ${props.stage} inbound email`,
      // The notification carries sender, recipients and subject: personal data at rest in SNS.
      masterKey: props.topicKey,
      enforceSSL: true,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is a dead-letter queue: the redrive target of the SNS HTTPS subscription ' +
        '(RedrivePolicy on AWS::SNS::Subscription), which cdk-nag does not recognise as one. ' +
        'It alarms at depth > 0 and is replayed by hand (docs/deploy.md).',
    });

    this.subscription = this.topic.addSubscription(
      new subs.UrlSubscription(props.endpoint, {
        protocol: sns.SubscriptionProtocol.HTTPS,
        // The envelope stays: the http function verifies SNS's signature over it.
        rawMessageDelivery: false,
        deadLetterQueue: this.deadLetterQueue,
        deliveryPolicy: {
          healthyRetryPolicy: SES_DELIVERY_RETRIES,
          // A burst of mail must not eat the API's throttle that Twilio and Meta need too.
          throttlePolicy: { maxReceivesPerSecond: 10 },
        },
      }),
    );

    this.recheckDeadLetterQueue = new sqs.Queue(this, 'RecheckDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.recheckQueue = new sqs.Queue(this, 'RecheckQueue', {
      // SSE-SQS: S3 can send to it with no key grant (the AWS managed aws/sqs key would refuse S3).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS keeps a message: a notice the sweeper cannot settle waits this long.
      retentionPeriod: Duration.days(14),
      visibilityTimeout: RECHECK_VISIBILITY,
      deadLetterQueue: { queue: this.recheckDeadLetterQueue, maxReceiveCount: RECHECK_MAX_RECEIVES },
    });
    // Pinned to our account, not to the bucket's ARN: S3 checks that it may send when the
    // notification is configured, so the bucket depends on this policy, and naming the bucket
    // here would close a dependency cycle. CDK breaks that cycle with a custom-resource Lambda
    // (managed policy, s3:PutBucketNotification on *); the runtime drops notices for any other
    // bucket or prefix instead, and only the sweeper may read the queue.
    this.recheckQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowMailBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.recheckQueue.queueArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.recheckQueue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: INBOUND_PREFIX }] } },
        },
      ],
    };
    const queuePolicy = this.recheckQueue.node.tryFindChild('Policy');
    if (queuePolicy) cfnBucket.node.addDependency(queuePolicy);

    if (props.mailDomain === undefined) return;

    // SES encrypts with the topic key when it publishes. Pinned to this account only: the topic
    // policy below pins the publisher to our rule, and AWS documents no SourceArn on SES's KMS calls.
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesReceiptRuleToPublish',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurRule,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesReceiptRuleToStoreMail',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${INBOUND_PREFIX}*`)],
        conditions: fromOurRule,
      }),
    );

    this.ruleSet = new ses.ReceiptRuleSet(this, 'RuleSet', { receiptRuleSetName: this.ruleSetName });
    const rule = this.ruleSet.addRule('Inbound', {
      receiptRuleName: ruleName,
      // The bare domain matches every address at it (not its subdomains).
      recipients: [props.mailDomain],
      // The verdicts (spam, virus, SPF, DKIM, DMARC) reach the runtime in the notification.
      scanEnabled: true,
      // Optional, not Require: a customer's mail server without TLS would get a bounce, and the
      // message has crossed the open internet in the clear before it reaches us anyway.
      tlsPolicy: ses.TlsPolicy.OPTIONAL,
      actions: [
        {
          // The built-in S3 action pins its bucket policy to the account only; ours (above)
          // also pins it to this rule, so the bucket statement is written here, not there.
          bind: () => ({
            s3Action: {
              bucketName: this.bucket.bucketName,
              objectKeyPrefix: INBOUND_PREFIX,
              topicArn: this.topic.topicArn,
            },
          }),
        },
      ],
    });
    // SES checks it may write and publish when the rule is created.
    for (const policy of [this.bucket.policy, this.topic.node.tryFindChild('Policy')]) {
      if (policy) rule.node.addDependency(policy);
    }
    rule.node.addDependency(props.topicKey);
  }

  /**
   * MAIL_RECHECK_QUEUE_URL + receive, change visibility and delete on the recheck queue: what
   * the sweeper's recovery calls, and nothing else (no GetQueueAttributes, no send).
   */
  bindRecheckConsumer(consumer: RecheckConsumer): void {
    consumer.setEnvironment('MAIL_RECHECK_QUEUE_URL', this.recheckQueue.queueUrl);
    this.recheckQueue.grant(
      consumer.role,
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
    );
  }
}
