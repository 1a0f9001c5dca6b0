/** A raw mail SES stored: where it is, and when it was created (ISO 8601). */
export type StoredMail = { bucket: string; key: string; storedAt: string };

/**
 * One notice from the recheck queue. `stored` names the objects it announces (one per S3
 * record); `test` is the s3:TestEvent S3 sends when the notification is set up; `unreadable`
 * is anything else (left alone, so it ends in the dead-letter queue where a person sees it).
 */
export type MailRecheck =
  | { kind: 'stored'; handle: string; mails: StoredMail[] }
  | { kind: 'test'; handle: string }
  | { kind: 'unreadable'; handle: string };

/**
 * "A raw mail was stored" notices, kept until the sweeper knows each mail is recorded
 * (S3 ObjectCreated → SQS on AWS). A notice received and neither settled nor postponed comes
 * back by itself after the queue's visibility timeout.
 */
export interface MailRecheckQueue {
  /** Up to `max` notices (at most 10); hidden from other readers while they are handled. */
  receive(max: number): Promise<MailRecheck[]>;
  /** Nothing more to do for this notice: it is removed. */
  done(handle: string): Promise<void>;
  /** Not yet: the notice comes back in `seconds`. */
  later(handle: string, seconds: number): Promise<void>;
}
