import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Log } from '#lib/ports/logger.ts';

export type QueueRecord = { body: string; receiveCount: number; messageId: string };

export type QueueWorkerOptions = {
  sqs: SQSClient;
  queueUrl: string;
  handle: (record: QueueRecord) => Promise<unknown>;
  log: Log;
  waitSeconds?: number;
};

/**
 * One receive of up to ten records, each handed to the same handler the ack-worker Lambda
 * uses: deleted on success, left to reappear after the visibility timeout on failure (so the
 * redrive to the DLQ works as on AWS). Returns how many records it handled successfully.
 */
export async function pollOnce(options: QueueWorkerOptions): Promise<{ received: number; handled: number }> {
  const { Messages = [] } = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: options.waitSeconds ?? 1,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  const outcomes = await Promise.all(
    Messages.map(async (message) => {
      try {
        await options.handle({
          body: message.Body ?? '',
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
          messageId: message.MessageId ?? '',
        });
        await options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        return true;
      } catch (error) {
        options.log.warn('queue record failed; it will be retried', { error: (error as Error).message });
        return false;
      }
    }),
  );
  return { received: Messages.length, handled: outcomes.filter(Boolean).length };
}

/** The local stand-in for the Lambda SQS event source: polls until stopped. */
export function startQueueWorker(options: QueueWorkerOptions): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await pollOnce(options);
      } catch (error) {
        if (!running) break;
        options.log.warn('queue poll failed', { error: (error as Error).name });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
