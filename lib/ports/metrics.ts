/** Business metrics: what ops alarm on (see infra monitoring). Names are part of that contract. */
export type MetricName =
  | 'MessagesReceived'
  | 'AcksSent'
  | 'AcksSkipped'
  /**
   * An ack refused when sent or out of retries: never counted in AcksSent. One dead-lettered only
   * because its last try's answer was lost, that the provider then reports sent, counts -1 here
   * and 1 in AcksSent at that report (settleReported): summed, it is an ack sent.
   */
  | 'AcksFailed'
  /**
   * An ack the provider reported undelivered or failed after taking it (carrier filtering):
   * already counted in AcksSent, so kept apart from AcksFailed (the AcksFailing alarm adds it to
   * the failures, not to what was tried).
   */
  | 'AcksFailedAfterSend'
  | 'NoticesSent'
  /** A late notice refused when sent or out of retries: never counted in NoticesSent (taken back as AcksFailed is). */
  | 'NoticesFailed'
  /** A late notice the provider reported undelivered or failed after taking it: already counted in NoticesSent. */
  | 'NoticesFailedAfterSend'
  | 'PromiseBreaches'
  /**
   * SES's permanent bounce (complaint) of one of our mails, an ack, a late notice or an agent's
   * reply: once per report, not per SNS redelivery. Charted; SES's own reputation rates alarm.
   */
  | 'MailBounces'
  | 'MailComplaints'
  /** A sweeper run ended with conversations still due (its time budget ran out). */
  | 'SweepBacklog'
  /** Conversations whose events a sweeper run could not deliver to the event bus. */
  | 'EventsUndelivered'
  /**
   * What a sweeper run could not finish: a due conversation it failed on (a requeue SQS
   * refused, a write that failed), one it cannot read, the webhook deliveries or the mail
   * recheck failing as a whole. The run itself goes on, so the function's Errors stay 0.
   */
  | 'SweepErrors'
  | 'MailRecovered'
  /** A production function refusing its missing or weak AGENT_API_TOKEN: at each cold start, each use and each sweeper run. */
  | 'BootstrapTokenRefused'
  /**
   * A production function running with a channel configured by half switched off: at each cold
   * start, each webhook of it refused (503) and each sweeper run; and each Messenger (Instagram)
   * message recorded without its sending token (only then: the channel may be unused).
   */
  | 'ChannelMisconfigured'
  /**
   * A signed provider webhook refused for its signature: a mismatch, expired, an unknown SNS
   * topic (403, or Mailgun's 406 for an expired one). Unsigned requests are not counted.
   */
  | 'SignatureRefusals'
  | 'WebhookLatency'
  /** A webhook subscription disabled because its endpoint accepted no delivery for 5 days: once per disabling. */
  | 'WebhooksDisabled';

export interface Metrics {
  /** Adds `value` (default 1) to a counter, optionally split by one dimension. */
  count(name: MetricName, value?: number, dimension?: { name: string; value: string }): void;
  /** Records a duration in milliseconds. */
  timing(name: MetricName, ms: number, dimension?: { name: string; value: string }): void;
}

/** Metrics that go nowhere (local runs, tests that do not look at them). */
export const noMetrics: Metrics = { count: () => {}, timing: () => {} };
