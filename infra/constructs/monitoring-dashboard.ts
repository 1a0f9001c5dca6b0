// The dashboard: requests, what came in and was acknowledged, what is stuck, the alarms' states.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { FIVE_MINUTES, type MonitoringProps, type MonitoringScope, ONE_MINUTE } from './monitoring-scope.ts';
import { METRICS_NAMESPACE } from './switchboard-function.ts';

/** The stage's dashboard on `monitoring`, after its alarms (the last widget shows them all). */
export function addDashboard(
  monitoring: MonitoringScope,
  props: MonitoringProps,
  ackAlarm: { acksFailingShare: cloudwatch.MathExpression; acksFailing: cloudwatch.Alarm },
): cloudwatch.Dashboard {
  const { acksFailingShare, acksFailing } = ackAlarm;
  const all = Object.entries(props.functions);
  const dashboard = new cloudwatch.Dashboard(monitoring, 'Dashboard', {
    dashboardName: `switchboard-${props.stage}`,
    defaultInterval: Duration.hours(24),
  });
  const api = props.api;
  const perFunction = (metric: (fn: lambda.IFunction, label: string) => cloudwatch.IMetric) =>
    all.map(([name, fn]) => metric(fn, name));
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        `# Switchboard ${props.stage}\nRequests and latency at the door, what came in by channel, ` +
        'what was acknowledged, and what is stuck. Runbook: docs/deploy.md ("Reading the dashboard").',
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    graph('Webhook requests (per minute)', [
      api.metricCount({ period: ONE_MINUTE, statistic: 'Sum', label: 'requests' }),
      api.metricClientError({ period: ONE_MINUTE, statistic: 'Sum', label: '4xx' }),
      api.metricServerError({ period: ONE_MINUTE, statistic: 'Sum', label: '5xx' }),
    ]),
    graph('Webhook latency (ms)', [
      api.metricLatency({ period: ONE_MINUTE, statistic: 'p50', label: 'API p50' }),
      api.metricLatency({ period: ONE_MINUTE, statistic: 'p99', label: 'API p99' }),
      monitoring.custom('WebhookLatency', { period: ONE_MINUTE, statistic: 'p99', label: 'handler p99' }),
    ]),
    graph('Messages received by channel', [
      new cloudwatch.MathExpression({
        label: '',
        expression: `SEARCH('{${METRICS_NAMESPACE},channel,service} MetricName="MessagesReceived" service="${props.service}"', 'Sum', 300)`,
        period: FIVE_MINUTES,
      }),
    ]),
  );
  dashboard.addWidgets(
    graph('Acknowledgements', [
      monitoring.custom('AcksSent', { period: FIVE_MINUTES, label: 'sent' }),
      monitoring.custom('AcksSkipped', { period: FIVE_MINUTES, label: 'skipped' }),
      monitoring.custom('AcksFailed', { period: FIVE_MINUTES, label: 'refused when sent' }),
      monitoring.custom('AcksFailedAfterSend', { period: FIVE_MINUTES, label: 'undelivered after sent' }),
      monitoring.custom('NoticesSent', { period: FIVE_MINUTES, label: 'late notices sent' }),
      monitoring.custom('NoticesFailed', { period: FIVE_MINUTES, label: 'late notices refused when sent' }),
      monitoring.custom('NoticesFailedAfterSend', {
        period: FIVE_MINUTES,
        label: 'late notices undelivered after sent',
      }),
      monitoring.custom('MailBounces', { period: FIVE_MINUTES, label: 'our mail bounced for good' }),
      monitoring.custom('MailComplaints', { period: FIVE_MINUTES, label: 'our mail marked as spam' }),
      monitoring.custom('PromiseBreaches', { period: FIVE_MINUTES, label: 'promise breaches' }),
      monitoring.custom('SweepBacklog', { period: FIVE_MINUTES, label: 'sweeper runs out of time' }),
      monitoring.custom('EventsUndelivered', { period: FIVE_MINUTES, label: 'events not delivered' }),
      monitoring.custom('SweepErrors', { period: FIVE_MINUTES, label: 'sweeper errors' }),
      monitoring.custom('SignatureRefusals', { period: FIVE_MINUTES, label: 'webhook signatures refused' }),
      monitoring.custom('WebhooksDisabled', {
        period: FIVE_MINUTES,
        label: 'webhook subscriptions disabled (failing 5 days)',
      }),
    ]),
    graph(
      'Ack queue',
      [
        props.ackQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, label: 'waiting' }),
        props.ackQueue.metricApproximateNumberOfMessagesNotVisible({
          period: ONE_MINUTE,
          label: 'in flight',
        }),
      ],
      [
        props.ackQueue.metricApproximateAgeOfOldestMessage({
          period: ONE_MINUTE,
          statistic: 'Maximum',
          label: 'oldest (s)',
        }),
      ],
    ),
    graph('Dead-letter queues', [
      props.ackDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        label: 'ack DLQ',
      }),
      props.statsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        label: 'stats DLQ',
      }),
      props.mailDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        label: 'inbound email DLQ',
      }),
      props.recheckDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        label: 'mail-recheck DLQ',
      }),
    ]),
  );
  // The share the AcksFailing alarm reads (15-minute windows), its threshold drawn on it.
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Acknowledgements failed for good (%, the AcksFailing alarm)',
      left: [acksFailingShare],
      leftAnnotations: [acksFailing.toAnnotation()],
      leftYAxis: { min: 0, max: 100, showUnits: false },
      width: 8,
      height: 6,
    }),
  );
  dashboard.addWidgets(
    graph(
      'Lambda errors',
      perFunction((fn, label) => fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label })),
    ),
    graph(
      'Lambda throttles',
      perFunction((fn, label) => fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label })),
    ),
    graph(
      'Lambda duration p99 (ms)',
      perFunction((fn, label) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label })),
    ),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: monitoring.alarms, width: 24, height: 4 }),
  );
  return dashboard;
}

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  right: cloudwatch.IMetric[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
}
