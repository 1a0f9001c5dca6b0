// The monitoring construct: the alerts topic, and the alarms and dashboard made on it.

import { Aws } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { addMailReputationAlarms } from './mail-reputation-alarms.ts';
import { addAlarms } from './monitoring-alarms.ts';
import { addDashboard } from './monitoring-dashboard.ts';
import type { AlarmOptions, MonitoringProps, MonitoringScope } from './monitoring-scope.ts';
import { METRICS_NAMESPACE } from './switchboard-function.ts';

/**
 * What tells a person something is wrong: an alerts topic, one alarm per failure that loses or
 * delays a customer's acknowledgement, and a dashboard to see why.
 */
export class Monitoring extends Construct implements MonitoringScope {
  readonly alertsTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  private readonly props: MonitoringProps;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.props = props;

    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      displayName: `Switchboard ${props.stage} alerts`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    // CloudWatch publishes as a service and encrypts with the topic key itself: without both
    // grants an alarm goes to ALARM and the notification is silently dropped.
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };
    this.alertsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alertsTopic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    if (props.alertEmail) this.alertsTopic.addSubscription(new subs.EmailSubscription(props.alertEmail));

    this.dashboard = addDashboard(this, props, addAlarms(this, props));
    if (props.mailConfigurationSet) addMailReputationAlarms(this, props.mailConfigurationSet);
  }

  /** A Powertools metric of this stage (namespace Switchboard, dimension service). */
  custom(metricName: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.props.service },
      statistic: 'Sum',
      ...options,
    });
  }

  /** An alarm above `threshold` that notifies the alerts topic, and again when it clears. */
  alarm(id: string, options: AlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `switchboard-${this.props.stage}-${kebab(id)}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      // No data means no traffic, or an empty queue: both fine.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alertsTopic));
    alarm.addOkAction(new actions.SnsAction(this.alertsTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}

const kebab = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
