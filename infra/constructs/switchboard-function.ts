import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The embedded emulators and the dev server of `lib/local`. They are external so that a stray
 * import fails loudly at cold start instead of shipping a database emulator to Lambda; they are
 * never installed into the bundle (no `nodeModules`).
 */
const LOCAL_ONLY_MODULES = ['dynalite', 'fauxqs', '@hono/node-server'] as const;

/**
 * What the store does: single-item conditional writes and queries on the table and its indexes.
 * Scan, batch writes and stream reads are left out on purpose (no transactions, no streams).
 */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

// Bundled CommonJS dependencies call `require`, which an ES module does not have.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __switchboardCreateRequire } from 'node:module';" +
  'const require = __switchboardCreateRequire(import.meta.url);';

export interface SwitchboardFunctionProps {
  /** Absolute path of the entry file under `functions/`; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack goes. */
  readonly removalPolicy: RemovalPolicy;
  /** Async invocation retries (schedules); leave unset for synchronous and SQS callers. */
  readonly retryAttempts?: number;
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
      entry: props.entry,
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
      },
      bundling: {
        format: OutputFormat.ESM,
        // Prefer the ESM build of dual packages so tree shaking works.
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK clients are bundled: the versions the tests ran against are the ones that run,
        // not whatever the Lambda runtime happens to ship.
        bundleAwsSDK: true,
        externalModules: [...LOCAL_ONLY_MODULES],
      },
    });
  }

  /** TABLE_NAME + single-item read/write on the table and query on the named indexes. */
  bindTable(table: dynamodb.ITable, indexNames: readonly string[]): void {
    this.function.addEnvironment('TABLE_NAME', table.tableName);
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
}
