import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '#lib/config/env.ts';
import {
  RECHECK_MAX_RECEIVES,
  retryHorizonSeconds,
  SES_DELIVERY_RETRIES,
} from '../../infra/constructs/mail-intake.ts';
import { logicalId, MAIL_OPTIONS, nagStack, synthStack } from './synth.ts';

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const ref = (id: string) => ({ Ref: id });

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
};

function statementsOf(template: Template, type: string, filter: Record<string, unknown>): Statement[] {
  return Object.values(template.findResources(type, filter)).flatMap(
    (resource) =>
      (resource.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
  );
}

/** Every statement of every IAM policy on a function's role. */
function roleStatements(template: Template, name: 'Http' | 'AckWorker' | 'Sweeper'): Statement[] {
  const fn = template.findResources('AWS::Lambda::Function')[
    logicalId(template, 'AWS::Lambda::Function', `${name}Function`)
  ] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  return statementsOf(template, 'AWS::IAM::Policy', {
    Properties: { Roles: [ref(fn.Properties.Role['Fn::GetAtt'][0])] },
  });
}

describe('mail recovery (S3 ObjectCreated → mail-recheck queue → sweeper)', () => {
  let dev: Template;
  let prodMail: Template;
  let ids: { bucket: string; queue: string; dlq: string };

  beforeAll(() => {
    dev = synthStack('dev').template;
    prodMail = synthStack('prod', MAIL_OPTIONS).template;
    ids = {
      bucket: logicalId(dev, 'AWS::S3::Bucket', 'MailIntakeBucket'),
      queue: logicalId(dev, 'AWS::SQS::Queue', 'MailIntakeRecheckQueue'),
      dlq: logicalId(dev, 'AWS::SQS::Queue', 'MailIntakeRecheckDeadLetterQueue'),
    };
  });

  describe('bucket notification', () => {
    it('should notify the recheck queue of every object created under inbound/, and nothing else', () => {
      // Act
      const bucket = dev.findResources('AWS::S3::Bucket')[ids.bucket] as {
        Properties: { NotificationConfiguration: Record<string, unknown> };
      };

      // Assess
      expect(bucket.Properties.NotificationConfiguration).toEqual({
        QueueConfigurations: [
          {
            Event: 's3:ObjectCreated:*',
            Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'inbound/' }] } },
            Queue: getAtt(ids.queue),
          },
        ],
      });
    });

    it('should configure the notification natively, after the queue policy, without a custom-resource Lambda', () => {
      // Prepare
      const policy = logicalId(dev, 'AWS::SQS::QueuePolicy', 'MailIntakeRecheckQueuePolicy');

      // Act
      const bucket = dev.findResources('AWS::S3::Bucket')[ids.bucket] as { DependsOn?: string[] };

      // Assess
      // S3 checks it may send when the notification is put: the policy must exist first.
      expect(bucket.DependsOn).toContain(policy);
      dev.resourceCountIs('Custom::S3BucketNotifications', 0);
      expect(Object.keys(dev.findResources('AWS::Lambda::Function'))).toHaveLength(3);
    });

    it('should let only S3 of this account send to the queue', () => {
      // Act
      const statements = statementsOf(dev, 'AWS::SQS::QueuePolicy', {
        Properties: { Queues: [ref(ids.queue)] },
      });

      // Assess
      expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Principal: { Service: 's3.amazonaws.com' },
          Resource: getAtt(ids.queue),
          Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
        }),
      ]);
    });
  });

  describe('queue', () => {
    it.each([
      ['recheck queue', 'queue'],
      ['its dead-letter queue', 'dlq'],
    ] as const)('should encrypt the %s with SQS-managed keys and refuse plain HTTP', (_name, which) => {
      // Act
      const queue = dev.findResources('AWS::SQS::Queue')[ids[which]] as {
        Properties: Record<string, unknown>;
      };
      const statements = statementsOf(dev, 'AWS::SQS::QueuePolicy', {
        Properties: { Queues: [ref(ids[which])] },
      });

      // Assess
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });

    it('should hide a notice 10 minutes per look, keep it 14 days, and park it in its DLQ after 24 receives', () => {
      // Act + Assess
      dev.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: 600,
        MessageRetentionPeriod: 14 * 24 * 3600,
        RedrivePolicy: { deadLetterTargetArn: getAtt(ids.dlq), maxReceiveCount: RECHECK_MAX_RECEIVES },
      });
      const dlq = dev.findResources('AWS::SQS::Queue')[ids.dlq] as { Properties: Record<string, unknown> };
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      // A mail waits out SNS's retries (one look per 10 minutes) with receives to spare.
      expect(
        RECHECK_MAX_RECEIVES - Math.ceil(retryHorizonSeconds(SES_DELIVERY_RETRIES) / 600),
      ).toBeGreaterThan(10);
    });

    it("should recover a mail only once SNS's retry policy is over, by default", () => {
      // Act
      const { MAIL_RECOVERY_AFTER_MINUTES } = parseEnv({});

      // Assess
      expect(MAIL_RECOVERY_AFTER_MINUTES * 60).toBeGreaterThanOrEqual(
        retryHorizonSeconds(SES_DELIVERY_RETRIES),
      );
    });
  });

  describe('sweeper', () => {
    it('should give the sweeper the queue URL and the mail bucket, and our from address when there is one', () => {
      // Act
      const variables = (template: Template) =>
        (
          template.findResources('AWS::Lambda::Function')[
            logicalId(template, 'AWS::Lambda::Function', 'SweeperFunction')
          ] as { Properties: { Environment: { Variables: Record<string, unknown> } } }
        ).Properties.Environment.Variables;

      // Assess
      expect(variables(dev)).toMatchObject({
        MAIL_RECHECK_QUEUE_URL: ref(ids.queue),
        MAIL_BUCKET: ref(ids.bucket),
      });
      expect(variables(dev).SES_FROM_ADDRESS).toBeUndefined();
      expect(variables(prodMail).SES_FROM_ADDRESS).toBe('Anna Kowalska <anna@example.com>');
    });

    it('should let the sweeper receive, hide and delete notices, read inbound/ and write attachments/, and no more', () => {
      // Prepare
      const objects = (prefix: string) => ({ 'Fn::Join': ['', [getAtt(ids.bucket), `/${prefix}*`]] });

      // Act
      const statements = roleStatements(dev, 'Sweeper');
      const onRecovery = statements.filter(
        (statement) =>
          JSON.stringify(statement.Resource).includes(ids.queue) ||
          JSON.stringify(statement.Resource).includes(ids.bucket),
      );

      // Assess
      expect(onRecovery).toEqual([
        {
          Effect: 'Allow',
          Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'],
          Resource: getAtt(ids.queue),
        },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('inbound/') },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: objects('attachments/') },
      ]);
      expect(
        roleStatements(prodMail, 'Sweeper').flatMap((statement) => [statement.Action].flat()),
      ).not.toContainEqual(expect.stringMatching(/^ses:/));
    });

    it('should let no other function touch the recheck queue', () => {
      // Act
      const others = [...roleStatements(dev, 'Http'), ...roleStatements(dev, 'AckWorker')];

      // Assess
      expect(others.filter((statement) => JSON.stringify(statement.Resource).includes(ids.queue))).toEqual(
        [],
      );
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it.each([
      ['dev', {}],
      ['prod', MAIL_OPTIONS],
    ] as const)(
      'should find nothing unacknowledged in %s with %j, and acknowledge nothing on the queues',
      (stage, options) => {
        // Act
        const { violations, acknowledgments } = nagStack(stage, options);

        // Assess
        expect(violations).toEqual([]);
        expect(acknowledgments.filter(({ path }) => path.includes('/MailIntake/Recheck'))).toEqual([]);
        expect(
          acknowledgments
            .filter(({ path }) => path.endsWith('/Sweeper/Role'))
            .map(({ id }) => id.replace(/^\w+::/, ''))
            .sort(),
        ).toEqual([
          `AwsSolutions-IAM5[Resource::<${ids.bucket}.Arn>/attachments/*]`,
          `AwsSolutions-IAM5[Resource::<${ids.bucket}.Arn>/inbound/*]`,
        ]);
      },
    );
  });
});
