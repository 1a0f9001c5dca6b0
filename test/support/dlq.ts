import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TestSwitchboard } from './switchboard.ts';

/** What the SQS console's "redrive" does: each ack DLQ message sent to the ack queue as a new message. */
export async function redriveDlq(sb: TestSwitchboard): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sb.backends.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sb.backends.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await sb.backends.sqs.send(
        new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: message.Body ?? '' }),
      );
      await sb.backends.sqs.send(
        new DeleteMessageCommand({ QueueUrl: sb.backends.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}
