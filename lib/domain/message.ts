import { z } from 'zod';
import { ChannelSchema } from './channel.ts';
import { ContactKeySchema } from './contact.ts';

export const MediaSchema = z.object({
  url: z.string(),
  contentType: z.string(),
  name: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  /**
   * An image a mail shows inside its text (a signature's logo: Content-Disposition inline with a
   * Content-ID), not a file the sender attached.
   */
  inline: z.boolean().optional(),
  /**
   * The mail's own whole text (quoted history included), kept beside its attachments when too
   * long for the message item: set by Switchboard alone, never by what a sender wrote, so a
   * customer's own `message.txt` is their file.
   */
  wholeText: z.boolean().optional(),
  /**
   * Outlook's `winmail.dat` (application/ms-tnef): a bundle of the sender's formatting and,
   * often, their real attachments, which only Outlook opens. Not decoded here.
   */
  outlookBundle: z.boolean().optional(),
  /**
   * An `outlookBundle` that carries the sender's files (Outlook puts every attachment inside it)
   * or could not be read: counted as their attachment. Without it a bundle is formatting alone.
   */
  bundledFiles: z.boolean().optional(),
});
export type Media = z.infer<typeof MediaSchema>;

/**
 * Where a mail too long for its message item keeps its whole text (quoted history included):
 * a file beside the attachments under this name and type, marked `wholeText`. It is the mail
 * itself, not a file the sender attached: a short thanks on top of a long thread is still only
 * thanks.
 */
export const WHOLE_TEXT_MEDIA = { name: 'message.txt', contentType: 'text/plain; charset=utf-8' } as const;

/**
 * Whether `media` is a long mail's own whole text, not an attachment: by our own mark alone, never
 * by its name or type, which any sender can give a file.
 */
export function isWholeText(media: Media): boolean {
  return media.wholeText === true;
}

export const MessageKindSchema = z.enum(['message', 'ack', 'reply', 'voicemail', 'call', 'notice', 'note']);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const DirectionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof DirectionSchema>;

/** Provider-reported delivery state of an outbound message (status callbacks, receipts). */
export const DeliverySchema = z.object({
  status: z.string(),
  errorCode: z.string().optional(),
  updatedAt: z.string(),
});

/** Email headers that thread a conversation and decide whether to answer (RFC 5322 / 3834). */
export const EmailMetaSchema = z.object({
  subject: z.string().max(998),
  /** The RFC 5322 Message-ID of this mail, without angle brackets. */
  messageId: z.string().max(998).optional(),
  inReplyTo: z.string().max(998).optional(),
  references: z.array(z.string().max(998)).max(100),
  /**
   * Where the sender asked answers to go (Reply-To, RFC 5322 §3.6.2) when not to the From:
   * answers and acknowledgements go here, the contact stays the From.
   */
  replyTo: z.string().max(320).optional(),
  /**
   * Set on a mail from another address that answers our mail to a conversation's customer (its
   * In-Reply-To/References name our own Message-ID): that customer's address, where answers go.
   */
  threadCustomer: z.string().max(320).optional(),
});
export type EmailMeta = z.infer<typeof EmailMetaSchema>;

/**
 * A stored message, inbound or outbound. The first twelve fields are the public contract
 * (GET /api/conversations/:id); the rest are kept for the store and later issues.
 */
export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: DirectionSchema,
  /** One of MessageKindSchema's when this release stored it; a newer release's kind is read as it is (the API shows unknownFutureValue). */
  kind: MessageKindSchema.or(z.string().max(40)),
  channel: ChannelSchema,
  provider: z.string(),
  providerMessageId: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  text: z.string(),
  media: z.array(MediaSchema),
  createdAt: z.string(),
  contactKey: z.string(),
  delivery: DeliverySchema.optional(),
  /** The provider's id of `to` on an inbound message, when it has one (InboundMessage.toId). */
  toId: z.string().optional(),
  durationSeconds: z.number().nonnegative().optional(),
  callId: z.string().optional(),
  email: EmailMetaSchema.optional(),
  /** A mail's whole text, quoted history included, when `text` holds only the new part. */
  fullText: z.string().optional(),
  /**
   * When the store took the message, where that was later than its receipt (`createdAt`): a
   * webhook the store could not take, recorded by the worker. No agent could see it before.
   */
  recordedAt: z.string().optional(),
  /**
   * A reply sent as an approved WhatsApp template (after the 24-hour window): Meta's template
   * name and language code, or Twilio's ContentSid as `name`. `text` holds its parameters, the
   * agent's text and the signature, as the customer got them inside the template's own words.
   */
  template: z.object({ name: z.string(), language: z.string().optional() }).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

/**
 * What a channel's normalizer produces for one customer message: everything the use case
 * needs, nothing provider-specific. `noAckReason` lets a channel say "record it, never answer
 * it" (auto-replies, bulk mail, keywords) without the use case knowing provider headers.
 */
export const InboundMessageSchema = z.object({
  provider: z.string().min(1),
  providerMessageId: z.string().min(1).max(256),
  channel: ChannelSchema,
  kind: z.enum(['message', 'call', 'voicemail']),
  contactKey: ContactKeySchema,
  /**
   * Another key of the same person, given beside `contactKey` by the provider (a WhatsApp user's
   * `whatsapp:<BSUID>` beside their number): linked to the contact once, so that a later message
   * under that key alone is recorded as theirs (ContactStore.resolveAlias).
   */
  aliasKey: ContactKeySchema.optional(),
  contactName: z.string().max(200).optional(),
  from: z.string().max(320),
  to: z.string().max(320),
  /**
   * The provider's id of `to`, where sending from our address takes that id rather than the
   * address (WhatsApp Cloud's phone_number_id): which of our numbers can answer.
   */
  toId: z.string().max(128).optional(),
  text: z.string(),
  media: z.array(MediaSchema),
  noAckReason: z.string().optional(),
  /**
   * The provider's id of the customer's own message this one edits (WhatsApp Cloud's
   * `edit.original_message_id`): an edit of their thanks may be a question (record-inbound-edit).
   */
  editOf: z.string().max(256).optional(),
  /** Consent the customer expressed with this message (STOP / START and their synonyms). */
  consent: z.enum(['opt-out', 'opt-in']).optional(),
  /**
   * The opt-in holds only for a number that opted out (Twilio's YES): from anyone else it is an
   * ordinary message, answered as such.
   */
  optInOnlyIfOptedOut: z.boolean().optional(),
  /** Length of a call or a voicemail recording, in seconds. */
  durationSeconds: z.number().nonnegative().optional(),
  /** The provider's id of the call a voicemail belongs to (Twilio CallSid). */
  callId: z.string().max(256).optional(),
  email: EmailMetaSchema.optional(),
  /** A mail's whole text, quoted history included, when `text` holds only the new part. */
  fullText: z.string().optional(),
  /**
   * When the provider says the customer sent it (Meta's timestamps), ISO 8601. It orders one
   * customer's messages within a webhook; the message's time is always our receipt time.
   */
  sentAt: z.string().optional(),
  /**
   * The same message's key whichever provider delivers it, where one message can come in two
   * ways (a mail through both Mailgun and SES): recorded once, under the first delivery's id.
   */
  sameMessageKey: z.string().max(256).optional(),
});
export type InboundMessage = z.infer<typeof InboundMessageSchema>;

/** Provider-reported delivery states of our outbound messages, in the order they progress. */
export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'undelivered', 'failed'] as const;
export const DeliveryStatusSchema = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

/** A status callback or receipt about one of our outbound messages. */
export const DeliveryUpdateSchema = z.object({
  provider: z.string().min(1),
  providerMessageId: z.string().min(1).max(256),
  status: DeliveryStatusSchema,
  errorCode: z.string().max(64).optional(),
  /**
   * A failure the provider explains as the messaging window closed (WhatsApp 131047: more than
   * 24 hours since the customer wrote), not as the customer's address or our account.
   */
  windowClosed: z.boolean().optional(),
  /**
   * A failure the provider's code says a later try may get past (WhatsApp 131000 something went
   * wrong, 131016 service unavailable, 130429 throughput…): an ack or notice is sent again, an
   * agent's reply is shown as worth sending again.
   */
  retryable: z.boolean().optional(),
  /**
   * The address must get no more automatic messages (acks, late notices): our mail to it
   * bounced for good, or its owner marked it as spam (SES). An agent may still write by hand.
   */
  stopAutomatic: z.enum(['bounced', 'complained']).optional(),
  /**
   * A failure the provider explains by the number's kind: it takes no SMS (Twilio 30006, a
   * landline). Remembered on the number's contact, so no SMS is tried there again; the ack of a
   * call so refused is the one its greeting spoke.
   */
  noSms: z.boolean().optional(),
  /** Twilio says the number is no mobile (21635 a landline, 21614): no SMS, whatever the conversation. */
  notMobile: z.boolean().optional(),
  /**
   * A failure the provider explains by the number's opt-out (Twilio 21610, its STOP list): taken
   * as that STOP, as when it refuses a send at once. A boolean, not a `stopAutomatic` value: a held
   * status of it stays readable by a release that does not know it.
   */
  optedOut: z.boolean().optional(),
  /** When the provider says it happened (ISO 8601), or when we heard of it. */
  at: z.string(),
  /** Our id of the message, as the send tagged it and the provider gave it back (Meta). */
  ourMessageId: z.string().max(64).optional(),
  /** Whom it went to, where the provider says (WhatsApp's `recipient_id`): finds a tagged try's conversation. */
  contactKey: ContactKeySchema.optional(),
});
export type DeliveryUpdate = z.infer<typeof DeliveryUpdateSchema>;

/**
 * A message sent from the business side that the provider echoes back to us (Meta `is_echo`).
 * Our own sends are recognised by their provider id (or app id) and ignored; one a person sent
 * from the provider's inbox is stored as an outbound reply.
 */
export const OutboundEchoSchema = z.object({
  provider: z.string().min(1),
  providerMessageId: z.string().min(1).max(256),
  channel: ChannelSchema,
  contactKey: ContactKeySchema,
  from: z.string().max(320),
  to: z.string().max(320),
  text: z.string(),
  media: z.array(MediaSchema),
  /** The app that sent it, when the provider says (Meta `app_id`). */
  appId: z.string().max(64).optional(),
  /** When the provider says it was sent (Meta's event `timestamp`). */
  sentAt: z.string().optional(),
  /** Our id of the message, as our send tagged it (Meta's echo `metadata`): one of our sends. */
  ourMessageId: z.string().max(64).optional(),
});
export type OutboundEcho = z.infer<typeof OutboundEchoSchema>;

/** Text that arrives after the message it belongs to (a voicemail's transcription). */
export const TranscriptionSchema = z.object({
  provider: z.string().min(1),
  /** The provider id of the message it completes (Twilio RecordingSid). */
  providerMessageId: z.string().min(1).max(256),
  text: z.string(),
});
export type Transcription = z.infer<typeof TranscriptionSchema>;

/**
 * The provider says a person is now known by another key (WhatsApp: a new business-scoped user
 * id, after a changed id or number): that key leads to their contact from now on.
 */
export const AliasChangeSchema = z.object({
  provider: z.string().min(1),
  /** The new key (`whatsapp:<new BSUID>`). */
  aliasKey: ContactKeySchema,
  /** The contact it leads to, where the provider names it (a changed number's `phone:+E164`)… */
  contactKey: ContactKeySchema.optional(),
  /** …or the key the person had: the new one leads wherever this one led. */
  previousKey: ContactKeySchema.optional(),
  /** Where answers go now, unless the previous key's link names a number (kept). */
  address: z.string().max(320),
  /**
   * With `contactKey`: keys the person is no longer reached at (a changed number's old number
   * and old id): a conversation open there and answered at that key is answered at `address`.
   */
  movedFrom: z.array(ContactKeySchema).max(4).optional(),
});
export type AliasChange = z.infer<typeof AliasChangeSchema>;

/** Everything a provider webhook can tell us, after normalization. */
export const InboundEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), message: InboundMessageSchema }),
  z.object({ type: z.literal('delivery'), update: DeliveryUpdateSchema }),
  z.object({ type: z.literal('echo'), echo: OutboundEchoSchema }),
  z.object({ type: z.literal('transcription'), transcription: TranscriptionSchema }),
  z.object({ type: z.literal('alias'), change: AliasChangeSchema }),
  z.object({ type: z.literal('ignored'), reason: z.string() }),
]);
export type InboundEvent = z.infer<typeof InboundEventSchema>;
