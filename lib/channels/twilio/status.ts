import { z } from 'zod';
import { phoneContactKey } from '#lib/domain/contact.ts';
import type { DeliveryStatus, InboundEvent } from '#lib/domain/message.ts';
import { parseTwilioPayload, type TwilioFormParams, twilioSid } from './schema.ts';
import { TWILIO_OUTSIDE_WINDOW } from './send.ts';

/**
 * Twilio's message status callback (StatusCallback of a send, or a Messaging Service's
 * delivery status callback). Twilio sends "a subset of the standard request properties" plus
 * MessageStatus and ErrorCode, and adds params without notice: only what we use is
 * validated, everything else passes through (and is still signed over).
 */
export const TwilioStatusSchema = z.looseObject({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  AccountSid: twilioSid('AC'),
  // Twilio's statuses are lower-case words; anything else is not a status we could map.
  MessageStatus: z.string().regex(/^[a-z_-]{1,40}$/),
  ErrorCode: z
    .string()
    .regex(/^\d{0,10}$/)
    .optional(),
  // Twilio's own example callback has From but no To, so neither is required.
  From: z.string().max(320).optional(),
  To: z.string().max(320).optional(),
  // WhatsApp and RCS: `READ` once the recipient has read the message.
  EventType: z.string().max(40).optional(),
});

export type TwilioStatusPayload = z.output<typeof TwilioStatusSchema>;

/**
 * Validates a raw status callback body; MalformedPayloadError names params, never values. With
 * `ourMessageId` (ourIdOf the signed URL it came to): the try it reports.
 */
export function parseTwilioStatus(
  body: string | TwilioFormParams,
  ourMessageId?: string,
): TwilioStatusPayload & { ourMessageId?: string } {
  const payload = parseTwilioPayload(TwilioStatusSchema, 'status callback', body);
  return ourMessageId ? { ...payload, ourMessageId } : payload;
}

/**
 * Twilio's MessageStatus values mapped onto our delivery states. `partially_delivered`
 * counts as `sent`: it surely left Twilio, but claiming `delivered` could hide an ack that
 * never arrived whole. `receiving` / `received` belong to inbound messages and are ignored.
 */
export const TWILIO_DELIVERY_STATUS: Readonly<Record<string, DeliveryStatus>> = {
  queued: 'queued',
  accepted: 'queued',
  scheduled: 'queued',
  sending: 'queued',
  sent: 'sent',
  partially_delivered: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** Twilio's "Landline or unreachable carrier": the number cannot receive an SMS. */
const TWILIO_NO_SMS = 30006;
/** Twilio's "Attempt to send to unsubscribed recipient": the number is on its STOP list. */
const TWILIO_UNSUBSCRIBED = 21610;
/** Twilio's "'To' number cannot be a landline" and "not a valid mobile number" (send.ts refuses so too). */
const TWILIO_NOT_MOBILE = new Set([21635, 21614]);

const INBOUND_STATUSES = new Set(['receiving', 'received']);

/**
 * Turns one status callback into one delivery update of our outbound message (`at` is when
 * we heard of it), or an ignored event for an inbound or unknown status.
 */
export function normalizeTwilioStatus(
  payload: TwilioStatusPayload & { ourMessageId?: string },
  now: Date = new Date(),
): InboundEvent[] {
  const reported = payload.MessageStatus;
  if (INBOUND_STATUSES.has(reported)) return [{ type: 'ignored', reason: `status:inbound:${reported}` }];
  const mapped = Object.hasOwn(TWILIO_DELIVERY_STATUS, reported)
    ? TWILIO_DELIVERY_STATUS[reported]
    : undefined;
  if (!mapped) return [{ type: 'ignored', reason: `status:unknown:${reported}` }];
  // A read receipt may come as EventType=READ on a callback whose MessageStatus lags behind;
  // it never turns a failure into a success.
  const readReceipt =
    payload.EventType?.toUpperCase() === 'READ' && mapped !== 'failed' && mapped !== 'undelivered';
  const status: DeliveryStatus = readReceipt ? 'read' : mapped;
  // WhatsApp refused it for the 24-hour window (Twilio's 63016, WhatsApp's 131047), as the
  // Cloud API's failed status says it: an ack so refused is skipped, never an alarmed failure.
  const windowClosed =
    (status === 'failed' || status === 'undelivered') && Number(payload.ErrorCode) === TWILIO_OUTSIDE_WINDOW;
  // The number takes no SMS (a landline; "unreachable carrier" is a short code's): Twilio's advice
  // is never to text it again.
  const noSms =
    (status === 'failed' || status === 'undelivered') && Number(payload.ErrorCode) === TWILIO_NO_SMS;
  // Not a mobile number (21635 a landline, 21614): as when Twilio refuses the send at once.
  const notMobile =
    (status === 'failed' || status === 'undelivered') && TWILIO_NOT_MOBILE.has(Number(payload.ErrorCode));
  // Refused for its STOP (a Messaging Service reports its refusal here, after taking the send).
  const optedOut =
    (status === 'failed' || status === 'undelivered') && Number(payload.ErrorCode) === TWILIO_UNSUBSCRIBED;
  // Whom our named send went to (SMS, MMS, WhatsApp alike: a number): finds the conversation of a
  // try whose answer was lost, settled now (settleReported), not at its next try.
  const to = payload.To?.replace(/^whatsapp:/, '');
  const contactKey = payload.ourMessageId && to && /^\+\d{6,15}$/.test(to) ? phoneContactKey(to) : undefined;
  return [
    {
      type: 'delivery',
      update: {
        provider: 'twilio',
        providerMessageId: payload.MessageSid,
        status,
        // "0" (or empty) is no error at all.
        ...(payload.ErrorCode && !/^0+$/.test(payload.ErrorCode) ? { errorCode: payload.ErrorCode } : {}),
        ...(windowClosed ? { windowClosed } : {}),
        ...(noSms ? { noSms } : {}),
        ...(optedOut ? { optedOut } : {}),
        ...(notMobile ? { notMobile } : {}),
        // Noted for the lookup of a try its worker did not store (recordDelivery, reported-try.ts).
        ...(payload.ourMessageId ? { ourMessageId: payload.ourMessageId } : {}),
        ...(contactKey ? { contactKey } : {}),
        at: now.toISOString(),
      },
    },
  ];
}
