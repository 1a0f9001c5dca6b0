// The Switchboard stack: its table, queues, bus, functions, API, mail intake and monitoring, wired.
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ACK_MAX_ATTEMPTS } from '../lib/domain/ack-attempts.ts';
import { Data } from './constructs/data.ts';
import { HttpApi } from './constructs/http-api.ts';
import { MailFeedback } from './constructs/mail-feedback.ts';
import { ATTACHMENTS_PREFIX, INBOUND_PREFIX, MailIntake } from './constructs/mail-intake.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { ProviderSecret } from './constructs/provider-secret.ts';
import { SwitchboardFunction } from './constructs/switchboard-function.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import {
  DEFAULT_ATTACHMENT_DAYS,
  DEFAULT_INDEX_SHARDS,
  DEFAULT_RAW_MAIL_DAYS,
  type MailSettings,
  STAGES,
  type Stage,
} from './context.ts';
import { addOutputs, ENDPOINTS } from './stack-outputs.ts';
import type { SwitchboardStackProps } from './stack-props.ts';

export { ENDPOINTS, STAGES, type Stage, type SwitchboardStackProps };

/** Receives of a stats batch before the DLQ (nothing reads a stats job's receive count). */
const STATS_MAX_RECEIVES = 5;

export class SwitchboardStack extends Stack {
  constructor(scope: Construct, id: string, props: SwitchboardStackProps) {
    super(scope, id, props);

    const prod = props.stage === 'prod';
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = prod ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.ONE_MONTH;
    const ackWorkerTimeout = Duration.seconds(30);
    // One Powertools service per stage: the `service` dimension the alarms and dashboard look for.
    const service = `switchboard-${props.stage}`;
    const mail: MailSettings = {
      rawMailDays: DEFAULT_RAW_MAIL_DAYS,
      attachmentDays: DEFAULT_ATTACHMENT_DAYS,
      ...props.mail,
    };

    const data = new Data(this, 'Data', {
      retain: prod,
      indexShards: props.indexShards ?? DEFAULT_INDEX_SHARDS,
    });
    // The receive the worker counts as a job's last (ack.maxAttempts) is the last one the queue gives.
    const ackQueue = new WorkQueue(this, 'AckQueue', {
      consumerTimeout: ackWorkerTimeout,
      maxReceiveCount: ACK_MAX_ATTEMPTS,
    });
    // The service-level stats are counted from the bus's events, after the fact: a rule copies
    // every Switchboard event here and the ack worker counts them in batches, so no webhook
    // waits for (or fails on) the day's summary items.
    const statsQueue = new WorkQueue(this, 'StatsQueue', {
      consumerTimeout: ackWorkerTimeout,
      maxReceiveCount: STATS_MAX_RECEIVES,
    });
    const { secret } = new ProviderSecret(this, 'ProviderSecret', { stage: props.stage, removalPolicy });
    // Downstream tools subscribe here; the functions may put events on this bus and no other.
    const bus = new events.EventBus(this, 'EventBus', { eventBusName: `switchboard-${props.stage}` });
    new events.Rule(this, 'StatsFeed', {
      description: 'Copies every Switchboard event to the stats queue (service-level counting)',
      eventBus: bus,
      eventPattern: { source: ['switchboard'] },
      // An event EventBridge cannot put on the queue (retried for up to 24 h) goes to the stats
      // DLQ, beside those the worker could not count: one alarm and one redrive for both.
      targets: [new targets.SqsQueue(statsQueue.queue, { deadLetterQueue: statsQueue.deadLetterQueue })],
    });
    // Encrypts the two SNS topics (inbound email notifications carry addresses and subjects).
    // A customer managed key because SES and CloudWatch cannot publish to a topic under the
    // AWS managed aws/sns key. Nothing at rest depends on it once the topics are gone.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: `Switchboard ${props.stage}: SNS topic encryption (inbound email, alerts)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const http = new SwitchboardFunction(this, 'Http', {
      entry: 'http',
      description: 'Switchboard provider webhooks and agents API',
      service,
      // Twilio gives up on a webhook after 15 s; answer or fail well before that so it retries.
      timeout: Duration.seconds(10),
      memorySize: 512,
      logRetention,
      removalPolicy,
    });
    http.bindTable(data);
    http.bindQueue(ackQueue.queue);
    http.bindSecret(secret);
    http.bindEventBus(bus);

    const api = new HttpApi(this, 'HttpApi', {
      handler: http.function,
      // Caps the bill and the blast radius of a flood, one bucket per kind of caller, so an
      // agents' tool gone wild or a flood of wrong tokens never throttles a provider's webhook
      // (Twilio does not post a throttled one again). Numbers: docs/scale.md, "Lambda, API
      // Gateway, SQS".
      throttle: {
        // Well above the peak: 300 req/s is ~100 messages a second with two status callbacks.
        webhooks: { rateLimit: 300, burstLimit: 600 },
        // Five tools at their full per-key budget (600 a minute), or ~120 inbox pages polling.
        api: { rateLimit: 50, burstLimit: 100 },
        // /healthz and the paths nothing serves (/inbox is off on Lambda).
        other: { rateLimit: 10, burstLimit: 20 },
      },
      logRetention,
      removalPolicy,
      ...(props.customDomain ? { customDomain: props.customDomain } : {}),
    });
    const publicUrl =
      props.publicUrl ?? (props.customDomain ? `https://${props.customDomain.domainName}` : api.url);
    http.setEnvironment('PUBLIC_URL', publicUrl);

    const mailIntake = new MailIntake(this, 'MailIntake', {
      stage: props.stage,
      endpoint: `${publicUrl}${ENDPOINTS.SesWebhookUrl[0]}`,
      ...(mail.domain ? { mailDomain: mail.domain } : {}),
      rawMailDays: mail.rawMailDays,
      attachmentDays: mail.attachmentDays,
      topicKey,
      retain: prod,
    });
    // SNS confirms the subscription with a request to the function: create it once both exist.
    // (`api`: the API, its routes, among them /webhooks/{proxy+} the confirmation takes, and stage.)
    mailIntake.subscription.node.addDependency(api, http.function);
    http.acceptSesTopics([mailIntake.topic]);
    http.bindMailBucket(mailIntake.bucket, { read: [INBOUND_PREFIX], write: [ATTACHMENTS_PREFIX] });

    const ackWorker = new SwitchboardFunction(this, 'AckWorker', {
      entry: 'ack-worker',
      description: 'Switchboard acknowledgement sender',
      service,
      timeout: ackWorkerTimeout,
      memorySize: 512,
      logRetention,
      removalPolicy,
    });
    ackWorker.bindTable(data);
    ackWorker.bindSecret(secret);
    ackWorker.bindEventBus(bus);
    // Outbound Twilio messages carry a StatusCallback under the public URL.
    ackWorker.setEnvironment('PUBLIC_URL', publicUrl);
    let feedback: MailFeedback | undefined;
    if (mail.fromAddress) {
      // Our sends' bounces and complaints come back on the inbound-mail topic (docs/channels.md).
      feedback = new MailFeedback(this, 'MailFeedback', {
        stage: props.stage,
        topic: mailIntake.topic,
        topicKey,
      });
      const sender = {
        fromAddress: mail.fromAddress,
        identityArn:
          mail.identityArn ??
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: domainOf(mail.fromAddress) }),
        configurationSet: { name: feedback.configurationSetName, arn: feedback.arn },
      };
      // The worker sends acknowledgements; the http function sends agents' replies (the API).
      ackWorker.bindSesSender(sender);
      http.bindSesSender(sender);
    }
    if (mail.domain && !mail.fromAddress) {
      Annotations.of(this).addWarningV2(
        'switchboard:no-ses-from-address',
        `Mail to ${mail.domain} is received, but without -c sesFromAddress=… no email acknowledgement can be sent.`,
      );
    }
    // A Twilio webhook the store could not take is queued for the worker to record; recording
    // it queues its acknowledgement like any other (docs/channels.md, "When the store is down").
    ackWorker.bindQueue(ackQueue.queue);
    ackWorker.function.addEventSource(
      new SqsEventSource(ackQueue.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // At most 2 batches of 10 (sent in parallel) at once: about 20 provider calls in flight.
        // That stays under Twilio's 100 concurrent API requests per account (its Messages API
        // queues beyond a sender's 1 msg/s instead of refusing), WhatsApp Cloud API's 80 msg/s per
        // number, and, at ~0.2-0.5 s a call, near SES's production send rate (14 msg/s by
        // default; throttled calls are retried by the SDK, then by the queue). 2 is the lowest
        // SQS allows; the math is in docs/deploy.md.
        maxConcurrency: 2,
      }),
    );
    ackWorker.setEnvironment('STATS_QUEUE_ARN', statsQueue.queue.queueArn);
    ackWorker.function.addEventSource(
      new SqsEventSource(statsQueue.queue, {
        // Bigger, later batches: the events of one batch share their day's stats write.
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        // Two batches at once at most: the day's summary item is one hot key (docs/scale.md).
        maxConcurrency: 2,
      }),
    );

    const sweeper = new SwitchboardFunction(this, 'Sweeper', {
      entry: 'sweeper',
      description: 'Switchboard sweeper: re-enqueues pending acks, republishes outboxes',
      service,
      timeout: Duration.seconds(60),
      // Room for a recovered mail near SES's 40 MB limit (see mail recovery).
      memorySize: 512,
      // The next minute's run is the retry; an async retry would only overlap with it.
      retryAttempts: 0,
      logRetention,
      removalPolicy,
    });
    sweeper.bindTable(data);
    sweeper.bindQueue(ackQueue.queue);
    sweeper.bindSecret(secret);
    sweeper.bindEventBus(bus);
    // Recovers mail SNS never delivered: reads it under inbound/ and stores its attachments
    // under attachments/, as the http function would have.
    mailIntake.bindRecheckConsumer(sweeper);
    sweeper.bindMailBucket(mailIntake.bucket, { read: [INBOUND_PREFIX], write: [ATTACHMENTS_PREFIX] });
    // Our own address (the loop guard) and whether email is answered, for the ack policy of a
    // recovered mail. No SES grant: the sweeper never sends.
    if (mail.fromAddress) sweeper.setEnvironment('SES_FROM_ADDRESS', mail.fromAddress);
    if (mail.domain) {
      // Mail arrives to be answered: without SES_FROM_ADDRESS the functions report it (the http
      // function at its cold start, the sweeper on every run: ChannelMisconfigured, app-config.ts).
      for (const fn of [http, sweeper]) fn.setEnvironment('MAIL_DOMAIN', mail.domain);
    }
    new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the Switchboard sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(sweeper.function)],
    });

    if (props.whatsappPhoneNumberId) {
      // The sweeper too: it reads the same provider secret, and a WhatsApp token without its
      // number id switches WhatsApp Cloud off, counted by the sweeper on every run (app-config.ts).
      for (const fn of [http, ackWorker, sweeper])
        fn.setEnvironment('WHATSAPP_PHONE_NUMBER_ID', props.whatsappPhoneNumberId);
    }
    // The account's other numbers answered from (the same token); not secret, as the one id.
    if (props.whatsappPhoneNumberIds?.length) {
      for (const fn of [http, ackWorker, sweeper])
        fn.setEnvironment('WHATSAPP_PHONE_NUMBER_IDS', props.whatsappPhoneNumberIds.join(','));
    }
    // The worker too: it records the Meta webhooks queued while the store was down, echoes among
    // them, and tells this app's echoes from another app's by this id as the http function does.
    if (props.metaAppId)
      for (const fn of [http, ackWorker]) fn.setEnvironment('META_APP_ID', props.metaAppId);
    // Default on (the function's own default): set only to turn the HUMAN_AGENT tag off.
    if (props.metaHumanAgent === false) http.setEnvironment('META_HUMAN_AGENT', 'off');
    // Every function that reads the provider secret: each would report empty Twilio values as a
    // channel configured by half (the sweeper every minute, holding ChannelMisconfigured in alarm).
    // The secret keeps its Twilio placeholders: a changed template makes CloudFormation generate
    // the whole secret anew, losing the values pasted into it.
    const twilio = props.twilio ?? true;
    if (!twilio) for (const fn of [http, ackWorker, sweeper]) fn.setEnvironment('SWITCHBOARD_TWILIO', 'off');

    const monitoring = new Monitoring(this, 'Monitoring', {
      stage: props.stage,
      service,
      api: api.api,
      functions: { http: http.function, ackWorker: ackWorker.function, sweeper: sweeper.function },
      ackQueue: ackQueue.queue,
      ackDeadLetterQueue: ackQueue.deadLetterQueue,
      statsDeadLetterQueue: statsQueue.deadLetterQueue,
      mailDeadLetterQueue: mailIntake.deadLetterQueue,
      recheckDeadLetterQueue: mailIntake.recheckDeadLetterQueue,
      topicKey,
      ...(props.alertEmail ? { alertEmail: props.alertEmail } : {}),
      ...(feedback ? { mailConfigurationSet: feedback.configurationSetName } : {}),
    });

    addOutputs(this, props, {
      api,
      publicUrl,
      twilio,
      secret,
      mailIntake,
      bus,
      ackQueue,
      statsQueue,
      monitoring,
    });
  }
}

/** `example.com` from `Anna Kowalska <anna@example.com>`. */
function domainOf(fromAddress: string): string {
  const domain = /@([^<>\s@]+)>?\s*$/.exec(fromAddress)?.[1];
  if (!domain) throw new Error(`Cannot find the domain of the SES from address "${fromAddress}"`);
  return domain.toLowerCase();
}
