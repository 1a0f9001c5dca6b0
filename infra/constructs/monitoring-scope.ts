// What the monitoring is given, and the Monitoring construct as its alarms and dashboard use it.

import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface MonitoringProps {
  readonly stage: string;
  /** The `service` dimension the functions' Powertools metrics carry. */
  readonly service: string;
  readonly api: apigwv2.IHttpApi;
  readonly functions: { readonly http: lambda.IFunction } & Record<string, lambda.IFunction>;
  readonly ackQueue: sqs.IQueue;
  readonly ackDeadLetterQueue: sqs.IQueue;
  /** Events the stats could not be counted from (the stats queue's DLQ). */
  readonly statsDeadLetterQueue: sqs.IQueue;
  readonly mailDeadLetterQueue: sqs.IQueue;
  /** Stored mail the sweeper could not recover (the mail-recheck queue's DLQ). */
  readonly recheckDeadLetterQueue: sqs.IQueue;
  /** Encrypts the alerts topic; CloudWatch gets to use it. */
  readonly topicKey: kms.IKey;
  /** Subscribed to the alerts topic (the address must confirm the subscription). */
  readonly alertEmail?: string;
  /** The SES configuration set our mail names, when we send mail: its reputation is alarmed on. */
  readonly mailConfigurationSet?: string;
}

export const FIVE_MINUTES = Duration.minutes(5);
export const ONE_MINUTE = Duration.minutes(1);

export type AlarmOptions = {
  description: string;
  metric: cloudwatch.IMetric;
  threshold: number;
  evaluationPeriods?: number;
};

/** The Monitoring construct (declared here: its alarms and dashboard may not import monitoring.ts, which imports them). */
export interface MonitoringScope extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  custom(metricName: string, options: cloudwatch.MetricOptions): cloudwatch.Metric;
  alarm(id: string, options: AlarmOptions): cloudwatch.Alarm;
}
