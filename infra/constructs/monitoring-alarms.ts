// The alarms: one per failure that loses or delays a customer's acknowledgement, in their order.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FIVE_MINUTES, type MonitoringProps, type MonitoringScope, ONE_MINUTE } from './monitoring-scope.ts';

/**
 * Makes every alarm on `monitoring`; returns the AcksFailing alarm and the share it reads, which
 * the dashboard graphs.
 */
export function addAlarms(
  monitoring: MonitoringScope,
  props: MonitoringProps,
): { acksFailingShare: cloudwatch.MathExpression; acksFailing: cloudwatch.Alarm } {
  const { http, ...others } = props.functions;
  const all = Object.entries(props.functions);

  monitoring.alarm('AckDlqDepth', {
    description: 'Acknowledgements failed 5 times and wait in the ack DLQ: redrive after fixing the cause.',
    metric: props.ackDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: ONE_MINUTE,
      statistic: 'Maximum',
    }),
    threshold: 0,
  });
  monitoring.alarm('StatsDlqDepth', {
    description:
      'Events failed 5 times to be counted (or could not be put on the stats queue) and wait in the stats DLQ: the service-level report misses them until they are redriven.',
    metric: props.statsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: ONE_MINUTE,
      statistic: 'Maximum',
    }),
    threshold: 0,
  });
  monitoring.alarm('MailDlqDepth', {
    description: 'SNS gave up posting inbound email to /webhooks/email/ses: those mails are not recorded.',
    metric: props.mailDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: ONE_MINUTE,
      statistic: 'Maximum',
    }),
    threshold: 0,
  });
  monitoring.alarm('RecheckDlqDepth', {
    description: 'A stored inbound mail could not be recovered by the sweeper: it is in S3 but not recorded.',
    metric: props.recheckDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: ONE_MINUTE,
      statistic: 'Maximum',
    }),
    threshold: 0,
  });
  monitoring.alarm('AckQueueAge', {
    description: 'An acknowledgement has waited more than 5 minutes: the worker is failing or throttled.',
    metric: props.ackQueue.metricApproximateAgeOfOldestMessage({
      period: ONE_MINUTE,
      statistic: 'Maximum',
    }),
    threshold: 300,
  });
  monitoring.alarm('HttpErrorRate', {
    description: 'More than 5% of http function invocations failed in 5 minutes (providers retry them).',
    metric: new cloudwatch.MathExpression({
      label: 'http function error %',
      expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
      usingMetrics: {
        errors: http.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        invocations: http.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      period: FIVE_MINUTES,
    }),
    threshold: 5,
  });
  monitoring.alarm('Api5xxRate', {
    description: 'More than 5% of requests got a 5xx from the HTTP API in 5 minutes.',
    metric: new cloudwatch.MathExpression({
      label: 'API 5xx %',
      expression: 'IF(requests > 0, 100 * serverErrors / requests, 0)',
      usingMetrics: {
        serverErrors: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests: props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      period: FIVE_MINUTES,
    }),
    threshold: 5,
  });
  for (const [name, fn] of all) {
    monitoring.alarm(`${capitalize(name)}Throttles`, {
      description: `The ${name} function was throttled (account concurrency exhausted?).`,
      metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 0,
    });
  }
  if (others.sweeper) {
    monitoring.alarm('SweeperErrors', {
      description: 'The sweeper failed 3 minutes in a row: crashed steps are not being finished.',
      metric: others.sweeper.metricErrors({ period: ONE_MINUTE, statistic: 'Sum' }),
      threshold: 0,
      evaluationPeriods: 3,
    });
  }
  // A run that can finish nothing (SQS refusing every requeue) still returns: only its own
  // count says so. One failed item is a race or a blip; 3 minutes running, it is not. An item
  // the sweeper cannot read counts on every run until someone repairs it (the log names it).
  monitoring.alarm('SweeperItemErrors', {
    description:
      'For 3 minutes every sweeper run failed on some of its work (SweepErrors): acks it could not requeue (the ack queue or sqs:SendMessage), conversation items it cannot read ("sweeper skipped a conversation item it cannot read" names the key), webhook deliveries or the mail recheck failing as a whole. The logs name which.',
    metric: monitoring.custom('SweepErrors', { period: ONE_MINUTE }),
    threshold: 0,
    evaluationPeriods: 3,
  });
  monitoring.alarm('SweeperBehind', {
    description:
      'For 5 minutes every sweeper run ended with conversations still due: late notices, requeued acks and undelivered events are waiting (docs/scale.md).',
    metric: monitoring.custom('SweepBacklog', { period: ONE_MINUTE }),
    threshold: 0,
    evaluationPeriods: 5,
  });
  monitoring.alarm('EventsNotDelivered', {
    description:
      "The sweeper could not deliver a conversation's events to the event bus, after the write itself could not: the agents' tool and the webhook subscribers are not hearing of changes. The events wait in the conversations (none is lost); check the bus and the functions' PutEvents permission.",
    metric: monitoring.custom('EventsUndelivered', { period: FIVE_MINUTES }),
    threshold: 0,
  });
  // A refusal for the customer (an invalid number, a blocked Page) fails one ack for good now
  // and then: not worth waking anyone. Many of them at once is a refusal of ours that no
  // code list knew (the ones it knows are retried and land in the ack DLQ): at least 2 in 15
  // minutes and more than a tenth of what was sent, so a quiet stage alarms on 2 failures in
  // a row and a busy one is not woken by its usual few invalid numbers. An ack the carrier
  // filtered after taking it (AcksFailedAfterSend) was counted in AcksSent too: it adds to the
  // failures only, so a stage whose every ack is filtered reads 100 %, not 50 %. Its failure may
  // land in the window after its send's: what was tried in a window is then taken as at least
  // what failed in it, so the share stays at most 100 % and a window with late failures and no
  // send reads 100 % (a division by zero would drop the point, and the IF read 0). An ack
  // dead-lettered only because its answer was lost, that Meta then reports sent, takes its
  // AcksFailed back (-1) and counts in AcksSent where the report lands: a window may then sum
  // below 0 failures, which the IF reads as 0.
  const ackPeriod = Duration.minutes(15);
  const ackFailures = new cloudwatch.MathExpression({
    expression: 'FILL(refused, 0) + FILL(late, 0)',
    usingMetrics: {
      refused: monitoring.custom('AcksFailed', { period: ackPeriod }),
      late: monitoring.custom('AcksFailedAfterSend', { period: ackPeriod }),
    },
    period: ackPeriod,
  });
  const acksTried = new cloudwatch.MathExpression({
    expression: 'FILL(sent, 0) + FILL(refused, 0)',
    usingMetrics: {
      sent: monitoring.custom('AcksSent', { period: ackPeriod }),
      refused: monitoring.custom('AcksFailed', { period: ackPeriod }),
    },
    period: ackPeriod,
  });
  // One expression for the alarm and the dashboard's graph of it: what is charted is what alarms.
  const acksFailingShare = new cloudwatch.MathExpression({
    label: 'acks failed for good %',
    expression: 'IF(failed >= 2, 100 * failed / IF(tried > failed, tried, failed), 0)',
    usingMetrics: { failed: ackFailures, tried: acksTried },
    period: ackPeriod,
  });
  const acksFailing = monitoring.alarm('AcksFailing', {
    description:
      'More than 10% of acknowledgements (at least 2) failed for good in 15 minutes (AcksFailed + AcksFailedAfterSend, over AcksSent + AcksFailed, at most 100%): customers are not hearing from us. The log line "automatic message not sent" gives each reason: SEND_REJECTED:<provider code> (the customer’s address), SEND_FAILED or SEND_UNAUTHORIZED (out of retries: the job is in the ack DLQ, redrive it once the cause is fixed; docs/channels.md, "A refused acknowledgement"). AcksFailedAfterSend: acks the provider reported undelivered or failed after taking them (the ack.failed events name the code: Twilio 30007 carrier filtering, 30003/30005/30006; WhatsApp 131026).',
    metric: acksFailingShare,
    threshold: 10,
  });
  // A rotated or mistyped secret (Twilio's auth token, Meta's app secret, Mailgun's key, an SES
  // topic not in SES_TOPIC_ARNS) refuses every webhook of its channel, and Twilio never posts a
  // refused one again: those messages are lost. One signed refusal alone may be a forgery or a
  // replay; two in 5 minutes is a provider we refuse (Meta and Mailgun also retry theirs, so
  // even one lost message soon makes two). Unsigned requests (scanners) are not counted.
  monitoring.alarm('WebhookSignaturesRefused', {
    description:
      'At least 2 signed provider webhooks were refused for their signature in 5 minutes (SignatureRefusals): a rotated or mistyped secret, a wrong PUBLIC_URL or an SES topic we do not list. Twilio does not retry a 403: those messages are lost. The warn line "webhook signature refused" names the channel, route, reason and URLs checked (docs/deploy.md).',
    metric: monitoring.custom('SignatureRefusals', { period: FIVE_MINUTES }),
    threshold: 1,
  });
  monitoring.alarm('PromiseBreaches', {
    description: 'A customer was promised a reply by a time that has passed without one.',
    metric: monitoring.custom('PromiseBreaches', { period: FIVE_MINUTES }),
    threshold: 0,
  });
  // Standing conditions: the sweeper counts them on every run (every minute) as well as each
  // cold start and use, so a 5-minute period always holds a count while one stands and the
  // alarm stays in alarm; no data means none stands (the sweeper not running has its own
  // alarms). Counting at cold starts alone made it fire and clear 5 minutes later, unfixed.
  const standing =
    ' Counted by every sweeper run while it stands: the alarm stays in alarm until functions with a fixed secret run (touch them after changing it).';
  monitoring.alarm('BootstrapTokenRefused', {
    description:
      'AGENT_API_TOKEN is missing, too short for production, or no bearer header can carry it: the functions run, ' +
      'but the bootstrap token is refused until it is replaced in the secret (docs/deploy.md).' +
      standing,
    metric: monitoring.custom('BootstrapTokenRefused', { period: FIVE_MINUTES }),
    threshold: 0,
  });
  monitoring.alarm('ChannelMisconfigured', {
    description:
      'A channel is configured by half: the API and the other channels work. ' +
      'TWILIO_AUTH_TOKEN missing: Twilio webhooks answer 503, never retried: messages and calls lost (bar those a configured ' +
      'shared key signs); Twilio unused: -c twilio=off. Recorded: TWILIO_ACCOUNT_SID missing; mail ' +
      'received without -c sesFromAddress; Messenger (Instagram) messages without ' +
      'META_PAGE_ACCESS_TOKEN (INSTAGRAM_ACCESS_TOKEN) or WhatsApp Cloud ones with no WhatsApp value, counted while acks wait. META_APP_SECRET or META_VERIFY_TOKEN alone, ' +
      'a Meta token without both, WHATSAPP_ACCESS_TOKEN or -c whatsappPhoneNumberId alone: webhooks answer 503, Meta ' +
      "retries (Messenger unsubscribes after 1 h). The channel's acks and late notices wait (CHANNEL_MISCONFIGURED, " +
      "no try spent) and go once the fix runs, nothing to redrive; agents' replies are refused 503. The error line names " +
      'the setting (docs/deploy.md).' +
      standing,
    metric: monitoring.custom('ChannelMisconfigured', { period: FIVE_MINUTES }),
    threshold: 0,
  });
  return { acksFailingShare, acksFailing };
}

const capitalize = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
