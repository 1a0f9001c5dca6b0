import { z } from 'zod';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { FEEDBACK_TYPES, type SesFeedback, SesFeedbackSchema } from './feedback.ts';

const TOPIC_ARN = /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;

/** The SNS HTTP/S envelope (SNS "HTTP/HTTPS notification JSON format"); unknown fields pass. */
export const SnsEnvelopeSchema = z
  .looseObject({
    Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
    MessageId: z.string().min(1).max(256),
    TopicArn: z.string().regex(TOPIC_ARN),
    Subject: z.string().optional(),
    Message: z.string(),
    Timestamp: z.string().min(1),
    SignatureVersion: z.enum(['1', '2']),
    Signature: z.string().min(1),
    SigningCertURL: z.string().min(1),
    UnsubscribeURL: z.string().optional(),
    Token: z.string().optional(),
    SubscribeURL: z.string().optional(),
  })
  .superRefine((envelope, ctx) => {
    if (envelope.Type === 'Notification') return;
    // Both are signed in a confirmation: without them the signature cannot be checked.
    for (const key of ['Token', 'SubscribeURL'] as const) {
      if (!envelope[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required' });
    }
  });
export type SnsEnvelope = z.output<typeof SnsEnvelopeSchema>;

const VerdictSchema = z.looseObject({ status: z.string() });

/** SES "Received" notification (SES dev guide, "Contents of notifications for email receiving"). */
export const SesReceivedSchema = z.looseObject({
  notificationType: z.literal('Received'),
  mail: z.looseObject({
    timestamp: z.string(),
    /** Envelope MAIL FROM; empty for a bounce. */
    source: z.string(),
    /** SES's id of the mail, also the S3 object name. */
    messageId: z.string().min(1).max(256),
    destination: z.array(z.string()),
    headersTruncated: z.boolean().optional(),
    headers: z.array(z.looseObject({ name: z.string(), value: z.string() })).optional(),
    commonHeaders: z
      .looseObject({
        returnPath: z.string().optional(),
        from: z.array(z.string()).optional(),
        to: z.array(z.string()).optional(),
        date: z.string().optional(),
        messageId: z.string().optional(),
        subject: z.string().optional(),
      })
      .optional(),
  }),
  receipt: z.looseObject({
    timestamp: z.string(),
    recipients: z.array(z.string()),
    spamVerdict: VerdictSchema.optional(),
    virusVerdict: VerdictSchema.optional(),
    spfVerdict: VerdictSchema.optional(),
    dkimVerdict: VerdictSchema.optional(),
    dmarcVerdict: VerdictSchema.optional(),
    dmarcPolicy: z.string().optional(),
    action: z.looseObject({
      type: z.string(),
      topicArn: z.string().optional(),
      bucketName: z.string().optional(),
      objectKeyPrefix: z.string().optional(),
      objectKey: z.string().optional(),
      /** `UTF8` / `BASE64` in notifications (`UTF-8` / `Base64` in the rule's own API). */
      encoding: z.string().optional(),
    }),
  }),
  /** The raw MIME: present only for the SNS action, base64 when its encoding says so. */
  content: z.string().optional(),
});
export type SesReceived = z.output<typeof SesReceivedSchema>;

/** What parse hands to normalize: the envelope, and the SES notification when it is one. */
export type SesPayload = {
  envelope: SnsEnvelope;
  /**
   * A "Received" notification, a bounce or complaint of one of our sends (`feedback`), or the
   * type of anything else on the topic.
   */
  notification:
    | { kind: 'received'; received: SesReceived }
    | { kind: 'feedback'; type: string; feedback: SesFeedback }
    | { kind: 'other'; type: string }
    | null;
};

function malformed(what: string, error: z.ZodError): MalformedPayloadError {
  const issues = error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
  return new MalformedPayloadError(`${what} does not match the documented shape`, issues);
}

/** Parses JSON without letting its error (which quotes the input) out. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedPayloadError(`${what} is not JSON`, ['(root): invalid_json']);
  }
}

/**
 * Validates a raw SNS POST body (sent as text/plain, so read as text) and, for a
 * Notification, the SES notification inside its Message. Throws MalformedPayloadError
 * naming paths only: the values are mail addresses and subjects.
 */
export function parseSesPayload(rawBody: string): SesPayload {
  const envelope = SnsEnvelopeSchema.safeParse(parseJson(rawBody, 'The SNS message'));
  if (!envelope.success) throw malformed('The SNS message', envelope.error);
  if (envelope.data.Type !== 'Notification') return { envelope: envelope.data, notification: null };
  const inner = parseJson(envelope.data.Message, 'The SNS Message field');
  // `notificationType` in receiving and identity notifications, `eventType` in a configuration
  // set's event publishing.
  const fields = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : {};
  const named = fields.notificationType ?? fields.eventType;
  const type = named === undefined ? 'unknown' : String(named).slice(0, 64);
  if (FEEDBACK_TYPES.has(type)) {
    const feedback = SesFeedbackSchema.safeParse(inner);
    if (!feedback.success) throw malformed('The SES notification', feedback.error);
    return { envelope: envelope.data, notification: { kind: 'feedback', type, feedback: feedback.data } };
  }
  if (type !== 'Received') return { envelope: envelope.data, notification: { kind: 'other', type } };
  const received = SesReceivedSchema.safeParse(inner);
  if (!received.success) throw malformed('The SES notification', received.error);
  return { envelope: envelope.data, notification: { kind: 'received', received: received.data } };
}
