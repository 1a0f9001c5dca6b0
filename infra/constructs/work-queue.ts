import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /** The consumer's timeout; the visibility timeout is derived from it. */
  readonly consumerTimeout: Duration;
  /** Receives before a message that keeps failing waits in the DLQ. */
  readonly maxReceiveCount: number;
}

/**
 * A queue a Lambda function consumes (the acknowledgement jobs; the events the stats are
 * counted from), with a dead-letter queue for the messages that keep failing.
 */
export class WorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for Lambda consumers: six times the function timeout, so a message is not
      // redelivered while a batch is still running or being retried after a throttle.
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      // A message that keeps failing waits in the DLQ for a person instead of spending the
      // provider's rate limit (or the table's capacity) on every retry.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
