import { z } from 'zod';
import type { InboundEvent } from '#lib/domain/message.ts';

/**
 * SES's report of one of our own sends, published through the configuration set's SNS event
 * destination (SES dev guide, "Contents of event data that Amazon SES publishes to Amazon SNS":
 * `eventType`), or as an identity's feedback notification (`notificationType`, the same fields).
 * Only what we use is validated; SES adds fields without notice.
 */
export const SesFeedbackSchema = z.looseObject({
  mail: z.looseObject({
    /** The id SendEmail answered with: our message's provider id. */
    messageId: z.string().min(1).max(256),
  }),
  bounce: z
    .looseObject({
      /** `Permanent`, `Transient` or `Undetermined`. */
      bounceType: z.string().max(64),
      bounceSubType: z.string().max(64).optional(),
      bouncedRecipients: z
        .array(
          z.looseObject({ status: z.string().max(64).optional(), diagnosticCode: z.string().optional() }),
        )
        .optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .looseObject({
      complaintFeedbackType: z.string().max(64).optional(),
      complaintSubType: z.string().max(64).nullable().optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
});
export type SesFeedback = z.output<typeof SesFeedbackSchema>;

/** The feedback types of ours that settle a send; every other SES event on the topic is ignored. */
export const FEEDBACK_TYPES = new Set(['Bounce', 'Complaint']);

const TOKEN = /[^A-Za-z0-9.]/g;

/** A word of SES's (a bounce subtype, an SMTP status) as it may stand in a reason: no spaces, no address. */
function token(value: string | undefined | null): string {
  return (value ?? '').replace(TOKEN, '').slice(0, 24);
}

/** The enhanced SMTP status (`5.1.1`) a bounce gives, from its status or its Diagnostic-Code. */
function smtpStatus(feedback: SesFeedback): string {
  const recipient = feedback.bounce?.bouncedRecipients?.[0];
  const status = /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(recipient?.status ?? recipient?.diagnosticCode ?? '');
  return status?.[0] ?? '';
}

function timeOf(value: string | undefined, now: Date): string {
  return value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : now.toISOString();
}

/**
 * A bounce or complaint of one of our mails as a delivery update. A permanent bounce fails it
 * (the reason SES's subtype and the SMTP status, `ses-bounce:NoEmail:5.1.1`: never the
 * Diagnostic-Code's text, which names addresses) and stops automatic mail to the address. A
 * complaint leaves the mail delivered and stops automatic mail to the address too (but not a
 * report that the mail is `not-spam`: ignored). A transient
 * or undetermined bounce is nothing final: SES itself retried it, and a later send may go.
 */
export function normalizeSesFeedback(type: string, feedback: SesFeedback, now: Date): InboundEvent[] {
  const providerMessageId = feedback.mail.messageId;
  if (type === 'Bounce') {
    const bounce = feedback.bounce;
    if (bounce?.bounceType !== 'Permanent') {
      return [{ type: 'ignored', reason: `ses-bounce:${token(bounce?.bounceType) || 'unknown'}` }];
    }
    const code = ['ses-bounce', token(bounce.bounceSubType), smtpStatus(feedback)].filter(Boolean).join(':');
    return [
      {
        type: 'delivery',
        update: {
          provider: 'ses',
          providerMessageId,
          status: 'failed',
          errorCode: code,
          stopAutomatic: 'bounced',
          at: timeOf(bounce.timestamp, now),
        },
      },
    ];
  }
  // RFC 5965's `not-spam` (SES passes the report's Feedback-Type on): the mailbox provider says
  // our mail is NOT spam, correcting a misfiled one. No complaint of the customer's.
  if (feedback.complaint?.complaintFeedbackType?.trim().toLowerCase() === 'not-spam') {
    return [{ type: 'ignored', reason: 'ses-complaint:not-spam' }];
  }
  return [
    {
      type: 'delivery',
      update: {
        provider: 'ses',
        providerMessageId,
        status: 'delivered',
        stopAutomatic: 'complained',
        at: timeOf(feedback.complaint?.timestamp, now),
      },
    },
  ];
}
