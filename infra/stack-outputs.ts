// SwitchboardStack's outputs: each console's webhook URL, and the names and ARNs operators look up.
import { CfnOutput, type Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { HttpApi } from './constructs/http-api.ts';
import type { MailIntake } from './constructs/mail-intake.ts';
import type { Monitoring } from './constructs/monitoring.ts';
import type { WorkQueue } from './constructs/work-queue.ts';
import type { SwitchboardStackProps } from './stack-props.ts';

/** The provider webhooks and the agents' API, by output name: what each console needs pasted. */
export const ENDPOINTS = {
  TwilioMessagingWebhookUrl: [
    '/webhooks/twilio/messaging',
    'Twilio number or messaging service: "A message comes in"',
  ],
  TwilioVoiceWebhookUrl: ['/webhooks/twilio/voice', 'Twilio number: "A call comes in"'],
  TwilioStatusCallbackUrl: [
    '/webhooks/twilio/status',
    'Twilio messaging service: "Delivery status callback"',
  ],
  MetaWebhookUrl: [
    '/webhooks/meta',
    'Meta app dashboard: Webhooks callback URL (Messenger, Instagram, WhatsApp)',
  ],
  SesWebhookUrl: [
    '/webhooks/email/ses',
    'Subscribed by this stack to the inbound email topic (nothing to paste)',
  ],
  MailgunWebhookUrl: ['/webhooks/email/mailgun', 'Mailgun route: forward("<this URL>")'],
  AgentsApiUrl: ['/api', "The agents' API base URL (bearer AGENT_API_TOKEN)"],
} as const;

/** The parts of the stack its outputs name. */
export interface OutputSources {
  readonly api: HttpApi;
  readonly publicUrl: string;
  readonly twilio: boolean;
  readonly secret: secretsmanager.ISecret;
  readonly mailIntake: MailIntake;
  readonly bus: events.IEventBus;
  readonly ackQueue: WorkQueue;
  readonly statsQueue: WorkQueue;
  readonly monitoring: Monitoring;
}

/** Adds the stack's outputs, after everything they name. */
export function addOutputs(
  stack: Stack,
  props: SwitchboardStackProps,
  { api, publicUrl, twilio, secret, mailIntake, bus, ackQueue, statsQueue, monitoring }: OutputSources,
): void {
  new CfnOutput(stack, 'ApiUrl', { value: api.url, description: 'HTTP API endpoint' });
  new CfnOutput(stack, 'PublicUrl', { value: publicUrl, description: 'The base URL providers are given' });
  for (const [name, [path, description]] of Object.entries(ENDPOINTS)) {
    if (!twilio && name.startsWith('Twilio')) continue;
    new CfnOutput(stack, name, { value: `${publicUrl}${path}`, description });
  }
  if (api.domainTarget) {
    new CfnOutput(stack, 'CustomDomainTarget', {
      value: api.domainTarget,
      description: `CNAME (or Route 53 alias) ${props.customDomain?.domainName} to this name`,
    });
  }
  new CfnOutput(stack, 'ProviderSecretArn', {
    value: secret.secretArn,
    description: 'put-secret-value here',
  });
  new CfnOutput(stack, 'MailBucketName', { value: mailIntake.bucket.bucketName });
  new CfnOutput(stack, 'InboundEmailTopicArn', { value: mailIntake.topic.topicArn });
  if (mailIntake.ruleSet) {
    new CfnOutput(stack, 'SesReceiptRuleSetName', {
      value: mailIntake.ruleSetName,
      description: 'Make it active: aws ses set-active-receipt-rule-set --rule-set-name <this>',
    });
  }
  new CfnOutput(stack, 'EventBusName', { value: bus.eventBusName });
  new CfnOutput(stack, 'AckDeadLetterQueueArn', { value: ackQueue.deadLetterQueue.queueArn });
  new CfnOutput(stack, 'AckQueueArn', { value: ackQueue.queue.queueArn });
  new CfnOutput(stack, 'StatsDeadLetterQueueArn', { value: statsQueue.deadLetterQueue.queueArn });
  new CfnOutput(stack, 'StatsQueueArn', { value: statsQueue.queue.queueArn });
  new CfnOutput(stack, 'InboundEmailDeadLetterQueueUrl', { value: mailIntake.deadLetterQueue.queueUrl });
  new CfnOutput(stack, 'MailRecheckDeadLetterQueueArn', {
    value: mailIntake.recheckDeadLetterQueue.queueArn,
  });
  new CfnOutput(stack, 'MailRecheckQueueArn', { value: mailIntake.recheckQueue.queueArn });
  new CfnOutput(stack, 'AlertsTopicArn', { value: monitoring.alertsTopic.topicArn });
  new CfnOutput(stack, 'DashboardUrl', {
    value: `https://console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards:name=switchboard-${props.stage}`,
  });
}
