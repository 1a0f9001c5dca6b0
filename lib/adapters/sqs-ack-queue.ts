import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AckJob, AckQueue, InboundJob } from '#lib/ports/ack-queue.ts';

/**
 * The work queue on SQS: acks, late notices and deferred webhooks (a standard queue: the
 * worker's claim and the idempotent steps make duplicates harmless).
 */
export class SqsAckQueue implements AckQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { client: SQSClient; queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  enqueue(job: AckJob): Promise<void> {
    return this.#send(job);
  }

  deferInbound(job: InboundJob): Promise<void> {
    return this.#send(job);
  }

  async #send(job: AckJob | InboundJob): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: asciiJson(job) }),
    );
  }
}

/**
 * JSON with every character past ASCII written as a `\u` escape: a customer's text may hold
 * what a queue refuses in a message body (SQS: U+FFFE, U+FFFF; fauxqs, which npm start and the
 * tests run: anything past U+FFFF, such as an emoji). JSON.parse gives the same text back.
 */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
