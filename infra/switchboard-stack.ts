import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AckQueue } from './constructs/ack-queue.ts';
import { Data } from './constructs/data.ts';
import { HttpApi } from './constructs/http-api.ts';
import { ProviderSecret } from './constructs/provider-secret.ts';
import { SwitchboardFunction } from './constructs/switchboard-function.ts';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface SwitchboardStackProps extends StackProps {
  readonly stage: Stage;
  /**
   * The base URL providers call (a custom domain in front of the API). Twilio signs the exact
   * URL it called, so signature checks need it. Default: the API's own endpoint.
   */
  readonly publicUrl?: string;
}

const entry = (file: string) => path.join(import.meta.dirname, '..', 'functions', file);

export class SwitchboardStack extends Stack {
  constructor(scope: Construct, id: string, props: SwitchboardStackProps) {
    super(scope, id, props);

    const prod = props.stage === 'prod';
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = prod ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.ONE_WEEK;
    const ackWorkerTimeout = Duration.seconds(30);

    const data = new Data(this, 'Data', { retain: prod });
    const ackQueue = new AckQueue(this, 'AckQueue', { consumerTimeout: ackWorkerTimeout });
    const { secret } = new ProviderSecret(this, 'ProviderSecret', { stage: props.stage, removalPolicy });

    const http = new SwitchboardFunction(this, 'Http', {
      entry: entry('http.ts'),
      description: 'Switchboard provider webhooks and agents API',
      // Twilio gives up on a webhook after 15 s; answer or fail well before that so it retries.
      timeout: Duration.seconds(10),
      memorySize: 512,
      logRetention,
      removalPolicy,
    });
    http.bindTable(data.table, data.indexNames);
    http.bindQueue(ackQueue.queue);
    http.bindSecret(secret);

    const api = new HttpApi(this, 'HttpApi', {
      handler: http.function,
      // Caps the bill and the blast radius of a flood of forged webhooks; raise it before a campaign.
      throttle: { rateLimit: 50, burstLimit: 100 },
      logRetention,
      removalPolicy,
    });
    const publicUrl = props.publicUrl ?? api.url;
    http.function.addEnvironment('PUBLIC_URL', publicUrl);

    const ackWorker = new SwitchboardFunction(this, 'AckWorker', {
      entry: entry('ack-worker.ts'),
      description: 'Switchboard acknowledgement sender',
      timeout: ackWorkerTimeout,
      memorySize: 512,
      logRetention,
      removalPolicy,
    });
    ackWorker.bindTable(data.table, data.indexNames);
    ackWorker.bindSecret(secret);
    ackWorker.function.addEventSource(
      new SqsEventSource(ackQueue.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // Provider send APIs are rate limited per account; more pollers only buy 429s.
        maxConcurrency: 5,
      }),
    );

    const sweeper = new SwitchboardFunction(this, 'Sweeper', {
      entry: entry('sweeper.ts'),
      description: 'Switchboard sweeper: re-enqueues pending acks, republishes outboxes',
      timeout: Duration.seconds(60),
      memorySize: 256,
      // The next minute's run is the retry; an async retry would only overlap with it.
      retryAttempts: 0,
      logRetention,
      removalPolicy,
    });
    sweeper.bindTable(data.table, data.indexNames);
    sweeper.bindQueue(ackQueue.queue);
    sweeper.bindSecret(secret);
    new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the Switchboard sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(sweeper.function)],
    });

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'HTTP API endpoint' });
    new CfnOutput(this, 'TwilioMessagingWebhookUrl', {
      value: `${publicUrl}/webhooks/twilio/messaging`,
      description: 'Set as the "A message comes in" webhook of the Twilio number or messaging service',
    });
  }
}
