import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AckJob, AckQueue, InboundJob } from '#lib/ports/ack-queue.ts';

/** The AckQueue on SQS (a standard queue: the worker's claim makes duplicates harmless). */
export class SqsAckQueue implements AckQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { client: SQSClient; queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async enqueue(job: AckJob): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(job) }),
    );
  }

  async deferInbound(job: InboundJob): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(job) }),
    );
  }
}
