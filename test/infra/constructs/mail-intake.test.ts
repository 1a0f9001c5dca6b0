import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { retryHorizonSeconds, SES_DELIVERY_RETRIES } from '../../../infra/constructs/mail-intake.ts';
import { logicalId, MAIL_OPTIONS, synthStack } from '../synth.ts';

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const ref = (id: string) => ({ Ref: id });
const ruleArn = (stage: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      ref('AWS::Partition'),
      ':ses:',
      ref('AWS::Region'),
      ':',
      ref('AWS::AccountId'),
      `:receipt-rule-set/switchboard-${stage}:receipt-rule/switchboard-${stage}-inbound`,
    ],
  ],
});

describe('MailIntake', () => {
  const templates: Record<'dev' | 'prod' | 'devMail' | 'prodMail', Template> = {} as never;

  beforeAll(() => {
    templates.dev = synthStack('dev').template;
    templates.prod = synthStack('prod').template;
    templates.devMail = synthStack('dev', MAIL_OPTIONS).template;
    templates.prodMail = synthStack('prod', MAIL_OPTIONS).template;
  });

  describe('bucket', () => {
    it.each(['dev', 'prod', 'devMail', 'prodMail'] as const)(
      'should be private, SSE-S3 encrypted, unversioned and TLS-only (%s)',
      (variant) => {
        // Prepare
        const template = templates[variant];
        const bucket = logicalId(template, 'AWS::S3::Bucket', 'MailIntakeBucket');

        // Act + Assess
        template.resourceCountIs('AWS::S3::Bucket', 1);
        template.hasResourceProperties('AWS::S3::Bucket', {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          VersioningConfiguration: Match.absent(),
        });
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: ref(bucket),
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 's3:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      },
    );

    it('should expire raw mail after 90 days and attachments after a year by default', () => {
      templates.dev.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'inbound/', ExpirationInDays: 90, Status: 'Enabled' }),
            Match.objectLike({ Prefix: 'attachments/', ExpirationInDays: 365, Status: 'Enabled' }),
          ]),
        },
      });
    });

    it('should take the expiry periods from the settings', () => {
      // Act
      const { template } = synthStack('prod', { mail: { rawMailDays: 30, attachmentDays: 180 } });

      // Assess
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'inbound/', ExpirationInDays: 30 }),
            Match.objectLike({ Prefix: 'attachments/', ExpirationInDays: 180 }),
          ]),
        },
      });
    });

    it('should retain the bucket in prod and delete it with the stack in dev', () => {
      templates.prodMail.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      templates.devMail.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    });
  });

  describe('without a mail domain', () => {
    it.each(['dev', 'prod'] as const)(
      'should create no receipt rule set and let SES nowhere (%s)',
      (variant) => {
        // Prepare
        const template = templates[variant];

        // Act
        const json = JSON.stringify(template.toJSON());

        // Assess
        template.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
        template.resourceCountIs('AWS::SES::ReceiptRule', 0);
        expect(json).not.toContain('ses.amazonaws.com');
        // The topic and its subscription stay: another rule set may publish to it (SES_TOPIC_ARNS).
        template.resourceCountIs('AWS::SNS::Subscription', 1);
      },
    );
  });

  describe('with a mail domain', () => {
    it.each([
      ['devMail', 'dev'],
      ['prodMail', 'prod'],
    ] as const)(
      'should store mail for the domain under inbound/ and notify the topic (%s)',
      (variant, stage) => {
        // Prepare
        const template = templates[variant];
        const bucket = logicalId(template, 'AWS::S3::Bucket', 'MailIntakeBucket');
        const topic = logicalId(template, 'AWS::SNS::Topic', 'MailIntakeTopic');
        const ruleSet = logicalId(template, 'AWS::SES::ReceiptRuleSet', 'MailIntakeRuleSet');

        // Act + Assess
        template.hasResourceProperties('AWS::SES::ReceiptRuleSet', { RuleSetName: `switchboard-${stage}` });
        template.resourceCountIs('AWS::SES::ReceiptRule', 1);
        template.hasResourceProperties('AWS::SES::ReceiptRule', {
          RuleSetName: ref(ruleSet),
          Rule: {
            Name: `switchboard-${stage}-inbound`,
            Enabled: true,
            Recipients: ['support.example.com'],
            ScanEnabled: true,
            Actions: [
              { S3Action: { BucketName: ref(bucket), ObjectKeyPrefix: 'inbound/', TopicArn: ref(topic) } },
            ],
          },
        });
      },
    );

    it('should let SES write raw mail only under inbound/, only for this account and receipt rule', () => {
      // Prepare
      const template = templates.prodMail;
      const bucket = logicalId(template, 'AWS::S3::Bucket', 'MailIntakeBucket');

      // Act + Assess
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowSesReceiptRuleToStoreMail',
              Effect: 'Allow',
              Principal: { Service: 'ses.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [getAtt(bucket), '/inbound/*']] },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': ref('AWS::AccountId'),
                  'aws:SourceArn': ruleArn('prod'),
                },
              },
            },
          ]),
        },
      });
    });

    it('should let SES publish to the encrypted topic only from this receipt rule', () => {
      // Prepare
      const template = templates.prodMail;
      const topic = logicalId(template, 'AWS::SNS::Topic', 'MailIntakeTopic');
      const key = logicalId(template, 'AWS::KMS::Key', 'TopicKey');

      // Act + Assess
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: getAtt(key) });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'ses.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [ref(topic)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'ses.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': ref('AWS::AccountId'),
                  'aws:SourceArn': ruleArn('prod'),
                },
              },
            }),
          ]),
        },
      });
    });

    it('should create the rule only after SES may write to the bucket and publish to the topic', () => {
      // Prepare
      const template = templates.prodMail;

      // Act
      const rule = Object.values(template.findResources('AWS::SES::ReceiptRule'))[0] as {
        DependsOn: string[];
      };

      // Assess
      expect(rule.DependsOn).toEqual(
        expect.arrayContaining([
          logicalId(template, 'AWS::S3::BucketPolicy', 'MailIntakeBucketPolicy'),
          logicalId(template, 'AWS::SNS::TopicPolicy', 'MailIntakeTopicPolicy'),
        ]),
      );
    });
  });

  describe('SNS → HTTPS delivery', () => {
    it('should subscribe the SES webhook URL over HTTPS, envelope kept, with a dead-letter queue', () => {
      // Prepare
      const template = templates.devMail;
      const api = logicalId(template, 'AWS::ApiGatewayV2::Api', 'HttpApi');
      const dlq = logicalId(template, 'AWS::SQS::Queue', 'MailIntakeDeadLetterQueue');
      const topic = logicalId(template, 'AWS::SNS::Topic', 'MailIntakeTopic');

      // Act + Assess
      template.hasResourceProperties('AWS::SNS::Subscription', {
        TopicArn: ref(topic),
        Protocol: 'https',
        Endpoint: { 'Fn::Join': ['', [getAtt(api, 'ApiEndpoint'), '/webhooks/email/ses']] },
        RawMessageDelivery: false,
        RedrivePolicy: { deadLetterTargetArn: getAtt(dlq) },
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(dlq)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Condition: { ArnEquals: { 'aws:SourceArn': ref(topic) } },
            }),
          ]),
        },
      });
    });

    it('should retry for most of an hour and never past the 3,600 s SNS allows', () => {
      // Act
      const horizon = retryHorizonSeconds(SES_DELIVERY_RETRIES);

      // Assess
      templates.devMail.hasResourceProperties('AWS::SNS::Subscription', {
        DeliveryPolicy: {
          healthyRetryPolicy: {
            minDelayTarget: 20,
            maxDelayTarget: 300,
            numRetries: 14,
            numNoDelayRetries: 1,
            numMinDelayRetries: 2,
            numMaxDelayRetries: 9,
            backoffFunction: 'EXPONENTIAL',
          },
          throttlePolicy: { maxReceivesPerSecond: 10 },
        },
      });
      expect(horizon).toBeLessThanOrEqual(3600);
      expect(horizon).toBeGreaterThanOrEqual(45 * 60);
    });

    it('should subscribe only once the API and the function can answer the confirmation', () => {
      // Prepare
      const template = templates.devMail;

      // Act
      const subscription = Object.values(template.findResources('AWS::SNS::Subscription'))[0] as {
        DependsOn: string[];
      };

      // Assess
      expect(subscription.DependsOn).toEqual(
        expect.arrayContaining([
          logicalId(template, 'AWS::Lambda::Function', 'HttpFunction'),
          logicalId(template, 'AWS::ApiGatewayV2::Stage', 'HttpApiDefaultStage'),
          // The confirmation is a POST to /webhooks/email/ses: the webhooks route takes it.
          logicalId(template, 'AWS::ApiGatewayV2::Route', 'HttpApiWebhooksRoute'),
        ]),
      );
    });

    it('should post to the public URL when one is configured', () => {
      // Act
      const { template } = synthStack('prod', { ...MAIL_OPTIONS, publicUrl: 'https://hooks.example.com' });

      // Assess
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Endpoint: 'https://hooks.example.com/webhooks/email/ses',
      });
    });
  });
});
