import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS, tableDefinition } from '#lib/adapters/dynamodb-table.ts';
import { LATE_ACK_HOLD_MS } from '#lib/domain/ack-attempts.ts';
import { OPERATIONS } from '#lib/http/openapi/operations.ts';
import { PROVIDER_SECRET_KEYS } from '../../infra/constructs/provider-secret.ts';
import { ENDPOINTS } from '../../infra/switchboard-stack.ts';
import { logicalId, MAIL_OPTIONS, nagStack, synthStack } from './synth.ts';

type Resource = {
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

const FUNCTIONS = ['Http', 'AckWorker', 'Sweeper'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const ref = (id: string) => ({ Ref: id });

function resource(template: Template, type: string, prefix: string): Resource {
  return template.findResources(type)[logicalId(template, type, prefix)] as Resource;
}

function lambdaFunction(template: Template, name: FunctionName): Resource {
  return resource(template, 'AWS::Lambda::Function', `${name}Function`);
}

function environment(template: Template, name: FunctionName): Record<string, unknown> {
  const props = lambdaFunction(template, name).Properties as {
    Environment: { Variables: Record<string, unknown> };
  };
  return props.Environment.Variables;
}

/** Every (action, resource) pair the function's role may use, from all policies on the role. */
function grantsOf(template: Template, name: FunctionName): string[] {
  const role = (lambdaFunction(template, name).Properties.Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(role)] } }),
  );
  const statements = policies.flatMap(
    (policy) =>
      (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
  );
  return pairs(statements).sort();
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function pairs(statements: Statement[]): string[] {
  const unique = new Set<string>();
  for (const statement of statements) {
    expect(statement.Effect).toBe('Allow');
    for (const action of [statement.Action].flat()) {
      for (const target of [statement.Resource].flat()) unique.add(`${action} ${JSON.stringify(target)}`);
    }
  }
  return [...unique];
}

function expectedGrants(grants: [actions: string[], resources: unknown[]][]): string[] {
  return pairs(
    grants.map(([actions, resources]) => ({ Effect: 'Allow', Action: actions, Resource: resources })),
  ).sort();
}

describe('SwitchboardStack', () => {
  let dev: Template;
  let prod: Template;

  beforeAll(() => {
    dev = synthStack('dev').template;
    prod = synthStack('prod').template;
  });

  describe('table', () => {
    it("should key the single table on pk/sk with the runtime's indexes, all projecting all attributes", () => {
      // Prepare
      const gsi = (name: string) => ({
        IndexName: name,
        KeySchema: [
          { AttributeName: `${name}pk`, KeyType: 'HASH' },
          { AttributeName: `${name}sk`, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });

      // Act + Assess
      dev.resourceCountIs('AWS::DynamoDB::Table', 1);
      dev.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith(
          (tableDefinition('t').AttributeDefinitions ?? []).map(({ AttributeName }) => ({
            AttributeName,
            AttributeType: 'S',
          })),
        ),
        GlobalSecondaryIndexes: TABLE_KEYS.indexes.map((index) => gsi(index.name)),
        BillingMode: 'PAY_PER_REQUEST',
      });
    });

    it('should expire items by expiresAt, keep point-in-time recovery and encrypt with the AWS-managed key', () => {
      dev.hasResourceProperties('AWS::DynamoDB::Table', {
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key id is the AWS-managed aws/dynamodb key.
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
      });
    });

    it('should have no stream, because the design must not depend on one', () => {
      for (const template of [dev, prod]) {
        template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: Match.absent() });
      }
    });

    it('should retain the table and protect it from deletion in prod', () => {
      prod.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      });
    });

    it('should destroy the table with the stack in dev', () => {
      dev.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Delete',
        Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      });
    });
  });

  describe('ack queue', () => {
    it('should move a job to the DLQ after 5 receives and keep it there 14 days', () => {
      // Prepare
      const dlq = logicalId(dev, 'AWS::SQS::Queue', 'AckQueueDeadLetterQueue');

      // Act
      const queue = resource(dev, 'AWS::SQS::Queue', 'AckQueueC4');
      const deadLetters = resource(dev, 'AWS::SQS::Queue', 'AckQueueDeadLetterQueue');

      // Assess
      expect(queue.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: getAtt(dlq),
        maxReceiveCount: 5,
      });
      expect(deadLetters.Properties.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
    });

    it('should hide a received job for at least 6 times the ack worker timeout', () => {
      // Act
      const visibility = resource(dev, 'AWS::SQS::Queue', 'AckQueueC4').Properties
        .VisibilityTimeout as number;
      const workerTimeout = lambdaFunction(dev, 'AckWorker').Properties.Timeout as number;

      // Assess
      expect(workerTimeout).toBe(30);
      expect(visibility).toBeGreaterThanOrEqual(6 * workerTimeout);
    });

    it('should give a failed job all its receives, and its last run, within the time the ack of a message recorded late waits for an inbox reply', () => {
      // Act
      const queue = resource(dev, 'AWS::SQS::Queue', 'AckQueueC4');
      const visibility = queue.Properties.VisibilityTimeout as number;
      const receives = (queue.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount;
      const workerTimeout = lambdaFunction(dev, 'AckWorker').Properties.Timeout as number;

      // Assess: a person's inbox reply queued with the customer's message is placed (or let go)
      // by its job's last receive, before her ack goes (LATE_ACK_HOLD_MS)
      expect(((receives - 1) * visibility + workerTimeout) * 1000).toBeLessThanOrEqual(LATE_ACK_HOLD_MS);
    });

    it('should encrypt every queue (ack + DLQ, stats + DLQ, inbound email DLQ, mail recheck + DLQ) with SQS-managed keys and refuse plain HTTP', () => {
      dev.resourceCountIs('AWS::SQS::Queue', 7);
      dev.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 7);
      dev.resourcePropertiesCountIs(
        'AWS::SQS::QueuePolicy',
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        },
        7,
      );
    });
  });

  describe('provider secret', () => {
    it('should generate a per-stage JSON secret with an empty placeholder per provider credential and a generated agent token', () => {
      // Act
      const secret = resource(prod, 'AWS::SecretsManager::Secret', 'ProviderSecret');
      const generate = secret.Properties.GenerateSecretString as Record<string, unknown>;

      // Assess
      expect(secret.Properties.Name).toBe('switchboard/prod/providers');
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(JSON.parse(generate.SecretStringTemplate as string)).toEqual({
        TWILIO_ACCOUNT_SID: '',
        TWILIO_AUTH_TOKEN: '',
        META_APP_SECRET: '',
        META_VERIFY_TOKEN: '',
        META_PAGE_ACCESS_TOKEN: '',
        INSTAGRAM_ACCESS_TOKEN: '',
        WHATSAPP_ACCESS_TOKEN: '',
        MAILGUN_SIGNING_KEY: '',
      });
      expect(Object.keys(JSON.parse(generate.SecretStringTemplate as string))).toEqual([
        ...PROVIDER_SECRET_KEYS,
      ]);
      expect(generate.GenerateStringKey).toBe('AGENT_API_TOKEN');
    });

    it('should never resolve a secret value into the template', () => {
      for (const template of [dev, prod, synthStack('prod', MAIL_OPTIONS).template]) {
        expect(JSON.stringify(template.toJSON())).not.toContain('{{resolve:secretsmanager');
      }
    });
  });

  describe('functions', () => {
    it('should run every function on Node.js 24, arm64, from a bundled ESM handler with source maps', () => {
      dev.resourceCountIs('AWS::Lambda::Function', FUNCTIONS.length);
      dev.allResourcesProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: {
          Variables: Match.objectLike({ NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps' }),
        },
      });
    });

    it('should give every function of a stage the same Powertools service, so alarms find its metrics', () => {
      for (const [template, stage] of [
        [dev, 'dev'],
        [prod, 'prod'],
      ] as const) {
        template.allResourcesProperties('AWS::Lambda::Function', {
          Environment: {
            Variables: Match.objectLike({
              POWERTOOLS_SERVICE_NAME: `switchboard-${stage}`,
              POWERTOOLS_METRICS_NAMESPACE: 'Switchboard',
            }),
          },
        });
      }
    });

    it.each([
      ['Http', 10, 512],
      ['AckWorker', 30, 512],
      ['Sweeper', 60, 512],
    ] as const)('should give %s a %i s timeout and %i MB', (name, timeout, memory) => {
      const props = lambdaFunction(dev, name).Properties;
      expect([props.Timeout, props.MemorySize]).toEqual([timeout, memory]);
    });

    it('should write each function to its own log group, kept 30 days in dev and 90 in prod', () => {
      for (const name of FUNCTIONS) {
        const logGroup = logicalId(dev, 'AWS::Logs::LogGroup', `${name}LogGroup`);
        expect(lambdaFunction(dev, name).Properties.LoggingConfig).toMatchObject({ LogGroup: ref(logGroup) });
      }
      dev.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      prod.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
      prod.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    });

    it.each([
      [
        'Http',
        [
          'TABLE_NAME',
          'TABLE_INDEX_SHARDS',
          'ACK_QUEUE_URL',
          'PUBLIC_URL',
          'SWITCHBOARD_SECRETS_ARN',
          'EVENT_BUS_NAME',
          'MAIL_BUCKET',
          'SES_TOPIC_ARNS',
        ],
      ],
      [
        'AckWorker',
        [
          'TABLE_NAME',
          'TABLE_INDEX_SHARDS',
          'PUBLIC_URL',
          'SWITCHBOARD_SECRETS_ARN',
          'EVENT_BUS_NAME',
          'ACK_QUEUE_URL',
          'STATS_QUEUE_ARN',
        ],
      ],
      [
        'Sweeper',
        [
          'TABLE_NAME',
          'TABLE_INDEX_SHARDS',
          'ACK_QUEUE_URL',
          'SWITCHBOARD_SECRETS_ARN',
          'EVENT_BUS_NAME',
          'MAIL_RECHECK_QUEUE_URL',
          'MAIL_BUCKET',
        ],
      ],
    ] as const)('should give %s exactly the resource variables %j', (name, expected) => {
      // Prepare
      const defaults = [
        'NODE_ENV',
        'NODE_OPTIONS',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
      ];

      // Act
      const names = Object.keys(environment(dev, name));

      // Assess
      expect(names.sort()).toEqual([...defaults, ...expected].sort());
    });

    it('should point each resource variable at its resource, and hold no secret value', () => {
      // Prepare
      const table = logicalId(dev, 'AWS::DynamoDB::Table', 'DataTable');
      const queue = logicalId(dev, 'AWS::SQS::Queue', 'AckQueueC4');
      const secret = logicalId(dev, 'AWS::SecretsManager::Secret', 'ProviderSecret');
      const api = logicalId(dev, 'AWS::ApiGatewayV2::Api', 'HttpApi');
      const expected: Record<string, unknown> = {
        TABLE_NAME: ref(table),
        TABLE_INDEX_SHARDS: '8',
        ACK_QUEUE_URL: ref(queue),
        SWITCHBOARD_SECRETS_ARN: ref(secret),
        PUBLIC_URL: getAtt(api, 'ApiEndpoint'),
        EVENT_BUS_NAME: ref(logicalId(dev, 'AWS::Events::EventBus', 'EventBus')),
        MAIL_BUCKET: ref(logicalId(dev, 'AWS::S3::Bucket', 'MailIntakeBucket')),
        SES_TOPIC_ARNS: ref(logicalId(dev, 'AWS::SNS::Topic', 'MailIntakeTopic')),
      };

      for (const name of FUNCTIONS) {
        // Act
        const variables = environment(dev, name);

        // Assess
        for (const [key, value] of Object.entries(variables)) {
          if (key in expected) expect(value, key).toEqual(expected[key]);
          else
            expect(key, 'only the secret ARN may name a secret').not.toMatch(
              /SECRET|TOKEN|PASSWORD|AUTH|KEY/,
            );
        }
      }
    });

    it('should give every function the same shard count, the one the deploy asks for', () => {
      // Act
      const { template } = synthStack('prod', { indexShards: 16 });

      // Assess: a function reading with another count than the writers would miss entries.
      for (const name of FUNCTIONS) expect(environment(template, name).TABLE_INDEX_SHARDS, name).toBe('16');
    });

    it('should use the configured public URL for PUBLIC_URL and the webhook output when one is given', () => {
      // Act
      const { template } = synthStack('prod', { publicUrl: 'https://hooks.example.com' });

      // Assess
      expect(environment(template, 'Http').PUBLIC_URL).toBe('https://hooks.example.com');
      expect(environment(template, 'AckWorker').PUBLIC_URL).toBe('https://hooks.example.com');
      template.hasOutput('TwilioMessagingWebhookUrl', {
        Value: 'https://hooks.example.com/webhooks/twilio/messaging',
      });
    });

    it('should pass the WhatsApp phone number id to every function that reads the WhatsApp token, when given', () => {
      // Act
      const { template } = synthStack('dev', { whatsappPhoneNumberId: '106540352242922' });

      // Assess: the sweeper too (since stop 23 a token without its number id stops a cold start)
      expect(environment(template, 'Http').WHATSAPP_PHONE_NUMBER_ID).toBe('106540352242922');
      expect(environment(template, 'AckWorker').WHATSAPP_PHONE_NUMBER_ID).toBe('106540352242922');
      expect(environment(template, 'Sweeper').WHATSAPP_PHONE_NUMBER_ID).toBe('106540352242922');
      expect(environment(dev, 'Http').WHATSAPP_PHONE_NUMBER_ID).toBeUndefined();
    });

    it('should pass the other WhatsApp numbers answered from to every function that reads the WhatsApp token, when given', () => {
      // Act: a Business Account with more numbers (-c whatsappPhoneNumberIds), one token for all
      const { template } = synthStack('dev', {
        whatsappPhoneNumberIds: ['207651463353033', '308762574464144'],
      });

      // Assess: the sweeper too (it counts a number list without the token as misconfigured)
      for (const name of ['Http', 'AckWorker', 'Sweeper'] as const) {
        expect(environment(template, name).WHATSAPP_PHONE_NUMBER_IDS).toBe('207651463353033,308762574464144');
      }
      expect(environment(dev, 'Http').WHATSAPP_PHONE_NUMBER_IDS).toBeUndefined();
    });

    // Session 28: a deployment without Twilio had no way to say so: its empty Twilio secret read
    // as a misconfiguration (503 on Twilio's webhooks, the ChannelMisconfigured alarm for good).
    it('should tell every function that reads the provider secret that Twilio is not used, when -c twilio=off', () => {
      // Act
      const { template } = synthStack('dev', { twilio: false });

      // Assess: each function would otherwise report the empty Twilio values (the sweeper every minute)
      for (const name of FUNCTIONS) expect(environment(template, name).SWITCHBOARD_TWILIO).toBe('off');
      for (const name of FUNCTIONS) expect(environment(dev, name).SWITCHBOARD_TWILIO).toBeUndefined();
    });

    it('should name the received mail domain to the http function and the sweeper, which report it when no sending address is set', () => {
      // Act
      const { template } = synthStack('dev', { mail: { domain: 'example.com' } });

      // Assess
      expect(environment(template, 'Http').MAIL_DOMAIN).toBe('example.com');
      expect(environment(template, 'Sweeper').MAIL_DOMAIN).toBe('example.com');
      expect(environment(dev, 'Sweeper').MAIL_DOMAIN).toBeUndefined();
    });

    // Found at stop 26: META_APP_ID went to the http function only, while the worker also records
    // Meta echoes (a webhook queued while the store was down): there another app's echo of a
    // message to our customer looked like ours or like nothing, unlike the same echo recorded live.
    it('should pass the Meta app id to every function that records Meta webhooks (the http function and the worker), when given', () => {
      // Act
      const { template } = synthStack('dev', { metaAppId: '1234567890123456' });

      // Assess
      expect(environment(template, 'Http').META_APP_ID).toBe('1234567890123456');
      expect(environment(template, 'AckWorker').META_APP_ID).toBe('1234567890123456');
      expect(environment(dev, 'AckWorker').META_APP_ID).toBeUndefined();
    });
  });

  describe('triggers', () => {
    it('should feed the ack worker from the ack queue with partial batch failures and capped concurrency', () => {
      // Prepare
      const queue = logicalId(dev, 'AWS::SQS::Queue', 'AckQueueC4');
      const worker = logicalId(dev, 'AWS::Lambda::Function', 'AckWorkerFunction');

      // Act + Assess
      dev.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
      dev.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queue),
        FunctionName: ref(worker),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        // 2 pollers x 10 records in parallel: ~20 provider calls in flight (docs/deploy.md).
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it('should keep the events EventBridge cannot put on the stats queue in the stats DLQ, under its alarm', () => {
      // Prepare: found at stop 23: a failed delivery to the queue was retried for 24 h, then dropped.
      const dlq = logicalId(dev, 'AWS::SQS::Queue', 'StatsQueueDeadLetterQueue');
      const rule = logicalId(dev, 'AWS::Events::Rule', 'StatsFeed');

      // Act
      const target = (resource(dev, 'AWS::Events::Rule', 'StatsFeed').Properties as { Targets: unknown[] })
        .Targets[0];

      // Assess: the same DLQ the queue's consumer failures go to, so one alarm and one redrive cover both
      expect(target).toMatchObject({ DeadLetterConfig: { Arn: getAtt(dlq) } });
      dev.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': getAtt(rule) } },
            }),
          ]),
        },
        Queues: [ref(dlq)],
      });
      dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: getAtt(dlq, 'QueueName') }],
        MetricName: 'ApproximateNumberOfMessagesVisible',
      });
    });

    it('should copy every Switchboard event to the stats queue and feed the ack worker from it in capped batches', () => {
      // Prepare
      const queue = logicalId(dev, 'AWS::SQS::Queue', 'StatsQueue4');
      const worker = logicalId(dev, 'AWS::Lambda::Function', 'AckWorkerFunction');
      const bus = logicalId(dev, 'AWS::Events::EventBus', 'EventBus');

      // Act
      const rule = resource(dev, 'AWS::Events::Rule', 'StatsFeed').Properties as Record<string, unknown>;

      // Assess: the rule on our bus, for our source, into the queue (which lets only that rule send)
      expect(rule).toMatchObject({
        EventBusName: ref(bus),
        EventPattern: { source: ['switchboard'] },
        Targets: [expect.objectContaining({ Arn: getAtt(queue) })],
      });
      dev.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: {
                ArnEquals: { 'aws:SourceArn': getAtt(logicalId(dev, 'AWS::Events::Rule', 'StatsFeed')) },
              },
            }),
          ]),
        },
        Queues: [ref(queue)],
      });
      dev.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queue),
        FunctionName: ref(worker),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      expect(environment(dev, 'AckWorker').STATS_QUEUE_ARN).toEqual(getAtt(queue));
    });

    it('should run the sweeper every minute without async retries', () => {
      // Prepare
      const sweeper = logicalId(dev, 'AWS::Lambda::Function', 'SweeperFunction');

      // Act + Assess
      dev.resourceCountIs('AWS::Events::Rule', 2);
      dev.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: getAtt(sweeper) })],
      });
      dev.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(sweeper),
        MaximumRetryAttempts: 0,
      });
    });
  });

  describe('permissions', () => {
    let grants: Record<string, [string[], unknown[]]>;

    beforeAll(() => {
      const table = logicalId(dev, 'AWS::DynamoDB::Table', 'DataTable');
      const queue = getAtt(logicalId(dev, 'AWS::SQS::Queue', 'AckQueueC4'));
      const tableArn = getAtt(table);
      const index = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });
      grants = {
        table: [
          [
            'dynamodb:GetItem',
            'dynamodb:Query',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
          ],
          [tableArn, ...TABLE_KEYS.indexes.map((gsi) => index(gsi.name))],
        ],
        send: [['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [queue]],
        consume: [
          [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
          ],
          [queue],
        ],
        consumeStats: [
          [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
          ],
          [getAtt(logicalId(dev, 'AWS::SQS::Queue', 'StatsQueue4'))],
        ],
        secret: [
          ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          [ref(logicalId(dev, 'AWS::SecretsManager::Secret', 'ProviderSecret'))],
        ],
        events: [['events:PutEvents'], [getAtt(logicalId(dev, 'AWS::Events::EventBus', 'EventBus'))]],
        recheck: [
          ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
          [getAtt(logicalId(dev, 'AWS::SQS::Queue', 'MailIntakeRecheckQueue'))],
        ],
        readInboundMail: [['s3:GetObject'], [objects('inbound/*')]],
        writeAttachments: [['s3:PutObject'], [objects('attachments/*')]],
      };
    });

    const objects = (pattern: string) => ({
      'Fn::Join': ['', [getAtt(logicalId(dev, 'AWS::S3::Bucket', 'MailIntakeBucket')), `/${pattern}`]],
    });

    const logs = (name: FunctionName): [string[], unknown[]] => [
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [getAtt(logicalId(dev, 'AWS::Logs::LogGroup', `${name}LogGroup`))],
    ];

    it.each([
      ['Http', ['table', 'send', 'secret', 'events', 'readInboundMail', 'writeAttachments']],
      ['AckWorker', ['table', 'send', 'consume', 'consumeStats', 'secret', 'events']],
      ['Sweeper', ['table', 'send', 'secret', 'events', 'recheck', 'readInboundMail', 'writeAttachments']],
    ] as const)('should let %s do only %j and write its own logs', (name, expected) => {
      // Act
      const actual = grantsOf(dev, name);

      // Assess
      expect(actual).toEqual(
        expectedGrants([logs(name), ...expected.map((grant) => grants[grant] as [string[], unknown[]])]),
      );
    });

    it.each([
      ['dev', {}],
      ['prod', {}],
      ['prod', MAIL_OPTIONS],
      ['dev', { ...MAIL_OPTIONS, whatsappPhoneNumberId: '106540352242922' }],
    ] as const)(
      'should give the %s roles no managed or inline policies, no wildcard action and no "*" resource (%j)',
      (stage, options) => {
        // Act
        const { template } = synthStack(stage, options);
        const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
          (policy) =>
            (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
        );

        // Assess
        template.allResourcesProperties('AWS::IAM::Role', {
          ManagedPolicyArns: Match.absent(),
          Policies: Match.absent(),
          AssumeRolePolicyDocument: {
            Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
          },
        });
        const actions = statements.flatMap((statement) => [statement.Action].flat());
        expect(actions.filter((action) => action.includes('*'))).toEqual([]);
        expect(
          statements.flatMap((statement) => [statement.Resource].flat()).filter((r) => r === '*'),
        ).toEqual([]);
      },
    );

    it('should let only the ack worker send email, from the configured address and its identity alone', () => {
      // Prepare
      const { template } = synthStack('prod', MAIL_OPTIONS);
      const identity = {
        'Fn::Join': [
          '',
          [
            'arn:',
            ref('AWS::Partition'),
            ':ses:',
            ref('AWS::Region'),
            ':',
            ref('AWS::AccountId'),
            ':identity/example.com',
          ],
        ],
      };

      const configurationSet = {
        'Fn::Join': [
          '',
          [
            'arn:',
            ref('AWS::Partition'),
            ':ses:',
            ref('AWS::Region'),
            ':',
            ref('AWS::AccountId'),
            ':configuration-set/switchboard-prod',
          ],
        ],
      };

      // Act
      const sesGrants = (name: FunctionName) =>
        grantsOf(template, name).filter((grant) => grant.startsWith('ses:'));

      // Assess: the identity, and the configuration set every send names.
      expect(sesGrants('AckWorker')).toEqual(
        expectedGrants([
          [
            ['ses:SendEmail', 'ses:SendRawEmail'],
            [identity, configurationSet],
          ],
        ]),
      );
      expect(sesGrants('Http')).toEqual(
        expectedGrants([
          [
            ['ses:SendEmail', 'ses:SendRawEmail'],
            [identity, configurationSet],
          ],
        ]),
      );
      expect(sesGrants('Sweeper')).toEqual([]);
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['ses:SendEmail', 'ses:SendRawEmail'],
              Condition: { StringEquals: { 'ses:FromAddress': 'anna@example.com' } },
            }),
          ]),
        },
      });
      expect(environment(template, 'AckWorker').SES_FROM_ADDRESS).toBe('Anna Kowalska <anna@example.com>');
    });

    it('should name a configuration set on every send that publishes its bounces and complaints to the topic the SES route takes', () => {
      // Act
      const { template } = synthStack('prod', MAIL_OPTIONS);
      const topic = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) =>
        id.startsWith('MailIntakeTopic'),
      );

      // Assess
      template.hasResourceProperties('AWS::SES::ConfigurationSet', { Name: 'switchboard-prod' });
      template.resourceCountIs('AWS::SES::ConfigurationSetEventDestination', 1);
      const configurationSet =
        Object.keys(template.findResources('AWS::SES::ConfigurationSet'))[0] ?? 'missing';
      template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        ConfigurationSetName: ref(configurationSet),
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['bounce', 'complaint'],
          SnsDestination: { TopicARN: ref(topic ?? 'missing') },
        },
      });
      // SES may publish to it for this configuration set, and encrypt with the topic's key.
      const publishers = Object.values(template.findResources('AWS::SNS::TopicPolicy'))
        .flatMap(
          (policy) =>
            (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
        )
        .filter((statement) => JSON.stringify(statement).includes(':configuration-set/'));
      expect(publishers).toHaveLength(1);
      expect(JSON.stringify(publishers[0])).toContain('ses.amazonaws.com');
      expect(JSON.stringify(publishers[0])).toContain('sns:Publish');
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'AllowSesEventPublishingToEncryptedTopic',
              Principal: { Service: 'ses.amazonaws.com' },
            }),
          ]),
        },
      });
      // By reference, not by its name spelled out: a send naming a set CloudFormation has not
      // created yet is refused (ConfigurationSetDoesNotExist), and without the reference nothing
      // orders the functions' update after the set's creation.
      for (const name of ['AckWorker', 'Http'] as const)
        expect(environment(template, name).SES_CONFIGURATION_SET).toEqual(ref(configurationSet));
      expect(environment(template, 'Sweeper').SES_CONFIGURATION_SET).toBeUndefined();
      expect(environment(dev, 'AckWorker').SES_CONFIGURATION_SET).toBeUndefined();
      dev.resourceCountIs('AWS::SES::ConfigurationSet', 0);
    });

    it('should send from the identity given with sesIdentityArn instead, and not at all without a from address', () => {
      // Prepare
      const identityArn = 'arn:aws:ses:eu-central-1:123456789012:identity/anna@example.com';

      // Act
      const { template } = synthStack('dev', { mail: { ...MAIL_OPTIONS.mail, identityArn } });

      // Assess
      const grants = grantsOf(template, 'AckWorker').filter((grant) => grant.startsWith('ses:'));
      expect(grants.filter((grant) => grant.includes(identityArn))).toEqual(
        expectedGrants([[['ses:SendEmail', 'ses:SendRawEmail'], [identityArn]]]),
      );
      expect(grants.filter((grant) => !grant.includes(identityArn)).join()).toContain(
        ':configuration-set/switchboard-dev',
      );
      expect(grantsOf(dev, 'AckWorker').filter((grant) => grant.startsWith('ses:'))).toEqual([]);
      expect(environment(dev, 'AckWorker').SES_FROM_ADDRESS).toBeUndefined();
    });

    it('should let the functions put events on the stage bus only', () => {
      // Act
      const statements = Object.values(dev.findResources('AWS::IAM::Policy')).flatMap(
        (policy) =>
          (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
      );
      const putEvents = statements.filter((statement) =>
        [statement.Action].flat().includes('events:PutEvents'),
      );

      // Assess
      dev.hasResourceProperties('AWS::Events::EventBus', { Name: 'switchboard-dev' });
      prod.hasResourceProperties('AWS::Events::EventBus', { Name: 'switchboard-prod' });
      expect(putEvents).toHaveLength(FUNCTIONS.length);
      for (const statement of putEvents) {
        expect(statement.Action).toBe('events:PutEvents');
        expect(statement.Resource).toEqual(getAtt(logicalId(dev, 'AWS::Events::EventBus', 'EventBus')));
      }
    });
  });

  describe('HTTP API', () => {
    it('should send every request to the http function through one integration: a $default route, and the webhook and API routes that exist for their throttles', () => {
      // Prepare
      const http = logicalId(dev, 'AWS::Lambda::Function', 'HttpFunction');
      const integration = logicalId(dev, 'AWS::ApiGatewayV2::Integration', 'HttpApi');

      // Act + Assess
      dev.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      dev.resourceCountIs('AWS::ApiGatewayV2::Route', 3);
      dev.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: '$default',
        Target: { 'Fn::Join': ['', ['integrations/', ref(integration)]] },
      });
      dev.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: getAtt(http),
        PayloadFormatVersion: '2.0',
      });
    });

    it('should throttle the default route and write access logs to a retained log group', () => {
      // Prepare
      const accessLogs = logicalId(dev, 'AWS::Logs::LogGroup', 'HttpApiAccessLogs');

      // Act + Assess
      dev.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingBurstLimit: 20,
          ThrottlingRateLimit: 10,
        },
        AccessLogSettings: {
          DestinationArn: getAtt(accessLogs),
          Format: Match.stringLikeRegexp('requestId'),
        },
      });
    });

    // Stop 25: one stage throttle (300 req/s) served the webhooks and the API alike, so an agents'
    // tool gone wild or a flood of wrong tokens could throttle the providers' webhooks, and
    // Twilio does not post a throttled webhook again.
    it("should give the providers' webhooks, the agents' API and the rest throttles of their own", () => {
      // Prepare
      const integration = logicalId(dev, 'AWS::ApiGatewayV2::Integration', 'HttpApi');
      const routes = dev.findResources('AWS::ApiGatewayV2::Route');
      const stage = Object.values(dev.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
        Properties: Record<string, unknown>;
        DependsOn?: string[];
      };

      // Act
      const keys = Object.values(routes).map(
        (route) => (route.Properties as { RouteKey: string; Target: unknown }).RouteKey,
      );

      // Assess: one integration behind every route; each route's bucket (docs/scale.md)
      expect(keys.sort()).toEqual(['$default', 'ANY /api/{proxy+}', 'ANY /webhooks/{proxy+}']);
      for (const route of Object.values(routes)) {
        expect((route.Properties as { Target: unknown }).Target).toEqual({
          'Fn::Join': ['', ['integrations/', ref(integration)]],
        });
      }
      expect(stage.Properties.DefaultRouteSettings).toEqual({
        ThrottlingBurstLimit: 20,
        ThrottlingRateLimit: 10,
      });
      expect(stage.Properties.RouteSettings).toEqual({
        'ANY /webhooks/{proxy+}': { ThrottlingBurstLimit: 600, ThrottlingRateLimit: 300 },
        'ANY /api/{proxy+}': { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      });
      // CloudFormation refuses settings for a route key it has not created yet.
      const throttled = Object.entries(routes)
        .filter(([, route]) => (route.Properties as { RouteKey: string }).RouteKey !== '$default')
        .map(([id]) => id);
      expect(stage.DependsOn ?? []).toEqual(expect.arrayContaining(throttled));
    });

    // Found by a security review at stop 24: the contact lookup carried its key (a phone
    // number, an address) in the path, and the access log records the path.
    it("should keep the customers' phone numbers and addresses out of the API Gateway access log, as its format promises", () => {
      // Prepare: the stage's access log format, and the contact lookup as the OpenAPI document
      // (and so the README and the CLIs) gives it, for a phone number and an address.
      const stage = Object.values(dev.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
        Properties: { AccessLogSettings: { Format: string } };
      };
      const format = stage.Properties.AccessLogSettings.Format;
      const lookup = OPERATIONS.find((operation) => operation.operationId === 'getContact');
      const lookups = ['phone:+48601234567', 'email:anna.nowak@example.com'].map((key) => {
        const url = new URL(
          `https://api.example.com${lookup?.path.replace(':key', encodeURIComponent(key))}`,
        );
        if (lookup?.query?.shape.key) url.searchParams.set('key', key);
        return url;
      });

      // Act: the line API Gateway writes for each ($context.path is the path, without the query)
      const lines = lookups.map((url) =>
        format
          .replaceAll('$context.path', url.pathname)
          .replaceAll('$context.httpMethod', 'GET')
          .replace(/\$context\.[A-Za-z.]+/g, '-'),
      );

      // Assess: neither the number nor the address is kept in the log group
      expect(lines.filter((line) => /48601234567|anna\.nowak/.test(line))).toEqual([]);
    });

    it('should output the API URL and the URL of every provider webhook and of the agents API', () => {
      // Prepare
      const endpoint = getAtt(logicalId(dev, 'AWS::ApiGatewayV2::Api', 'HttpApi'), 'ApiEndpoint');
      const paths = {
        TwilioMessagingWebhookUrl: '/webhooks/twilio/messaging',
        TwilioVoiceWebhookUrl: '/webhooks/twilio/voice',
        TwilioStatusCallbackUrl: '/webhooks/twilio/status',
        MetaWebhookUrl: '/webhooks/meta',
        SesWebhookUrl: '/webhooks/email/ses',
        MailgunWebhookUrl: '/webhooks/email/mailgun',
        AgentsApiUrl: '/api',
      };

      // Act + Assess
      expect(Object.keys(ENDPOINTS).sort()).toEqual(Object.keys(paths).sort());
      dev.hasOutput('ApiUrl', { Value: endpoint });
      for (const [name, path] of Object.entries(paths)) {
        dev.hasOutput(name, { Value: { 'Fn::Join': ['', [endpoint, path]] } });
      }
    });

    it("should leave out Twilio's webhook URLs when the deployment does not use Twilio, and keep the secret's placeholders", () => {
      // Act
      const { template } = synthStack('prod', { twilio: false });
      const outputs = Object.keys(template.findOutputs('*'));
      const secret = (t: Template) =>
        resource(t, 'AWS::SecretsManager::Secret', 'ProviderSecret').Properties.GenerateSecretString;

      // Assess: nothing to paste into a Twilio console; the secret's template is unchanged, as a
      // changed template makes CloudFormation generate the secret anew (the pasted values lost)
      expect(outputs.filter((name) => name.startsWith('Twilio'))).toEqual([]);
      expect(outputs).toEqual(
        expect.arrayContaining(['MetaWebhookUrl', 'MailgunWebhookUrl', 'AgentsApiUrl']),
      );
      expect(secret(template)).toEqual(secret(prod));
    });

    it('should serve a custom domain when given one, and make it the public URL', () => {
      // Prepare
      const certificateArn = 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-1234';

      // Act
      const { template } = synthStack('prod', {
        publicUrl: 'https://hooks.example.com',
        customDomain: { domainName: 'hooks.example.com', certificateArn },
      });

      // Assess
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'hooks.example.com',
        DomainNameConfigurations: [
          Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
        ],
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: '$default' });
      template.hasOutput('CustomDomainTarget', { Value: Match.anyValue() });
      template.hasOutput('MetaWebhookUrl', { Value: 'https://hooks.example.com/webhooks/meta' });
      expect(environment(template, 'Http').PUBLIC_URL).toBe('https://hooks.example.com');
      dev.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    const certificateArn = 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-1234';

    it.each([
      ['dev', {}],
      ['prod', {}],
      ['dev', MAIL_OPTIONS],
      ['prod', { ...MAIL_OPTIONS, customDomain: { domainName: 'hooks.example.com', certificateArn } }],
    ] as const)('should find nothing unacknowledged in %s with %j', (stage, options) => {
      // Act
      const { violations } = nagStack(stage, options);

      // Assess
      expect(violations).toEqual([]);
    });

    it('should acknowledge only the reviewed findings, each with a written reason', () => {
      // Act
      const { acknowledgments } = nagStack('prod', MAIL_OPTIONS);

      // Assess
      // CDK records an acknowledgment under a namespace of its own; the rule is what matters.
      const rules = acknowledgments.map(({ path, id }) => `${id.replace(/^\w+::/, '')} @ ${path}`);
      expect(rules.sort()).toEqual([
        'AwsSolutions-APIG4 @ Switchboard-prod/HttpApi/Api/DefaultRoute',
        'AwsSolutions-APIG4 @ Switchboard-prod/HttpApi/ApiRoute',
        'AwsSolutions-APIG4 @ Switchboard-prod/HttpApi/WebhooksRoute',
        'AwsSolutions-IAM5[Resource::<MailIntakeBucket12A9C22D.Arn>/attachments/*] @ Switchboard-prod/Http/Role',
        'AwsSolutions-IAM5[Resource::<MailIntakeBucket12A9C22D.Arn>/attachments/*] @ Switchboard-prod/Sweeper/Role',
        'AwsSolutions-IAM5[Resource::<MailIntakeBucket12A9C22D.Arn>/inbound/*] @ Switchboard-prod/Http/Role',
        'AwsSolutions-IAM5[Resource::<MailIntakeBucket12A9C22D.Arn>/inbound/*] @ Switchboard-prod/Sweeper/Role',
        'AwsSolutions-S1 @ Switchboard-prod/MailIntake/Bucket',
        'AwsSolutions-SMG4 @ Switchboard-prod/ProviderSecret/Secret',
        'AwsSolutions-SQS3 @ Switchboard-prod/MailIntake/DeadLetterQueue',
      ]);
      for (const { reason } of acknowledgments) expect(reason.length).toBeGreaterThan(80);
    });
  });
});
