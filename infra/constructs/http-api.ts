import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * One API Gateway bucket per kind of caller: the providers' webhooks (`/webhooks/*`), the agents'
 * API (`/api/*`) and everything else (`/healthz`, `/inbox`, unknown paths). Each is a route of its
 * own, so one kind's flood never throttles another's.
 */
export interface HttpApiThrottles {
  readonly webhooks: Required<apigwv2.ThrottleSettings>;
  readonly api: Required<apigwv2.ThrottleSettings>;
  readonly other: Required<apigwv2.ThrottleSettings>;
}

export interface HttpApiProps {
  /** Receives every route: the Hono app does the routing. */
  readonly handler: lambda.IFunction;
  readonly throttle: HttpApiThrottles;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Serves the API on this domain too (the DNS record pointing at it is yours to create). */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
}

// Only what an operator needs to trace a request; no query strings, headers or bodies, which
// can carry phone numbers and message text. The path is kept (which webhook, which
// conversation), so no route carries personal data in it: a contact is looked up with
// GET /api/contacts?key=… (the older path form, kept for existing clients, is the one exception:
// docs/deploy.md). API Gateway cannot mask part of a path, and logging $context.routeKey instead
// would need one API Gateway route per Hono route (three greedy routes exist only for their
// throttles).
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTimeEpoch',
    sourceIp: '$context.identity.sourceIp',
    method: '$context.httpMethod',
    path: '$context.path',
    status: '$context.status',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/** The public HTTP entry point: webhooks from providers and the agents' API. */
export class HttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly stage: apigwv2.HttpStage;
  /** With a custom domain: what its DNS CNAME (or alias) must point at. */
  readonly domainTarget?: string;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    const integration = new HttpLambdaIntegration('Handler', props.handler);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: Stack.of(this).stackName,
      description: 'Switchboard: provider webhooks and the agents API',
      // The routes live in the Hono app, so local and Lambda route alike; API Gateway's routes
      // below exist only to give each kind of caller its own throttle bucket.
      defaultIntegration: integration,
      // The default stage is added below, with throttling and access logs.
      createDefaultStage: false,
    });
    // Greedy routes: Hono routes below them as it does locally.
    const routes = (['webhooks', 'api'] as const).map((kind) => {
      const key = apigwv2.HttpRouteKey.with(`/${kind}/{proxy+}`, apigwv2.HttpMethod.ANY);
      const route = new apigwv2.HttpRoute(this, `${kind === 'api' ? 'Api' : 'Webhooks'}Route`, {
        httpApi: this.api,
        routeKey: key,
        integration,
      });
      return { kind, key: key.key, route };
    });
    const authorization =
      'Providers cannot send credentials an authorizer understands: each webhook is authenticated ' +
      'by its HMAC signature over the raw body (X-Twilio-Signature, X-Hub-Signature-256), which ' +
      'only the function can check. /api/* is authenticated by a bearer token in the Hono app.';
    for (const route of [this.api.node.findChild('DefaultRoute'), ...routes.map(({ route }) => route)]) {
      Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: authorization });
    }
    const domainName = props.customDomain
      ? new apigwv2.DomainName(this, 'DomainName', {
          domainName: props.customDomain.domainName,
          certificate: acm.Certificate.fromCertificateArn(
            this,
            'Certificate',
            props.customDomain.certificateArn,
          ),
          securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
        })
      : undefined;
    this.domainTarget = domainName?.regionalDomainName;
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // The default route's bucket: /healthz, /inbox and paths the app does not serve.
      throttle: props.throttle.other,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
      // The whole domain maps to the API: providers call https://<domain>/webhooks/...
      ...(domainName ? { domainMapping: { domainName } } : {}),
    });
    // Route-level throttling has no L2 property yet (the stage's `throttle` is the default
    // route settings). CloudFormation refuses settings for a route key it has not created.
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      routes.map(({ kind, key }) => [
        key,
        // A JSON map in CloudFormation: its keys are written as they are, so in its casing.
        {
          ThrottlingRateLimit: props.throttle[kind].rateLimit,
          ThrottlingBurstLimit: props.throttle[kind].burstLimit,
        },
      ]),
    );
    for (const { route } of routes) this.stage.node.addDependency(route);
  }

  /** The invoke URL of the default stage, without a trailing slash. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
