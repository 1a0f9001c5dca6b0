import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sweep } from '#lib/use-cases/sweep.ts';
import type { TestSwitchboard } from './switchboard.ts';

/**
 * Takes every message out of the ack DLQ, handing each body to `each` before deleting it: their
 * bodies, in the order received.
 */
async function emptyDlq(
  sb: TestSwitchboard,
  waitTimeSeconds: number,
  each: (body: string) => Promise<void> = async () => {},
): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sb.backends.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sb.backends.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitTimeSeconds,
      }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await each(message.Body ?? '');
      await sb.backends.sqs.send(
        new DeleteMessageCommand({ QueueUrl: sb.backends.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

/** What the SQS console's "redrive" does: each ack DLQ message sent to the ack queue as a new message. */
export function redriveDlq(sb: TestSwitchboard): Promise<string[]> {
  return emptyDlq(sb, 1, async (body) => {
    await sb.backends.sqs.send(new SendMessageCommand({ QueueUrl: sb.backends.queueUrl, MessageBody: body }));
  });
}

/** Takes every job out of the ack DLQ: their bodies. */
export function takeDlq(sb: TestSwitchboard): Promise<string[]> {
  return emptyDlq(sb, 0);
}

/**
 * What a provider's outage does to an ack over time: each failed try backs off (1, 2, 4, 8
 * minutes, with jitter) and the sweeper queues it again when due, until the ack is sent or its
 * tries run out and the job goes on to the DLQ. Advances the test clock 10 minutes a round,
 * and only while an ack or notice is still waiting for its next try.
 */
export async function drainThroughRetries(sb: TestSwitchboard, rounds = 6): Promise<void> {
  await sb.drain();
  for (let round = 0; round < rounds; round++) {
    const { items } = await sb.runtime.store.dueForSweep(
      new Date(sb.clock.now().getTime() + 11 * 60_000),
      100,
    );
    if (!items.some((c) => c.ack?.state === 'pending' || c.notice?.state === 'pending')) return;
    sb.clock.advance(10 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
  }
}
