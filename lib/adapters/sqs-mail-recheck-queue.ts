import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { MailRecheck, MailRecheckQueue, StoredMail } from '#lib/ports/mail-recheck-queue.ts';

// The S3 event notification message structure (version 2.x); only what the recheck reads.
const S3EventSchema = z.looseObject({
  Records: z
    .array(
      z.looseObject({
        eventName: z.string(),
        eventTime: z.iso.datetime({ offset: true }).optional(),
        s3: z.looseObject({
          bucket: z.looseObject({ name: z.string().min(1) }),
          object: z.looseObject({ key: z.string().min(1) }),
        }),
      }),
    )
    .min(1),
});
const S3TestEventSchema = z.looseObject({ Event: z.literal('s3:TestEvent') });

/** Object keys in S3 events are URL-encoded, with `+` for a space. */
function decodeKey(key: string): string | null {
  try {
    return decodeURIComponent(key.replace(/\+/g, '%20'));
  } catch {
    return null;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads one SQS message as an S3 notification; never throws. */
export function readS3Notice(message: Message): MailRecheck | null {
  const handle = message.ReceiptHandle;
  if (!handle) return null;
  const body = parseJson(message.Body ?? '');
  if (S3TestEventSchema.safeParse(body).success) return { kind: 'test', handle };
  const event = S3EventSchema.safeParse(body);
  if (!event.success) return { kind: 'unreadable', handle };
  // S3 always sets eventTime; SentTimestamp (when S3 sent the notice) is the fallback.
  const sent = Number(message.Attributes?.SentTimestamp);
  const fallback = Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined;
  const mails: StoredMail[] = [];
  for (const record of event.data.Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const key = decodeKey(record.s3.object.key);
    const storedAt = record.eventTime ? new Date(record.eventTime).toISOString() : fallback;
    if (key === null || storedAt === undefined) return { kind: 'unreadable', handle };
    mails.push({ bucket: record.s3.bucket.name, key, storedAt });
  }
  return { kind: 'stored', handle, mails };
}

/** The MailRecheckQueue on SQS, fed by the mail bucket's ObjectCreated notifications. */
export class SqsMailRecheckQueue implements MailRecheckQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { client: SQSClient; queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async receive(max: number): Promise<MailRecheck[]> {
    const { Messages = [] } = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#queueUrl,
        MaxNumberOfMessages: Math.min(Math.max(Math.trunc(max), 1), 10),
        // Short polling: the sweeper must not idle every minute on an empty queue. A notice a
        // short poll misses is simply found by a later run.
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    return Messages.map(readS3Notice).filter((notice) => notice !== null);
  }

  async done(handle: string): Promise<void> {
    await this.#client.send(new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: handle }));
  }

  async later(handle: string, seconds: number): Promise<void> {
    await this.#client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.#queueUrl,
        ReceiptHandle: handle,
        // SQS allows 0 to 12 hours.
        VisibilityTimeout: Math.min(Math.max(Math.ceil(seconds), 0), 12 * 60 * 60),
      }),
    );
  }
}
