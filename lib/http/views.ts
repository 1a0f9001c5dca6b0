import { z } from 'zod';
import { ChannelSchema } from '#lib/domain/channel.ts';
import { type Contact, OPT_OUT_READS, optOutReason } from '#lib/domain/contact.ts';
import { contactAddress, contactDisplayName } from '#lib/domain/contact-label.ts';
import {
  type Ack,
  AckSchema,
  awaitingOf,
  type Conversation,
  ConversationSchema,
} from '#lib/domain/conversation.ts';
import { type Message, MessageKindSchema, MessageSchema } from '#lib/domain/message.ts';

/**
 * What the contract says for a value a newer release stored where this release has a closed
 * enum (instances of both serve during a rolling deploy; a rollback reads what the newer one
 * wrote): the enum's own `unknownFutureValue`, as Microsoft Graph's evolvable enums do, never
 * the value itself. So every answer is one the document lists, and a client generated from it
 * keeps its enums. (A conversation this release cannot read is left out of listings instead,
 * and a contact's channels and locale show only the known ones.)
 */
export const UNKNOWN_FUTURE_VALUE = 'unknownFutureValue';

/** A closed enum of the contract: `values`, and UNKNOWN_FUTURE_VALUE for a newer release's value. */
export function evolvableEnum<const T extends string>(values: readonly T[]) {
  const all: Array<T | typeof UNKNOWN_FUTURE_VALUE> = [...values, UNKNOWN_FUTURE_VALUE];
  return z
    .enum(all as [T | typeof UNKNOWN_FUTURE_VALUE, ...Array<T | typeof UNKNOWN_FUTURE_VALUE>])
    .meta({ description: `${UNKNOWN_FUTURE_VALUE}: a value a newer release of Switchboard stored` });
}

/** `value` when this release knows it (one of `values`), else UNKNOWN_FUTURE_VALUE. */
export function knownOr<const T extends string>(
  values: readonly T[],
  value: string,
): T | typeof UNKNOWN_FUTURE_VALUE {
  return (values as readonly string[]).includes(value) ? (value as T) : UNKNOWN_FUTURE_VALUE;
}

const conversation = ConversationSchema.shape;
// The stored schemas keep fields this release does not know (a newer release's, across a rolling
// deploy or a rollback); the contract shows only its own.
/** A contact's name for people (contactDisplayName): what a tool shows, never the key. */
export const DisplayNameSchema = z.string().optional().meta({
  description:
    "The name to show for the contact, never the internal key: the profile name the provider gave, else their number as people write it ('+48 600 100 200'), their email or SIP address; absent when the key is only an id nobody reads (a Messenger, Instagram or WhatsApp user id, a withheld number): show the channel's name then",
});
/** A contact's address for people (contactAddress): their number to call, beside a profile name. */
export const AddressSchema = z.string().optional().meta({
  description:
    "The contact's address as people write it, whatever name they go by: their number ('+48 600 100 200'), email or SIP address; absent when the key is only an id nobody reads",
});
/** Why the contact gets no automatic messages (Contact.optedOutReason), as the contract says it. */
export const OptOutReasonSchema = evolvableEnum(OPT_OUT_READS).meta({
  description:
    "Why no automatic message (acknowledgement, late notice) goes to the contact: `stop`, their STOP (or the provider's word that they sent one; START lifts it); `bounce`, our mail to the address bounced for good (their own next mail from it lifts it); `complaint`, they marked our mail as spam (never lifted by mail); `bounce-or-complaint`, an email address opted out before Switchboard kept the reason (our mail bounced for good or was marked as spam, not known which: never lifted by mail). An agent's own replies still go. unknownFutureValue: a reason a newer release of Switchboard stored",
});
export const OptedOutAtSchema = z.string().meta({
  description: 'When the STOP, the bounce or the complaint happened (ISO 8601)',
});
/** The contact's opt-out beside one of their conversations (GET /api/conversations/{id}). */
export const OptOutViewSchema = z
  .object({ reason: OptOutReasonSchema, at: OptedOutAtSchema.optional() })
  .nullable()
  .meta({
    description:
      "The conversation's contact gets no automatic messages, and why; null when they do. An agent's own replies still go",
  });

/** The contact's opt-out as the contract shows it, or null when automatic messages go to them. */
export function optOutView(contact: Contact | null): z.infer<typeof OptOutViewSchema> {
  const reason = contact && optOutReason(contact);
  if (!contact || !reason) return null;
  return {
    reason: knownOr(OPT_OUT_READS, reason),
    ...(contact.consentAt ? { at: contact.consentAt } : {}),
  };
}

const ContactViewSchema = z.object({
  ...conversation.contact.shape,
  channels: z.array(ChannelSchema),
  displayName: DisplayNameSchema,
  address: AddressSchema,
});
const ReplyFailureViewSchema = z.object(conversation.replyFailure.unwrap().shape).optional();

/** An automatic message of an episode (its ack, its late notice) as the contract shows it. */
const AutomaticMessageViewSchema = z.object({
  ...AckSchema.pick({ state: true, reason: true, sentAt: true }).shape,
  notBefore: z.string().optional().meta({
    description:
      "A pending one's planned time: not sent before it (ISO 8601). Set after a failed try, and for an ack held because its message was recorded late (after an outage: a reply a person typed meanwhile in the provider's own inbox may still be on its way, and then no ack goes); the sweeper queues it then. In the past: due, waiting for the worker. Absent: it goes as soon as the worker takes it",
  }),
  previousReplyBy: z.string().optional().meta({
    description:
      "A sent late notice's: the reply-by time the customer was told before it (the ack's, or an earlier notice's), which the notice moved to the conversation's `replyBy`. Absent for an ack, and for a notice not sent (the time the customer last heard then stays in force)",
  }),
});

/**
 * The public Conversation of the agents' API: the contract, and nothing internal. Built from
 * the domain schema's fields, so a type is declared once; the OpenAPI document is built from it.
 */
export const ConversationViewSchema = z
  .object({
    id: conversation.id,
    status: conversation.status,
    contact: ContactViewSchema,
    channel: conversation.channel.meta({ description: "The channel of the customer's last message" }),
    openedAt: conversation.openedAt,
    lastMessageAt: conversation.lastMessageAt,
    replyBy: conversation.replyBy.meta({
      description:
        'When a person will have answered (ISO 8601 with offset); null when nobody waits for a person (answered, resolved, or only messages nobody is to answer came: see awaiting)',
    }),
    ack: AutomaticMessageViewSchema.nullable().meta({
      description: 'The acknowledgement of the current waiting episode; null before the first',
    }),
    notice: AutomaticMessageViewSchema.nullable().meta({
      description:
        'The late notice of the current waiting episode: sent shortly before `replyBy` passes unanswered, telling the customer a new time (`replyBy` then holds it); null when none was due. `failed` or `skipped`: the customer did not hear the new time, and the one they last heard stays in force',
    }),
    awaiting: z.enum(['reply', 'no-reply-needed']).nullable().meta({
      description:
        "What the open episode waits for: `reply`, a customer waits for a person (by `replyBy`); `no-reply-needed`, only messages nobody is to answer came since our last reply (an out-of-office reply, a list post, a bounce, a keyword such as STOP or HELP): listed with `noReplyNeeded=true`, not among the waiting, until the customer's own question joins them; null, nobody waits (answered, or resolved)",
    }),
    firstReplyAt: conversation.firstReplyAt,
    assignee: z.string().optional().meta({ description: 'Who handles it, when assigned' }),
    replyFailure: ReplyFailureViewSchema.meta({
      description:
        "The latest agent's reply the provider reported undelivered or failed (`reply.failed`), until a later reply: the customer did not get it",
    }),
  })
  .meta({ description: 'A conversation with one contact, open or resolved' });
export type ConversationView = z.infer<typeof ConversationViewSchema>;

/** The public Message of the agents' API. */
export const MessageViewSchema = MessageSchema.pick({
  id: true,
  conversationId: true,
  direction: true,
  kind: true,
  channel: true,
  provider: true,
  providerMessageId: true,
  from: true,
  to: true,
  text: true,
  media: true,
  createdAt: true,
  delivery: true,
})
  .extend({
    kind: evolvableEnum(MessageKindSchema.options),
    fullText: z.string().optional().meta({
      description: "A mail's whole text, quoted history included, when `text` holds only the new part",
    }),
    subject: z.string().optional().meta({ description: "A mail's subject" }),
    recordedAt: z.string().optional().meta({
      description:
        'When it was stored, where that was later than its receipt (`createdAt`): a webhook recorded late, a recovered mail. Nobody could read it before; count it as seen from then (`seenUntil`)',
    }),
    template: z
      .object({
        name: z.string().meta({ description: "Meta's template name, or Twilio's ContentSid" }),
        language: z.string().optional().meta({ description: "Meta's template language code" }),
      })
      .optional()
      .meta({
        description:
          "A reply sent as an approved WhatsApp template, after the 24-hour window: `text` holds its two parameters (the agent's text, line breaks as ' / ', then the signature on the next line), which the customer got inside the template's own words",
      }),
  })
  .meta({ description: 'One message of a conversation, inbound or outbound' });
export type MessageView = z.infer<typeof MessageViewSchema>;

/** The public Conversation of the agents' API: the contract, and nothing internal. */
export function conversationView(conversation: Conversation): ConversationView {
  const ack = conversation.ack;
  const awaiting = awaitingOf(conversation);
  return {
    id: conversation.id,
    status: conversation.status,
    contact: ContactViewSchema.parse({
      ...conversation.contact,
      channels: conversation.contact.channels.filter((channel) => ChannelSchema.safeParse(channel).success),
      displayName: contactDisplayName(conversation.contact),
      address: contactAddress(conversation.contact.key),
    }),
    channel: conversation.channel,
    openedAt: conversation.openedAt,
    lastMessageAt: conversation.lastMessageAt,
    // The stored promise outlives its episode (measured against the reply, kept for a reopen):
    // the contract shows it only while a customer waits for a person (the awaiting listing's rule).
    replyBy: awaiting === 'reply' ? conversation.replyBy : null,
    awaiting,
    ack: ack ? automaticMessageView(ack) : null,
    notice:
      conversation.notice && conversation.notice.episode === conversation.episode
        ? automaticMessageView(conversation.notice)
        : null,
    ...(conversation.firstReplyAt ? { firstReplyAt: conversation.firstReplyAt } : {}),
    ...(conversation.assignee ? { assignee: conversation.assignee } : {}),
    ...(conversation.replyFailure
      ? { replyFailure: ReplyFailureViewSchema.parse(conversation.replyFailure) }
      : {}),
  };
}

function automaticMessageView(sent: Ack): z.infer<typeof AutomaticMessageViewSchema> {
  return {
    state: sent.state,
    ...(sent.reason ? { reason: sent.reason } : {}),
    ...(sent.sentAt ? { sentAt: sent.sentAt } : {}),
    // The stored retryAt of a pending one (its first try's for a held ack): the planned time.
    ...(sent.state === 'pending' && sent.retryAt ? { notBefore: sent.retryAt } : {}),
    // A notice keeps the promise it replaced while sent (a refusal after puts it back and drops it).
    ...(sent.state === 'sent' && sent.replaced?.replyBy ? { previousReplyBy: sent.replaced.replyBy } : {}),
  };
}

/** The public Message of the agents' API. */
export function messageView(message: Message): MessageView {
  return {
    id: message.id,
    conversationId: message.conversationId,
    direction: message.direction,
    kind: knownOr(MessageKindSchema.options, message.kind),
    channel: message.channel,
    provider: message.provider,
    providerMessageId: message.providerMessageId,
    from: message.from,
    to: message.to,
    text: message.text,
    media: message.media,
    createdAt: message.createdAt,
    ...(message.delivery ? { delivery: message.delivery } : {}),
    ...(message.fullText ? { fullText: message.fullText } : {}),
    ...(message.email?.subject ? { subject: message.email.subject } : {}),
    ...(message.recordedAt ? { recordedAt: message.recordedAt } : {}),
    ...(message.template ? { template: message.template } : {}),
  };
}
