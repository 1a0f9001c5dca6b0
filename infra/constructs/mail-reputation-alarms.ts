// The alarms on our mail's reputation: SES pauses sending for an account whose bounces or
// complaints pass its limits, and then no acknowledgement, notice or agent's reply goes by mail.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { MonitoringScope } from './monitoring-scope.ts';

/**
 * SES's own rates of the configuration set our sends name (MailFeedback publishes them:
 * `reputationMetrics`), not our MailBounces and MailComplaints counts: SES computes them over
 * what it sent, as its account review reads them. SES reviews an account at a 5 % bounce rate or
 * 0.1 % complaint rate and may pause its sending at 10 % or 0.5 %: these fire a little before review.
 */
export function addMailReputationAlarms(monitoring: MonitoringScope, configurationSetName: string): void {
  const rate = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/SES',
      metricName,
      dimensionsMap: { 'ses:configuration-set': configurationSetName },
      // SES publishes the rate now and then; the highest of the hour is the one that counts.
      statistic: 'Maximum',
      period: Duration.hours(1),
    });
  monitoring.alarm('MailBounceRate', {
    description:
      'More than 4% of our mail bounced (Reputation.BounceRate of the SES configuration set): SES reviews the account at 5% and may pause all its sending at 10% (no mail acks, notices or replies then). Each bounced address gets no automatic mail until it writes to us again (Contact.optedOutReason bounce); MailBounces counts them. Look for a bad import of addresses or a domain that stopped taking our mail (docs/channels.md).',
    metric: rate('Reputation.BounceRate'),
    threshold: 0.04,
  });
  monitoring.alarm('MailComplaintRate', {
    description:
      'More than 0.08% of our mail was marked as spam (Reputation.ComplaintRate of the SES configuration set): SES reviews the account at 0.1% and may pause all its sending at 0.5%. Each complaining address gets no automatic mail again (Contact.optedOutReason complaint); MailComplaints counts them. Read the acknowledgement text and whom it goes to (docs/channels.md).',
    metric: rate('Reputation.ComplaintRate'),
    threshold: 0.0008,
  });
}
