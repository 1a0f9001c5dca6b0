import { CfnResource, type Duration, Fn, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertBundledBusinessConfig, entryPath, type FunctionName, LAMBDA_BUNDLING } from '../bundling.ts';

/** The CloudWatch namespace of the metrics the functions emit with Powertools (EMF). */
export const METRICS_NAMESPACE = 'Switchboard';

/**
 * What the store does: single-item conditional writes and queries on the table and its indexes.
 * Scan, batch reads and writes, transactions (ConditionCheckItem is one's part) and stream
 * reads are left out on purpose: no code makes them.
 */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

export interface SwitchboardFunctionProps {
  /** The entry point under `functions/`; it exports `handler`. */
  readonly entry: FunctionName;
  readonly description: string;
  /**
   * POWERTOOLS_SERVICE_NAME: the `service` dimension of every metric. One value for all the
   * functions of a stage, so an alarm finds a metric whichever function emits it.
   */
  readonly service: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack goes. */
  readonly removalPolicy: RemovalPolicy;
  /** Async invocation retries (schedules); leave unset for synchronous and SQS callers. */
  readonly retryAttempts?: number;
}

/** The table a function reads and writes, with what its keys need to be read back. */
export interface TableBinding {
  readonly table: dynamodb.ITable;
  /** The indexes the function queries. */
  readonly indexNames: readonly string[];
  /** Partitions each single-valued listing key is spread over (lib/adapters/dynamodb-shards.ts). */
  readonly indexShards: number;
}

/** Where the http function may touch the mail bucket (S3 key prefixes, with trailing slash). */
export interface MailBucketAccess {
  readonly read: readonly string[];
  readonly write: readonly string[];
}

/**
 * Every Lambda default in one place: Node.js 24 on arm64, minified ESM with source maps, its own
 * log group and its own role. Grants go through the `bind*` helpers so that an environment
 * variable never exists without the permission it needs, nor the other way round.
 */
export class SwitchboardFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SwitchboardFunctionProps) {
    super(scope, id);
    // A config the cold start would refuse (no promise possible, or a stale holiday table: the
    // bundle reads holidays from the generated table only) fails synth, not every webhook.
    assertBundledBusinessConfig();

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may write to
    // any log group in the account, this role only to the function's own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: entryPath(props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      retryAttempts: props.retryAttempts,
      environment: {
        NODE_ENV: 'production',
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.service,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      // Shared with `npm run build` (infra/bundling.ts): the bundle tested is the one deployed.
      bundling: LAMBDA_BUNDLING,
    });
  }

  /** A plain, non-secret setting (a URL, an id). Secrets go through `bindSecret`. */
  setEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  /** TABLE_NAME, TABLE_INDEX_SHARDS + single-item read/write on the table and query on the named indexes. */
  bindTable({ table, indexNames, indexShards }: TableBinding): void {
    this.function.addEnvironment('TABLE_NAME', table.tableName);
    this.function.addEnvironment('TABLE_INDEX_SHARDS', String(indexShards));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...TABLE_ACTIONS],
        resources: [table.tableArn, ...indexNames.map((name) => `${table.tableArn}/index/${name}`)],
      }),
    );
  }

  /** ACK_QUEUE_URL + send. Consuming is the event source's grant, not this one. */
  bindQueue(queue: sqs.IQueue): void {
    this.function.addEnvironment('ACK_QUEUE_URL', queue.queueUrl);
    queue.grantSendMessages(this.role);
  }

  /** SWITCHBOARD_SECRETS_ARN + read; the value is fetched at cold start, never put in the env. */
  bindSecret(secret: secretsmanager.ISecret): void {
    this.function.addEnvironment('SWITCHBOARD_SECRETS_ARN', secret.secretArn);
    secret.grantRead(this.role);
  }

  /** EVENT_BUS_NAME + events:PutEvents on that bus and no other. */
  bindEventBus(bus: events.IEventBus): void {
    this.function.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    bus.grantPutEventsTo(this.role);
  }

  /**
   * MAIL_BUCKET + GetObject under the `read` prefixes and PutObject under the `write` ones.
   * Written out instead of `bucket.grantRead`, whose `s3:GetObject*` / `s3:List*` are wider.
   */
  bindMailBucket(bucket: s3.IBucket, access: MailBucketAccess): void {
    this.function.addEnvironment('MAIL_BUCKET', bucket.bucketName);
    const statement = (action: string, prefixes: readonly string[]) =>
      new iam.PolicyStatement({
        actions: [action],
        resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      });
    if (access.read.length > 0) this.role.addToPrincipalPolicy(statement('s3:GetObject', access.read));
    if (access.write.length > 0) this.role.addToPrincipalPolicy(statement('s3:PutObject', access.write));
    // cdk-nag reports each prefix wildcard as its own finding; acknowledge exactly those.
    const cfnBucket = bucket.node.defaultChild;
    if (!CfnResource.isCfnResource(cfnBucket)) return;
    const logicalId = Stack.of(this).resolve(cfnBucket.logicalId) as string;
    for (const prefix of [...access.read, ...access.write]) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
        reason:
          `Object keys under ${prefix} are chosen at run time (the SES message id, an attachment id), ` +
          'so the grant names the prefix: one action, one prefix of one bucket, the narrowest S3 allows.',
      });
    }
  }

  /**
   * SES_TOPIC_ARNS: the topics whose SNS messages the http function accepts (and whose
   * subscriptions it confirms). Nothing to grant: SNS calls us, and the confirmation is an
   * HTTPS GET of the SubscribeURL.
   */
  acceptSesTopics(topics: readonly sns.ITopic[]): void {
    this.function.addEnvironment(
      'SES_TOPIC_ARNS',
      Fn.join(
        ',',
        topics.map((topic) => topic.topicArn),
      ),
    );
  }

  /**
   * SES_FROM_ADDRESS + ses:SendEmail / ses:SendRawEmail on the one verified identity the address
   * belongs to, and only with that From address.
   */
  bindSesSender(sender: {
    fromAddress: string;
    identityArn: string;
    /** The configuration set every send names (its bounces and complaints come back), and its ARN. */
    configurationSet?: { name: string; arn: string };
  }): void {
    this.function.addEnvironment('SES_FROM_ADDRESS', sender.fromAddress);
    if (sender.configurationSet)
      this.function.addEnvironment('SES_CONFIGURATION_SET', sender.configurationSet.name);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [sender.identityArn, ...(sender.configurationSet ? [sender.configurationSet.arn] : [])],
        conditions: { StringEquals: { 'ses:FromAddress': bareAddress(sender.fromAddress) } },
      }),
    );
  }
}

/** `anna@example.com` from `Anna Kowalska <anna@example.com>` (or from the bare address). */
export function bareAddress(fromAddress: string): string {
  const match = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(fromAddress);
  return (match?.[1] ?? fromAddress).trim();
}
