import { z } from 'zod';
import { acknowledgedLater, promisedNobody, voiceSmsAllowed } from './ack-policy.ts';
import type { BusinessConfig } from './business-config.ts';
import { type Channel, ChannelSchema, LocaleSchema } from './channel.ts';
import { isE164Number, isWithheldCallerId } from './contact.ts';
import { type DomainEvent, DomainEventSchema, withEvent } from './events.ts';
import { stableId } from './ids.ts';
import type { Message } from './message.ts';
import { type NoticeTiming, type ReplyPromise, ReplyPromiseSchema } from './promise.ts';

export const AckStateSchema = z.enum(['pending', 'sending', 'sent', 'skipped', 'failed']);
export type AckState = z.infer<typeof AckStateSchema>;

/** Where a try went: the channel and provider, the customer's address, ours, and its provider id. */
export const SentViaSchema = z.looseObject({
  channel: ChannelSchema,
  provider: z.string(),
  to: z.string(),
  from: z.string(),
  businessId: z.string().optional(),
});
export type SentVia = z.infer<typeof SentViaSchema>;

/** The acknowledgement of the conversation's current waiting episode. */
export const AckSchema = z.looseObject({
  state: AckStateSchema,
  episode: z.number().int().positive(),
  reason: z.string().optional(),
  sentAt: z.string().optional(),
  /** When it became pending; the sweeper re-enqueues from here. */
  requestedAt: z.string(),
  /** When a job for it was last put on the queue. */
  enqueuedAt: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  /** A worker's claim: nobody else sends it before this moment. */
  leaseUntil: z.string().optional(),
  /**
   * After a failed try (the provider down, throttling): not tried again before this moment.
   * The sweeper queues it then; a copy of its job that comes earlier leaves it. Also the first
   * try's, for an ack held for an inbox reply queued behind its message (InboundContext.holdAckUntil).
   */
  retryAt: z.string().optional(),
  messageId: z.string().optional(),
  /**
   * When it failed only because its retries ran out (the provider kept failing; the job went
   * to the DLQ): a job redriven from the DLQ claims it again, with a fresh budget of attempts.
   */
  deadLetteredAt: z.string().optional(),
  /**
   * A late notice's: the episode's promise before the notice stated a new one (`stated`, its
   * replyBy). Put back if the provider then refuses the notice (settleAck): the customer never
   * heard the new time, so the one they last heard stays in force.
   */
  replaced: z
    .looseObject({
      promise: ReplyPromiseSchema.nullable(),
      replyBy: z.string().nullable(),
      originalReplyBy: z.string().nullable(),
      stated: z.string(),
    })
    .optional(),
  /**
   * A try whose outcome we do not know (no answer came after the request was written; the
   * provider may have taken it): when it began and the text it carried. The next try first asks
   * the provider for that message (ChannelSender.find) and adopts it, sending only when the
   * provider has none; kept until the ack is sent or skipped (a failed one keeps it, so that a
   * redrive asks first). An episode that ends meanwhile (a reply, a resolve, a STOP) leaves such
   * an ack pending for one lookup-only try (endPendingJobs): recorded as sent if the provider has
   * it, else skipped.
   */
  uncertain: z
    .looseObject({
      at: z.string(),
      text: z.string(),
      /**
       * Where that try went (the route then): its lookup asks from there, not from the route in
       * force when it runs (the customer may have written to another of our numbers since).
       * Absent on marks written before stop 26: the conversation's route is used.
       */
      via: SentViaSchema.optional(),
    })
    .optional(),
  /**
   * The same person's ack this one waits for: the episode's ack of the conversation their
   * other key (a WhatsApp BSUID) opened before the two were linked, still queued when the link
   * was written. The worker goes by it at send time (linked-ack.ts): skipped when that one
   * went, held while it is still to go, sent when it did not go (stop 28). With `contactKey`: that
   * conversation was only claimed on the contact (its first message in flight) when the link read it.
   */
  after: z
    .looseObject({
      conversationId: z.string(),
      episode: z.number().int().positive(),
      contactKey: z.string().optional(),
    })
    .optional(),
});
export type Ack = z.infer<typeof AckSchema>;
/** An uncertain try of an automatic message (Ack.uncertain). */
export type UncertainTry = NonNullable<Ack['uncertain']>;

/**
 * An ended episode's ack or notice whose last try was uncertain, replaced in its slot before its
 * lookup-only try (an agent replied, then the customer wrote again: the next episode's ack took
 * the slot). The provider is still asked for it, never sent it again: the sweeper queues its job
 * at `retryAt` and the worker records it as sent (found) or skipped (not found).
 */
export const OwedLookUpSchema = z.looseObject({
  slot: z.enum(['ack', 'notice']),
  episode: z.number().int().positive(),
  requestedAt: z.string(),
  attempts: z.number().int().nonnegative(),
  retryAt: z.string(),
  /** When the sweeper last queued its job: not again before another grace period (as Ack.enqueuedAt). */
  enqueuedAt: z.string().optional(),
  uncertain: AckSchema.shape.uncertain.unwrap(),
});
export type OwedLookUp = z.infer<typeof OwedLookUpSchema>;

/**
 * When the sweeper queues an owed lookup's job: at `retryAt`, and after a job it queued, not
 * before another grace period (a worker held up would otherwise get a job, each a provider list
 * call, on every run).
 */
export function lookUpDueAt(owed: OwedLookUp, graceMs: number): number {
  const retry = Date.parse(owed.retryAt);
  return owed.enqueuedAt ? Math.max(retry, Date.parse(owed.enqueuedAt) + graceMs) : retry;
}

/** The sweeper queued these owed lookups' jobs (markAckEnqueued's counterpart). */
export function markLookUpsEnqueued(
  conversation: Conversation,
  queued: readonly Pick<OwedLookUp, 'slot' | 'episode'>[],
  now: Date,
): Conversation {
  const isQueued = (owed: OwedLookUp) =>
    queued.some((q) => q.slot === owed.slot && q.episode === owed.episode);
  const lookUps = conversation.lookUps;
  if (!lookUps?.some(isQueued)) return conversation;
  const enqueuedAt = now.toISOString();
  return {
    ...conversation,
    lookUps: lookUps.map((owed) => (isQueued(owed) ? { ...owed, enqueuedAt } : owed)),
  };
}

/** Where answers go: the channel and addresses of the customer's last message. */
export const ReplyRouteSchema = z.looseObject({
  channel: ChannelSchema,
  provider: z.string(),
  /** The customer's address on that channel: where answers go (a mail's Reply-To, if it named one). */
  customer: z.string(),
  /** Our address the customer wrote to. */
  business: z.string(),
  /**
   * The provider's id of that address, where sending from it takes the id (WhatsApp Cloud's
   * phone_number_id): a route whose id is not one we send from has no sender (SenderRegistry).
   */
  businessId: z.string().optional(),
  /** Email threading of the customer's last mail: answers go "Re:" it. */
  thread: z
    .looseObject({ subject: z.string(), messageId: z.string().optional(), references: z.array(z.string()) })
    .optional(),
});
export type ReplyRoute = z.infer<typeof ReplyRouteSchema>;

/**
 * The customer's address on a channel changed (a WhatsApp user's new BSUID, Meta's
 * `user_changed_user_id`; their new number, `user_changed_number`): an open conversation
 * answered at the old one through that provider is answered at the new one, its ack, late notice
 * and replies alike. The same object when it is not answered there.
 */
export function readdressed(
  conversation: Conversation,
  change: { channel: Channel; provider: string; from: string; to: string },
): Conversation {
  const { route } = conversation;
  if (
    conversation.status !== 'open' ||
    route.channel !== change.channel ||
    route.provider !== change.provider ||
    route.customer !== change.from
  )
    return conversation;
  return { ...conversation, route: { ...route, customer: change.to } };
}

/**
 * The channel a route's messages go out on: its own, except a call's, answered by SMS to the
 * number the caller called from. A caller with no number (a Twilio Client identity, a SIP URI
 * whose user part is not E.164, a withheld number) takes no SMS: null, no route. (A withheld
 * caller is recorded as `anonymous`; a call stored before that kept the carrier's placeholder,
 * which may look like a number: never texted either.)
 */
export function sendChannelOf(route: Pick<ReplyRoute, 'channel' | 'customer'>): Channel | null {
  if (route.channel !== 'voice') return route.channel;
  return isE164Number(route.customer) && !isWithheldCallerId(route.customer) ? 'sms' : null;
}

/**
 * The channel an automatic message (an ack, a late notice) goes out on: sendChannelOf's, but
 * after a call only to a number `voiceSms` lets us text (a mobile one by default), as the call's
 * own ack is decided (ackSpokenOnly): never a late notice texted to a landline. An agent's
 * reply is the agent's choice (sendChannelOf).
 */
export function automaticChannelOf(
  route: Pick<ReplyRoute, 'channel' | 'customer'>,
  voiceSms: BusinessConfig['ack']['voiceSms'],
): Channel | null {
  if (route.channel === 'voice' && !voiceSmsAllowed(voiceSms, route.customer)) return null;
  return sendChannelOf(route);
}

/**
 * A stored conversation. Loose, as are its nested objects: the item is written whole (a put
 * conditional on its version), so a field this release does not know, written by a newer one
 * (instances of both serve during a rolling deploy; a rollback reads the newer one's items), is
 * kept through this release's writes instead of erased. The API shows only its own (views.ts).
 */
export const ConversationSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['open', 'resolved']),
  /** The channels a newer release may name too (a channel this one does not know): kept, shown as known ones only. */
  contact: z.looseObject({
    key: z.string(),
    name: z.string().optional(),
    channels: z.array(ChannelSchema.or(z.string().max(40))),
  }),
  channel: ChannelSchema,
  openedAt: z.string(),
  lastMessageAt: z.string(),
  replyBy: z.string().nullable(),
  ack: AckSchema.nullable(),
  /** The late notice of the current (or last) episode, sent shortly before replyBy passes unanswered. */
  notice: AckSchema.nullable().default(null),
  /** The last episode whose promise passed unanswered (counted once, as a breach). */
  breachedEpisode: z.number().int().nonnegative().default(0),
  /** The episode's promise as first stated, when a late notice moved it (for measuring). */
  originalReplyBy: z.string().nullable().default(null),
  firstReplyAt: z.string().optional(),
  locale: LocaleSchema,
  /**
   * Whether the locale was read from one of the conversation's messages: once it was, later
   * messages no longer change it, so a Polish customer's "thanks" does not turn the rest of the
   * conversation English. `false` while it is still the default or the contact's remembered one
   * (a conversation opens with it written so); absent on conversations stored before the field
   * existed, whose locale came from their first message: those count as told (localeSettled).
   */
  localeDetected: z.boolean().optional(),
  route: ReplyRouteSchema,
  promise: ReplyPromiseSchema.nullable(),
  /** Waiting episodes so far; an episode starts with the first customer message after our reply. */
  episode: z.number().int().nonnegative(),
  /** Set while the customer waits for a person (from the episode's first message to our reply). */
  awaitingSince: z.string().nullable(),
  /**
   * Ids of the customer messages applied in the current episode, the last
   * MAX_EPISODE_MESSAGE_IDS of them: what makes a re-apply a no-op.
   */
  episodeMessageIds: z.array(z.string()),
  lastReplyAt: z.string().nullable(),
  /** The customer's last message per channel: Meta and WhatsApp allow free-form answers for 24 h after it. */
  // Keyed by channel; a newer release's channel is kept (and never looked up here).
  inboundAt: z.partialRecord(ChannelSchema.or(z.string().max(40)), z.string()).default({}),
  /**
   * Why that last message per channel was not to be acknowledged (HELP, an auto-reply, an opted-out
   * number…; absent: it was a question): the episode it opens after a reply that was on its way
   * when it came takes it (episodeAfterReply), as the policy gave it. The quiet times are left
   * out: they are measured from that reply again.
   */
  inboundNoAck: z.partialRecord(ChannelSchema.or(z.string().max(40)), z.string()).optional(),
  /**
   * When the customer's newest message to be answered was received: a question, a call, anything
   * but a message that promised nobody anything (an auto-reply, a list post, a keyword; see
   * `isQuestion`). Absent while only such messages came (and on conversations stored before
   * stop 25). An episode such a message opened waits for a person once one joins it.
   */
  lastQuestionAt: z.string().optional(),
  /**
   * The episode the customer's newest question joined (or opened): while it is the current one, a
   * customer waits for a person there, whatever began the episode (HELP, STOP, an auto-reply).
   * Written in the same write as the question, so it holds in whichever order the two were
   * applied: a question the worker records late into an episode a later STOP began is older than
   * the episode's start, yet it is in that episode. Absent while no question came (and on
   * conversations stored before stop 25).
   */
  questionEpisode: z.number().int().positive().optional(),
  /**
   * When the newest customer message recorded late (stored after its receipt: a webhook the
   * worker recorded, message.recordedAt) was stored here. Nobody could read it before, though its
   * receipt time may be older than what an agent saw: a resolve's `seenUntil` is weighed against
   * this too. Absent while every message was stored on receipt.
   */
  lateRecordedAt: z.string().optional(),
  /**
   * The latest reply a person wrote in the provider's own inbox (an echo: the Page inbox,
   * Instagram, the WhatsApp Business app), when it was received and on which channel. They read
   * the customer's messages there, so it answered every message of that channel received before
   * it, even one we stored only after it (a webhook the worker recorded late). Absent until one.
   */
  lastInboxReply: z.object({ at: z.string(), channel: ChannelSchema.or(z.string().max(40)) }).optional(),
  resolvedAt: z.string().optional(),
  /** Events not yet delivered to downstream tools (the outbox; cleared by the publisher). */
  outbox: z.array(DomainEventSchema).default([]),
  /** The sweeper tried to deliver the outbox and failed: not again before this (no starvation). */
  outboxRetryAt: z.string().optional(),
  /**
   * Agents' replies being sent through a provider that echoes them (Meta), by message id, each
   * until when: meanwhile an echo without an app id may be one of them, not a person's inbox
   * reply (it waits; Meta retries). Each reply's own write removes it.
   */
  repliesInFlight: z.record(z.string(), z.string()).optional(),
  /**
   * Agents' replies whose send ended without an answer after the request was written (the
   * provider may have taken them), by message id: when and with what text. The retry of the
   * same request asks the provider for that text first and adopts it, and sends again only
   * after a wait with no sign of it (lib/use-cases/agent-actions.ts). Kept a day. `template`: it
   * went as that WhatsApp template (`text` its two parameters), looked for so whatever the window
   * is when the retry comes.
   */
  uncertainReplies: z
    .record(
      z.string(),
      z.looseObject({
        at: z.string(),
        text: z.string(),
        template: z.looseObject({ name: z.string(), language: z.string().optional() }).optional(),
        // `via`: where the try went, which its lookup asks from (absent on marks before stop 26).
        via: SentViaSchema.optional(),
      }),
    )
    .optional(),
  /** Ended episodes' uncertain acks and notices still to be looked up (OwedLookUpSchema); a few at most. */
  lookUps: z.array(OwedLookUpSchema).optional(),
  /**
   * The latest agent's reply the provider reported undelivered or failed (reply.failed), until
   * a later reply is recorded: the customer did not get it, and a person should act. `sentAt` is
   * the reply's stored time: a late report on an older reply does not replace it (absent on
   * items written before stop 25's review: taken as older than any).
   */
  replyFailure: z
    .looseObject({
      messageId: z.string(),
      status: z.enum(['undelivered', 'failed']),
      errorCode: z.string().optional(),
      at: z.string(),
      sentAt: z.string().optional(),
    })
    .optional(),
  /** How many deliveries of the outbox failed in a row (each doubles the wait before the next). */
  outboxFailures: z.number().int().nonnegative().optional(),
  /**
   * Set while older events wait outside the item (the outbox grew past MAX_OUTBOX_EVENTS while
   * the event bus was down, and the store moved them aside): the id of the newest one moved.
   * The publisher delivers those first and clears this only if no newer spill happened meanwhile.
   */
  outboxSpill: z.string().optional(),
  assignee: z.string().nullable().default(null),
  /**
   * The customer's STOP (true) or START (false) in this conversation: no acknowledgement or
   * late notice goes out while it is true, even one requested before the STOP.
   */
  optedOut: z.boolean().optional(),
  /**
   * When the STOP or START that set `optedOut` was received: one received earlier (a webhook
   * the worker recorded late) changes nothing. Absent on conversations stored before stop 24.
   */
  consentAt: z.string().optional(),
  /** Optimistic-concurrency counter: every write is conditional on the version it read. */
  version: z.number().int().nonnegative(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

/** Why no acknowledgement is sent for an episode; recorded on the conversation. */
export type NoAckReason = string;

export type InboundContext = {
  now: Date;
  /** The promise for a message received now on this channel. */
  promise: z.infer<typeof ReplyPromiseSchema>;
  /** null: acknowledge; otherwise the reason not to. */
  noAckReason: NoAckReason | null;
  /** The language of a conversation this message opens (chooseLocale). */
  defaultLocale: z.infer<typeof LocaleSchema>;
  /**
   * The language this message is confidently in (null or absent: it does not say). A
   * conversation whose language no message has told yet takes it: one that began with a photo,
   * a call or an "ok" (the default, or the contact's last language) is answered in the
   * language the customer then writes in.
   */
  detectedLocale?: z.infer<typeof LocaleSchema> | null;
  newConversationId: string;
  /** The customer's name as the provider gave it (WhatsApp profile, email display name). */
  contactName?: string | undefined;
  /** A call: the greeting already told the caller the promise, so that is the acknowledgement. */
  spokenAck?: boolean;
  /** The message is the customer's STOP or START (the contact's consent is already recorded). */
  consent?: 'opt-out' | 'opt-in' | undefined;
  /**
   * Not before this moment does the ack of an episode this message opens go (its `retryAt`; the
   * sweeper queues it then): a message recorded late, whose answer from the provider's own inbox
   * may still wait on the queue (LATE_ACK_HOLD_MS). The re-check at send time skips it if so.
   */
  holdAckUntil?: string | undefined;
  /** The ack this episode's would wait for (Ack.after): the person's other key's, still queued. */
  ackAfter?: Ack['after'];
};

export type ApplyInboundResult =
  | { kind: 'applied'; conversation: Conversation; ackRequested: boolean; opened: boolean }
  | { kind: 'unchanged'; conversation: Conversation }
  | { kind: 'closed'; conversation: Conversation };

/**
 * A STOP stops what was still to be sent in this conversation (a pending acknowledgement or
 * late notice, requested before it), and what the sweeper would start later; a START allows
 * them again. One already being sent (claimed by the worker) is past stopping. Only the
 * customer's latest word counts: a STOP or START received before the one applied here (a
 * webhook the worker recorded late) changes nothing, as on the contact (setConsent).
 */
function withConsent(conversation: Conversation, message: Message, context: InboundContext): Conversation {
  if (!context.consent) return conversation;
  if (conversation.consentAt && Date.parse(message.createdAt) < Date.parse(conversation.consentAt))
    return conversation;
  const consentAt = message.createdAt;
  if (context.consent === 'opt-in') return { ...conversation, optedOut: false, consentAt };
  return endPendingJobs({ ...conversation, optedOut: true, consentAt }, 'opted-out', context.now);
}

/**
 * A STOP or START the person said in another conversation of theirs, under another key (a
 * WhatsApp BSUID's conversation opened before it was linked to their number): it holds here too,
 * as withConsent. The same object when it changes nothing (an earlier word, or a retry).
 */
export function consentFromElsewhere(
  conversation: Conversation,
  optedOut: boolean,
  consentAt: string,
  now: Date,
): Conversation {
  if (conversation.status !== 'open') return conversation;
  if (conversation.consentAt && Date.parse(consentAt) <= Date.parse(conversation.consentAt))
    return conversation;
  if (!optedOut) return { ...conversation, optedOut: false, consentAt };
  return endPendingJobs({ ...conversation, optedOut: true, consentAt }, 'opted-out', now);
}

/**
 * The episode's pending ack and notice are no longer needed (a reply, a resolve, a STOP): each
 * skipped (`ack.skipped`), except one whose last try may have reached the customer (`uncertain`):
 * it stays pending for its worker, whose claim finds the episode ended and only asks the
 * provider: the message it took is recorded as sent, else the job is skipped then. Skipping it
 * here would announce a skip for an ack the customer got, never on record.
 */
function endPendingJobs(conversation: Conversation, reason: string, at: Date): Conversation {
  let ended = conversation;
  for (const slot of ['ack', 'notice'] as const) {
    const job = ended[slot];
    if (job?.state === 'pending' && !job.uncertain)
      ended = settleAck(ended, job.episode, { state: 'skipped', reason, at }, slot);
  }
  return ended;
}

/**
 * How many message ids an episode remembers. A customer who writes on and on while nobody
 * answers (a bot, a flood) must not grow the conversation item towards DynamoDB's 400 KB, where
 * every write of it would fail: 500 ids are ~16 KB. A provider's retry of a message older than
 * the last 500 is applied again, which changes nothing that matters: its event has the same id
 * (consumers drop it) and the times only move forward.
 */
export const MAX_EPISODE_MESSAGE_IDS = 500;

/**
 * The most events a conversation's outbox keeps on its item (an event is about 250–360 bytes).
 * Events pile up only while the event bus is down; past this the store moves the oldest aside
 * (spillOutbox) rather than let a write approach DynamoDB's 400 KB and fail every time.
 */
export const MAX_OUTBOX_EVENTS = 200;
/** The newest events that stay on the item when it spills: one spill per 150 events, not one per write. */
const OUTBOX_KEPT_ON_SPILL = 50;

/**
 * The outbox past MAX_OUTBOX_EVENTS: the oldest events to move aside (delivered before the
 * rest, in order) and the conversation as written after, which names the newest one moved.
 */
export function spillOutbox(conversation: Conversation): {
  conversation: Conversation;
  spilled: DomainEvent[];
} {
  if (conversation.outbox.length <= MAX_OUTBOX_EVENTS) return { conversation, spilled: [] };
  const spilled = conversation.outbox.slice(0, -OUTBOX_KEPT_ON_SPILL);
  return {
    conversation: {
      ...conversation,
      outbox: conversation.outbox.slice(-OUTBOX_KEPT_ON_SPILL),
      outboxSpill: spilled.at(-1)?.id,
    },
    spilled,
  };
}

/** Events of this conversation wait for the publisher: in its outbox, or moved aside. */
export function hasUndeliveredEvents(conversation: Conversation): boolean {
  return conversation.outbox.length > 0 || conversation.outboxSpill !== undefined;
}

/** What `message.received` says about the message. */
function receivedData(message: Message): Record<string, unknown> {
  return { messageId: message.id, channel: message.channel, kind: message.kind };
}

/**
 * Whether a message given `reason` by the ack policy (null: acknowledged) is the customer's own,
 * to be answered: anything but one that promised nobody anything (their mailbox's out-of-office
 * reply, a list post, a keyword such as STOP or HELP). A question not acknowledged because of the
 * customer's situation (opted out, we had just written to them) still is one.
 */
export function isQuestion(reason: NoAckReason | null): boolean {
  return !promisedNobody(reason ?? undefined);
}

function union<T>(items: readonly T[], item: T): T[] {
  return items.includes(item) ? [...items] : [...items, item];
}

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** The conversation's language is settled: a later message in another language does not change it. */
export function localeSettled(conversation: Conversation): boolean {
  return conversation.localeDetected !== false;
}

/** Where answers to a customer's message go: its channel, our address, and theirs (a mail's Reply-To, if it named one). */
export function routeOf(message: Message): ReplyRoute {
  const route: ReplyRoute = {
    channel: message.channel,
    provider: message.provider,
    customer: message.email?.replyTo ?? message.from,
    business: message.to,
    ...(message.toId ? { businessId: message.toId } : {}),
  };
  if (message.email) {
    const { subject, messageId, references } = message.email;
    route.thread = {
      subject,
      references: messageId ? [...references, messageId] : references,
      ...(messageId ? { messageId } : {}),
    };
  }
  return route;
}

/**
 * Whether our reply at `lastReplyAt` answered the message: it was received before the reply
 * and stored before it too, so the agent could read it. One received earlier but stored after
 * (a webhook the store could not take, recorded later by the worker) was seen by nobody: it is
 * still to be answered.
 */
export function answeredByReply(
  lastReplyAt: string | null,
  message: Message,
  inboxReply?: Conversation['lastInboxReply'],
): boolean {
  if (lastReplyAt === null) return false;
  const reply = Date.parse(lastReplyAt);
  const received = Date.parse(message.createdAt);
  if (received > reply) return false;
  if (Date.parse(message.recordedAt ?? message.createdAt) <= reply) return true;
  // Stored after the reply, but a person answered in the provider's inbox, where they read it.
  return inboxReply?.channel === message.channel && received <= Date.parse(inboxReply.at);
}

/**
 * Applies one stored customer message to its conversation (or opens the conversation).
 * Pure and idempotent: applying the same message twice changes nothing, and a message our
 * last reply answered never opens a new episode (it belonged to the one answered).
 */
export function applyInbound(
  current: Conversation | null,
  message: Message,
  context: InboundContext,
): ApplyInboundResult {
  if (current?.episodeMessageIds.includes(message.id)) return { kind: 'unchanged', conversation: current };
  if (current && answeredByReply(current.lastReplyAt, message, current.lastInboxReply)) {
    // Received and stored before our last reply: that reply answers it (or this is a provider's
    // late retry of a message an earlier episode applied). No new episode and no ack, but
    // downstream tools still hear of it: a message stored just before a reply landed and applied
    // just after it must not go unannounced. The event's id is stable, so a retry's copy is dropped.
    // (One stored after the reply goes on below: it opens the next episode, its promise counted
    // from its receipt, as applyReply's episodeAfterReply does for one received during the send;
    // the ack policy's quiet time after the reply skips its ack.)
    const announced = withEvent(current, 'message.received', message.id, context.now, receivedData(message));
    return announced === current
      ? { kind: 'unchanged', conversation: current }
      : { kind: 'applied', conversation: announced, ackRequested: false, opened: false };
  }
  // Only a message never applied gets here: it must move to the contact's open conversation.
  if (current?.status === 'resolved') return { kind: 'closed', conversation: current };

  const base: Conversation = current ?? {
    id: context.newConversationId,
    status: 'open',
    contact: { key: message.contactKey, channels: [] },
    channel: message.channel,
    openedAt: message.createdAt,
    lastMessageAt: message.createdAt,
    replyBy: null,
    ack: null,
    notice: null,
    originalReplyBy: null,
    breachedEpisode: 0,
    outbox: [],
    assignee: null,
    locale: context.defaultLocale,
    localeDetected: false,
    route: routeOf(message),
    promise: null,
    episode: 0,
    awaitingSince: null,
    episodeMessageIds: [],
    lastReplyAt: null,
    inboundAt: {},
    version: 0,
  };
  const opened =
    current === null
      ? withEvent(base, 'conversation.opened', 'open', context.now, {
          contactKey: base.contact.key,
          channel: message.channel,
          // Why the opening message got no acknowledgement (null: it did): an auto-reply or a
          // keyword opening a conversation is not the customer coming back.
          noAckReason: context.noAckReason,
        })
      : base;
  const question = isQuestion(context.noAckReason);
  // The customer's first question in a conversation a message that promised nobody anything
  // opened (their own out-of-office reply to our answer): the customer coming (back) to us, as
  // `conversation.opened` tells for one a question opens (the service level's follow-ups).
  const firstQuestion = current !== null && question && base.lastQuestionAt === undefined;
  const received = withEvent(opened, 'message.received', message.id, context.now, {
    ...receivedData(message),
    ...(firstQuestion ? { firstQuestion: true, contactKey: base.contact.key } : {}),
  });
  // Answers go where the customer wrote last: a message older than one already applied (a
  // webhook recorded late by the worker, a provider's late retry) leaves the channel and route.
  const newest = Date.parse(message.createdAt) >= Date.parse(lastInboundAt(base) ?? message.createdAt);
  const touched: Conversation = {
    ...received,
    contact: {
      ...received.contact,
      ...(context.contactName ? { name: context.contactName } : {}),
      channels: union(base.contact.channels, message.channel),
    },
    channel: newest ? message.channel : base.channel,
    // The first message that clearly tells the language sets it, for the acks and notices to come.
    ...(context.detectedLocale && !localeSettled(base)
      ? { locale: context.detectedLocale, localeDetected: true }
      : {}),
    // A voicemail comes after its call: keep the call's route (the caller's number) for answers.
    route:
      !newest || (message.kind === 'voicemail' && base.route.channel === 'voice')
        ? base.route
        : routeOf(message),
    lastMessageAt: later(base.lastMessageAt, message.createdAt),
    inboundAt: {
      ...base.inboundAt,
      [message.channel]: later(base.inboundAt[message.channel] ?? message.createdAt, message.createdAt),
    },
    ...withInboundNoAck(base, message, context.noAckReason),
    ...(question
      ? {
          lastQuestionAt: later(base.lastQuestionAt ?? message.createdAt, message.createdAt),
          // The episode it joins, or the one it opens below.
          questionEpisode: base.awaitingSince !== null ? base.episode : base.episode + 1,
        }
      : {}),
    ...(message.recordedAt
      ? { lateRecordedAt: later(base.lateRecordedAt ?? message.recordedAt, message.recordedAt) }
      : {}),
  };

  if (touched.awaitingSince !== null) return joinEpisode(touched, message, context, current === null);

  const episode = touched.episode + 1;
  const requestedAt = context.now.toISOString();
  const ack: Ack =
    context.noAckReason !== null
      ? { state: 'skipped', episode, requestedAt, attempts: 0, reason: context.noAckReason }
      : context.spokenAck
        ? { state: 'sent', episode, requestedAt, attempts: 0, sentAt: requestedAt, reason: 'spoken-on-call' }
        : {
            state: 'pending',
            episode,
            requestedAt,
            attempts: 0,
            ...(context.holdAckUntil ? { retryAt: context.holdAckUntil } : {}),
            ...(context.ackAfter ? { after: context.ackAfter } : {}),
          };
  const withAck =
    ack.state === 'skipped'
      ? withEvent(touched, 'ack.skipped', String(episode), context.now, { episode, reason: ack.reason })
      : ack.state === 'sent'
        ? withEvent(touched, 'ack.sent', String(episode), context.now, { episode, spoken: true })
        : touched;
  return {
    kind: 'applied',
    conversation: {
      ...withConsent(owingLookUp(withAck, 'ack', context.now), message, context),
      episode,
      awaitingSince: message.createdAt,
      episodeMessageIds: [message.id],
      promise: context.promise,
      replyBy: context.promise.replyBy,
      originalReplyBy: null,
      ack,
    },
    ackRequested: ack.state === 'pending',
    opened: current === null,
  };
}

/** How many owed lookups a conversation keeps: each is minutes old, and two replaced episodes in that time are rare. */
const MAX_LOOK_UPS = 4;

/**
 * Before `slot` is taken by the next episode's job: its ended episode's job, when its last try
 * was uncertain and it still waits for its lookup (pending) or a redrive (failed), is kept in
 * `lookUps`, due when its own next try would have been. Rides on the write that replaces it.
 */
export function owingLookUp(conversation: Conversation, slot: Slot, now: Date): Conversation {
  const job = conversation[slot];
  if (!job?.uncertain || (job.state !== 'pending' && job.state !== 'failed')) return conversation;
  const retryAt = job.state === 'pending' && job.retryAt ? job.retryAt : now.toISOString();
  return withOwedLookUp(conversation, slot, job, job.uncertain, retryAt);
}

/**
 * The worker's settle of a job whose slot the next episode's job took while it was being sent
 * (owingLookUp keeps only a job at rest): a try that ended uncertain, or one that keeps an
 * earlier uncertain try, is owed its lookup all the same, due at its retry (a failed one at
 * once, as owingLookUp). Anything else changes nothing (a "sent" was announced ahead).
 */
export function owingReplacedTry(
  conversation: Conversation,
  slot: Slot,
  sending: Ack,
  outcome: SettleOutcome,
): Conversation {
  const inSlot = conversation[slot];
  if (!inSlot || inSlot.episode <= sending.episode) return conversation;
  if (outcome.state !== 'pending' && outcome.state !== 'failed') return conversation;
  if (conversation.lookUps?.some((l) => l.slot === slot && l.episode === sending.episode))
    return conversation;
  // (UncertainOutcome is UncertainTry with a Date: the Omit over a loose schema loses its keys' types.)
  const uncertain = outcome.uncertain
    ? ({ ...outcome.uncertain, at: outcome.uncertain.at.toISOString() } as UncertainTry)
    : sending.uncertain;
  if (!uncertain) return conversation;
  const retryAt = outcome.state === 'pending' ? outcome.retryAt : outcome.at;
  return withOwedLookUp(conversation, slot, sending, uncertain, retryAt.toISOString());
}

function withOwedLookUp(
  conversation: Conversation,
  slot: Slot,
  job: Ack,
  uncertain: UncertainTry,
  retryAt: string,
): Conversation {
  const owed: OwedLookUp = {
    slot,
    episode: job.episode,
    requestedAt: job.requestedAt,
    attempts: 0,
    retryAt,
    uncertain,
  };
  const others = (conversation.lookUps ?? []).filter((l) => l.slot !== slot || l.episode !== job.episode);
  return { ...conversation, lookUps: [...others, owed].slice(-MAX_LOOK_UPS) };
}

/**
 * An owed lookup's outcome: found (`sent`, announced as the ended episode's ack.sent or
 * notice.sent), not found or given up (`skipped`, announced), or asked again later (`pending`).
 */
export function settleLookUp(
  conversation: Conversation,
  owed: OwedLookUp,
  outcome:
    | { state: 'sent'; at: Date; messageId: string }
    | { state: 'skipped'; reason: string; at: Date }
    | { state: 'pending'; retryAt: Date },
): Conversation {
  const others = (conversation.lookUps ?? []).filter(
    (l) => l.slot !== owed.slot || l.episode !== owed.episode,
  );
  if (outcome.state === 'pending') {
    const later = { ...owed, attempts: owed.attempts + 1, retryAt: outcome.retryAt.toISOString() };
    return { ...conversation, lookUps: [...others, later] };
  }
  const { lookUps: _all, ...without } = conversation;
  const settled: Conversation = others.length > 0 ? { ...without, lookUps: others } : without;
  const { episode } = owed;
  // The episode's ack is on record as sent already (spoken on a call since): nothing to announce.
  const job = conversation[owed.slot];
  if (job?.episode === episode && job.state === 'sent') return settled;
  if (outcome.state === 'sent') {
    const type = owed.slot === 'ack' ? 'ack.sent' : 'notice.sent';
    return withEvent(settled, type, String(episode), outcome.at, { episode, messageId: outcome.messageId });
  }
  const type = owed.slot === 'ack' ? 'ack.skipped' : 'notice.skipped';
  return withEvent(settled, type, `${episode}:${owed.requestedAt}`, outcome.at, {
    episode,
    reason: outcome.reason,
  });
}

/** Reasons measured from our last reply or ack, which a reply applied later measures again. */
const QUIET_REASONS = new Set(['recently-answered', 'recently-acknowledged']);

/** The conversation's inboundNoAck once `message` is applied: changed only by its channel's latest message. */
function withInboundNoAck(
  base: Conversation,
  message: Message,
  reason: NoAckReason | null,
): Pick<Conversation, 'inboundNoAck'> {
  const latest = base.inboundAt[message.channel];
  if (latest && Date.parse(latest) > Date.parse(message.createdAt))
    return { inboundNoAck: base.inboundNoAck };
  const { [message.channel]: _previous, ...others } = base.inboundNoAck ?? {};
  const own = reason !== null && !QUIET_REASONS.has(reason) ? { [message.channel]: reason } : {};
  const reasons = { ...others, ...own };
  return { inboundNoAck: Object.keys(reasons).length > 0 ? reasons : undefined };
}

/**
 * A message joining a waiting episode: silently, unless the episode's ack was skipped for the
 * message that began it (a list post, an auto-reply, HELP) or by a STOP a START has since
 * undone. Then the customer's own question is acknowledged late, once, and the promise of its
 * receipt becomes the episode's (nobody heard the first); a question not acknowledged only
 * because we just wrote to them takes the episode over, its reason and its promise, so the
 * quiet-only notice and the breach treat it as the question it is. A call past the promise
 * moves it to the one the greeting speaks, counting the broken one.
 */
function joinEpisode(
  touched: Conversation,
  message: Message,
  context: InboundContext,
  opened: boolean,
): ApplyInboundResult {
  const consented = withConsent(touched, message, context);
  const joined: Conversation = waitingForLinkedAck(
    {
      ...(message.kind === 'call' ? heardOnCall(consented, context) : consented),
      episodeMessageIds: [...touched.episodeMessageIds, message.id].slice(-MAX_EPISODE_MESSAGE_IDS),
    },
    context.ackAfter,
  );
  const { ack } = touched;
  const skippedFor = ack?.episode === touched.episode && ack.state === 'skipped' ? ack.reason : undefined;
  const forMessage = acknowledgedLater(skippedFor);
  const ownPromise = { promise: context.promise, replyBy: context.promise.replyBy, originalReplyBy: null };
  const optedBackIn = skippedFor === 'opted-out' && touched.optedOut === false;
  // A call from a customer who opted out of our texts: its greeting spoke the promise, so the
  // episode (which promised nothing until then) has its ack, as spoken.
  const calledAfterOptOut = skippedFor === 'opted-out' && context.spokenAck === true;
  if (ack && context.noAckReason === null && (forMessage || optedBackIn || calledAfterOptOut)) {
    const requestedAt = context.now.toISOString();
    const job = { episode: touched.episode, requestedAt, attempts: 0 };
    // A call whose number takes no SMS: the greeting spoke the promise, as for a first call.
    if (context.spokenAck) {
      const spoken: Conversation = {
        ...joined,
        ...ownPromise,
        ack: { ...job, state: 'sent', sentAt: requestedAt, reason: 'spoken-on-call' },
      };
      const conversation = withEvent(spoken, 'ack.sent', String(touched.episode), context.now, {
        episode: touched.episode,
        spoken: true,
      });
      return { kind: 'applied', conversation, ackRequested: false, opened };
    }
    const held = context.holdAckUntil ? { retryAt: context.holdAckUntil } : {};
    const after = context.ackAfter ? { after: context.ackAfter } : {};
    const conversation: Conversation = {
      ...joined,
      ...ownPromise,
      ack: { ...job, ...held, ...after, state: 'pending' },
    };
    return { kind: 'applied', conversation, ackRequested: true, opened };
  }
  const { noAckReason } = context;
  if (ack && forMessage && (noAckReason === 'recently-answered' || noAckReason === 'recently-acknowledged')) {
    const conversation: Conversation = { ...joined, ...ownPromise, ack: { ...ack, reason: noAckReason } };
    return { kind: 'applied', conversation, ackRequested: false, opened };
  }
  // A caller still waiting past the promise hears a new one in the greeting (never a time gone
  // by): it becomes the episode's, as a late notice's would; the first is kept for measuring,
  // and the broken one is counted in the same write (the sweeper would no longer see it).
  if (message.kind === 'call' && touched.replyBy && Date.parse(touched.replyBy) <= context.now.getTime()) {
    const conversation = movePromise(markBreached(joined, context.now), context.promise);
    return { kind: 'applied', conversation, ackRequested: false, opened };
  }
  return { kind: 'applied', conversation: joined, ackRequested: false, opened };
}

/**
 * The episode's ack still queued (pending, not yet taken by a worker) when a message that links
 * the person's two keys joins the episode: it waits for the other key's queued ack (`after`),
 * as a new one would, so that one of the two goes. Unchanged when it already waits for one, or
 * is being sent (that window stays: both may go).
 */
export function waitingForLinkedAck(conversation: Conversation, after: Ack['after']): Conversation {
  const { ack } = conversation;
  if (!after || after.conversationId === conversation.id) return conversation;
  if (ack?.episode !== conversation.episode || ack.state !== 'pending' || ack.after) return conversation;
  return { ...conversation, ack: { ...ack, after } };
}

/**
 * A call joining the waiting episode: its greeting speaks the promise in force, so that is the
 * time the customer last heard. A late notice sent before it can no longer be undone
 * (withRefusedNoticeUndone): a refusal of its SMS that comes after the call must not bring back
 * the earlier time the caller was told to forget (found at stop 25). An ack still pending, where
 * no SMS may follow the call (ackSpokenOnly: a landline, no number, `voiceSms`), was spoken
 * then: the worker would text it to the caller's number, which takes none (the route is now
 * the call's).
 */
function heardOnCall(conversation: Conversation, context: InboundContext): Conversation {
  const { notice, ack, episode } = conversation;
  let heard = conversation;
  if (notice?.episode === episode && notice.replaced) {
    const { replaced: _replaced, ...kept } = notice;
    heard = { ...heard, notice: kept };
  }
  if (
    context.spokenAck &&
    context.noAckReason === null &&
    ack?.episode === episode &&
    ack.state === 'pending'
  ) {
    const at = context.now.toISOString();
    const { retryAt: _retry, uncertain: _uncertain, reason: _reason, ...kept } = ack;
    // Its last try may have reached the customer all the same: still looked up (lookUps).
    heard = withEvent(
      {
        ...owingLookUp(heard, 'ack', context.now),
        ack: { ...kept, state: 'sent', sentAt: at, reason: 'spoken-on-call' },
      },
      'ack.sent',
      String(episode),
      context.now,
      { episode, spoken: true },
    );
  }
  return heard;
}

/** The two automatic messages of an episode: the acknowledgement and the late notice. */
export type Slot = 'ack' | 'notice';

/** The id of an episode's acknowledgement (or late notice): one per episode, whoever sends it. */
export function ackMessageId(conversationId: string, episode: number, slot: Slot = 'ack'): string {
  return stableId('msg', `${slot}:${conversationId}:${episode}`);
}

/**
 * After this long, every copy of a dead-lettered job the sweeper queued before it failed has
 * had its receives (5, 3 minutes apart): any later delivery is a redrive from the DLQ.
 */
const REDRIVE_AFTER_MS = 15 * 60_000;

/**
 * When an ack ran out of retries and its job went to the DLQ: stored since stop 23, inferred
 * for one the previous release failed so (a transient reason, no time: long ago). Null for an
 * ack refused for good, or not failed.
 */
export function deadLetteredAt(job: Ack): number | null {
  if (job.state !== 'failed') return null;
  if (job.deadLetteredAt) return Date.parse(job.deadLetteredAt);
  const reason = job.reason ?? '';
  return reason.startsWith('SEND_FAILED') || reason === 'error' ? 0 : null;
}

/**
 * Whether a job for a dead-lettered ack is a redrive from the DLQ (tried again) rather than
 * another copy of its job still being retried by the queue (passed on to the DLQ): a first
 * delivery (SQS makes each redriven message new), or any delivery once the copies' receives
 * are over.
 */
export function isRedrive(job: Ack, now: Date, firstDelivery: boolean): boolean {
  const since = deadLetteredAt(job);
  return since !== null && (firstDelivery || now.getTime() - since >= REDRIVE_AFTER_MS);
}

export type ClaimResult =
  | { kind: 'claimed'; conversation: Conversation }
  | { kind: 'skip'; reason: 'stale' | 'done' | 'leased' | 'not-yet' };

const MINUTE = 60_000;
/**
 * The wait after each failed try of an ack or notice: 1, 2, 4, 8 minutes, plus up to 25 %
 * jitter (so the acks a provider's outage held back do not all go at once when it returns,
 * into its rate limit). With five tries, the last comes 15–19 minutes after the first: an
 * outage that long heals by itself; a longer one ends in the DLQ, its alarm and a redrive.
 */
const ACK_RETRY_DELAYS_MS: readonly number[] = [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE];
const ACK_RETRY_JITTER = 0.25;
/** A worker whose clock runs this much behind the sweeper's still takes the job it queued. */
const RETRY_CLOCK_SKEW_MS = 5_000;

/** When the next try may go after the `attempts`-th failed one; `random` is in [0, 1). */
export function ackRetryAt(now: Date, attempts: number, random: number): Date {
  const base = ACK_RETRY_DELAYS_MS[Math.max(0, Math.min(attempts, ACK_RETRY_DELAYS_MS.length) - 1)] ?? MINUTE;
  return new Date(now.getTime() + Math.round(base * (1 + ACK_RETRY_JITTER * random)));
}

/**
 * A worker's claim on the episode's ack or notice (pending → sending with a lease). A lease
 * that ran out (the worker died) can be claimed again; a live one cannot.
 */
export function claimAck(
  conversation: Conversation,
  episode: number,
  now: Date,
  leaseMs: number,
  slot: Slot = 'ack',
  options: { firstDelivery?: boolean } = {},
): ClaimResult {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return { kind: 'skip', reason: 'stale' };
  // A job redriven from the DLQ after the outage that ran out its retries: tried again, with a
  // fresh budget, while the customer still waits.
  const redrive =
    isRedrive(job, now, options.firstDelivery === true) && ackNoLongerNeeded(conversation, episode) === null;
  if (redrive) {
    const { deadLetteredAt: _dead, ...rest } = job;
    return {
      kind: 'claimed',
      conversation: {
        ...conversation,
        [slot]: {
          ...rest,
          state: 'sending',
          attempts: 1,
          leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
        },
      },
    };
  }
  if (job.state === 'sent' || job.state === 'skipped' || job.state === 'failed')
    return { kind: 'skip', reason: 'done' };
  if (job.state === 'sending' && job.leaseUntil && Date.parse(job.leaseUntil) > now.getTime()) {
    return { kind: 'skip', reason: 'leased' };
  }
  // Backing off after a failed try: the sweeper queues it again when it is time.
  if (
    job.state === 'pending' &&
    job.retryAt &&
    Date.parse(job.retryAt) - RETRY_CLOCK_SKEW_MS > now.getTime()
  ) {
    return { kind: 'skip', reason: 'not-yet' };
  }
  return {
    kind: 'claimed',
    conversation: {
      ...conversation,
      [slot]: {
        ...job,
        state: 'sending',
        attempts: job.attempts + 1,
        leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      },
    },
  };
}

/** Why, at send time, the ack or notice should no longer go out (the episode ended meanwhile). */
export function ackNoLongerNeeded(conversation: Conversation, episode: number): string | null {
  if (conversation.status === 'resolved') return 'resolved';
  if (conversation.optedOut) return 'opted-out';
  if (conversation.episode !== episode || conversation.awaitingSince === null) return 'answered';
  return null;
}

/** A try that ended uncertain, as the worker settles it: its start and text, and where it went. */
export type UncertainOutcome = Omit<UncertainTry, 'at'> & { at: Date };

/** How a try of an ack or notice ended, or what the episode's end made of it (settleAck). */
export type SettleOutcome =
  | { state: 'sent'; at: Date; messageId: string }
  | { state: 'skipped'; reason: string; at: Date }
  | {
      state: 'failed';
      reason: string;
      at: Date;
      deadLettered?: boolean;
      uncertain?: UncertainOutcome | undefined;
    }
  | { state: 'pending'; reason: string; retryAt: Date; uncertain?: UncertainOutcome | undefined };

/**
 * Moves the episode's ack or notice to a final or retryable state; a no-op for another episode,
 * and a "sent" never overwrites a "failed" or a skip for the closed window (the provider's
 * status callback can land before the worker's own write, lib/use-cases/record-updates.ts).
 */
export function settleAck(
  conversation: Conversation,
  episode: number,
  outcome: SettleOutcome,
  slot: Slot = 'ack',
): Conversation {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return conversation;
  const { leaseUntil: _lease, deadLetteredAt: _dead, retryAt: _retry, replaced, uncertain, ...rest } = job;
  if (outcome.state === 'sent') {
    // The provider reported it undelivered, or refused for the closed window, before the worker
    // got to mark it sent: that stands. (No other skip comes while it is being sent but the
    // claim's for an episode that ended, which a send that did go out overrides.)
    if (job.state === 'failed' || (job.state === 'skipped' && job.reason === 'outside-window'))
      return conversation;
    const sent: Conversation = {
      ...conversation,
      [slot]: {
        ...rest,
        ...(replaced ? { replaced } : {}),
        state: 'sent',
        sentAt: outcome.at.toISOString(),
        messageId: outcome.messageId,
        reason: undefined,
      },
    };
    const type = slot === 'ack' ? 'ack.sent' : 'notice.sent';
    return withEvent(sent, type, String(episode), outcome.at, { episode, messageId: outcome.messageId });
  }
  // The latest try that may have gone (the one before it was looked for and not found, or it
  // would not have been sent); a try that surely did not go keeps the one before. A failed ack
  // keeps it too: a redrive from the DLQ asks the provider for it before sending (stop 25).
  const keptUncertain =
    outcome.state === 'skipped'
      ? undefined
      : outcome.uncertain
        ? { ...outcome.uncertain, at: outcome.uncertain.at.toISOString() }
        : uncertain;
  const settled: Conversation = {
    ...withRefusedNoticeUndone(conversation, job, episode),
    [slot]: {
      ...rest,
      state: outcome.state,
      reason: outcome.reason,
      ...('deadLettered' in outcome && outcome.deadLettered
        ? { deadLetteredAt: outcome.at.toISOString() }
        : {}),
      ...('retryAt' in outcome ? { retryAt: outcome.retryAt.toISOString() } : {}),
      ...(keptUncertain ? { uncertain: keptUncertain } : {}),
    },
  };
  if (outcome.state === 'pending') return settled;
  const type =
    slot === 'ack'
      ? outcome.state === 'failed'
        ? 'ack.failed'
        : 'ack.skipped'
      : outcome.state === 'failed'
        ? 'notice.failed'
        : 'notice.skipped';
  // One event per request settled, not per episode: an episode whose opening message was skipped
  // (HELP, an auto-reply) and whose late ack for the customer's question is then skipped too
  // (answered, resolved, the window closed) announces both, each under its own id. A retry of
  // the same write settles the same request, so its copy has the same id.
  // A notice's says which promise is in force: the one it stated is gone with it.
  const occurrence = `${episode}:${job.requestedAt}`;
  return withEvent(settled, type, occurrence, outcome.at, {
    episode,
    reason: outcome.reason,
    ...(slot === 'notice' ? { replyBy: settled.replyBy } : {}),
    // Refused after it was marked sent (a status callback): it takes back the `*.sent` announced
    // then, at this time (the service level counts the notice out of the day it was sent).
    ...(job.state === 'sent' && job.sentAt ? { sentAt: job.sentAt } : {}),
  });
}

/**
 * A late notice the provider refused after it was marked sent (its status: undelivered, or the
 * window closed, WhatsApp's 131047) told the customer nothing: the promise it stated goes, the
 * one they last heard is back in force (for the agents, the late notice to come and the
 * breach). Unless the episode moved on since, or something else stated a newer promise.
 */
function withRefusedNoticeUndone(conversation: Conversation, job: Ack, episode: number): Conversation {
  const { replaced } = job;
  if (job.state !== 'sent' || !replaced) return conversation;
  if (conversation.episode !== episode || conversation.replyBy !== replaced.stated) return conversation;
  return {
    ...conversation,
    promise: replaced.promise,
    replyBy: replaced.replyBy,
    originalReplyBy: replaced.originalReplyBy,
  };
}

/**
 * The automatic message in `slot`, just marked sent, stated `promise` (a late notice always,
 * an ack held up past its promise): it becomes the episode's (movePromise). A notice keeps
 * what it replaced, for a refusal that comes after (withRefusedNoticeUndone); a retry of the
 * same write keeps the first record.
 */
export function stateNewPromise(
  conversation: Conversation,
  slot: Slot,
  promise: ReplyPromise | undefined,
): Conversation {
  if (!promise) return conversation;
  const moved = movePromise(conversation, promise);
  const job = conversation[slot];
  if (slot !== 'notice' || !job || job.state !== 'sent' || job.replaced?.stated === promise.replyBy)
    return moved;
  const replaced = {
    promise: conversation.promise,
    replyBy: conversation.replyBy,
    originalReplyBy: conversation.originalReplyBy,
    stated: promise.replyBy,
  };
  return { ...moved, [slot]: { ...job, replaced } };
}

/**
 * The ack just marked sent was signed as `signed` says (the episode's promise signed by the
 * promised person as listed now, or the default person: signedNow): the promise names who
 * signed, for the measure and for a reply without an agent name. Unless the promise moved on
 * since (a call past it).
 */
export function stateSigner(conversation: Conversation, signed: ReplyPromise): Conversation {
  const { promise } = conversation;
  if (!promise || promise.replyBy !== signed.replyBy) return conversation;
  return { ...conversation, promise: { ...promise, signer: signed.signer } };
}

/** Records that a job for the pending ack or notice was (re)queued now. */
export function markAckEnqueued(
  conversation: Conversation,
  episode: number,
  now: Date,
  slot: Slot = 'ack',
): Conversation {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return conversation;
  return { ...conversation, [slot]: { ...job, enqueuedAt: now.toISOString() } };
}

/**
 * The late notice is due shortly before the promised time of an episode that was acknowledged
 * and is still waiting, once per episode: as `timing` says (the business's `noticeSchedule`
 * counts its lead in working time; a number is a plain lead before the promise).
 */
export function noticeDueAt(conversation: Conversation, timing: NoticeTiming): string | null {
  const { ack, notice, replyBy } = conversation;
  if (conversation.status !== 'open' || conversation.awaitingSince === null || !replyBy) return null;
  if (conversation.optedOut) return null;
  if (!ack || ack.episode !== conversation.episode) return null;
  // No notice where no message may go (opted out, auto-replies, closed window…); but a customer
  // not acknowledged only because we had just written to them still hears before the promise.
  const quietOnly =
    ack.state === 'skipped' && (ack.reason === 'recently-answered' || ack.reason === 'recently-acknowledged');
  if (ack.state !== 'sent' && !quietOnly) return null;
  // Spoken on the call because the caller's number takes no SMS: a notice could not go either.
  if (ack.reason === 'spoken-on-call') return null;
  if (notice && notice.episode === conversation.episode) return null;
  if (typeof timing === 'number') return new Date(Date.parse(replyBy) - timing).toISOString();
  const { promise } = conversation;
  return timing({
    replyBy,
    since: conversation.awaitingSince,
    // The stored promise says whether the team was away, when it is the one in force.
    teamAwayUntil: promise?.replyBy === replyBy ? promise.teamAwayUntil : null,
  });
}

/** When the current episode's promise passes unanswered (null: answered, or already counted). */
export function breachDueAt(conversation: Conversation): string | null {
  if (conversation.status !== 'open' || conversation.awaitingSince === null || !conversation.replyBy)
    return null;
  if (conversation.breachedEpisode >= conversation.episode) return null;
  if (!promiseOwed(conversation)) return null;
  return new Date(Date.parse(conversation.replyBy)).toISOString();
}

/**
 * Whether the current episode owes the customer the reply it promised: not when nobody was
 * promised anything, a customer who opted out or an episode only a message not to be answered
 * opened (STOP, HELP, an auto-reply, a list post). Neither a breach nor a promise kept is
 * counted for those.
 */
export function promiseOwed(conversation: Conversation): boolean {
  const { ack } = conversation;
  const current = ack?.episode === conversation.episode ? ack : null;
  // Nobody was promised anything: a customer who opted out, or an episode only a message not to
  // be answered opened (STOP, an auto-reply, a list post). Except a caller's: the greeting spoke
  // the promise, and STOP stops our texts, not our word.
  const spoken = current?.state === 'sent' && current.reason === 'spoken-on-call';
  if (conversation.optedOut && !spoken) return false;
  const skipped = current?.state === 'skipped' ? current.reason : undefined;
  // (opted out before this conversation began, the STOP recorded in an earlier one; not when a
  // START was recorded here since)
  return !((skipped === 'opted-out' && conversation.optedOut !== false) || promisedNobody(skipped));
}

/**
 * Whether a customer waits for a person here: an episode is open, and not one only a message
 * nobody is to answer began (their mailbox's out-of-office reply, HELP, a list post) with no
 * question of theirs since (one is usually acknowledged late, the skip gone; one that could not
 * be, from a customer who opted out meanwhile, is told by `questionEpisode`). A customer who
 * opted out and asked something waits too, though no promise was made to them.
 */
export function customerWaiting(conversation: Conversation): boolean {
  if (conversation.status !== 'open' || conversation.awaitingSince === null) return false;
  const { ack } = conversation;
  const skipped = ack?.episode === conversation.episode && ack.state === 'skipped' ? ack.reason : undefined;
  if (!promisedNobody(skipped)) return true;
  return conversation.questionEpisode === conversation.episode;
}

/**
 * What the open episode waits for, as the agents see it: `reply`, a customer waits for a person
 * (by `replyBy`); `no-reply-needed`, only messages nobody is to answer came since our last reply
 * (an out-of-office reply, a list post, a bounce, a keyword): recorded and shown, but
 * not among those waiting, until a question of the customer's joins them; null, nothing (answered,
 * or resolved).
 */
export type Awaiting = 'reply' | 'no-reply-needed' | null;

export function awaitingOf(conversation: Conversation): Awaiting {
  if (conversation.status !== 'open' || conversation.awaitingSince === null) return null;
  return customerWaiting(conversation) ? 'reply' : 'no-reply-needed';
}

/**
 * Records that the current episode's promise was broken (once per episode): a no-op unless it
 * has passed, as the conversation stands now (the sweeper read it a moment ago; a reply and a
 * new message since start an episode whose promise lies ahead).
 */
export function markBreached(conversation: Conversation, now: Date): Conversation {
  const due = breachDueAt(conversation);
  if (due === null || Date.parse(due) > now.getTime()) return conversation;
  return withEvent(
    { ...conversation, breachedEpisode: conversation.episode },
    'promise.breached',
    String(conversation.episode),
    now,
    { episode: conversation.episode, replyBy: conversation.replyBy },
  );
}

/**
 * Makes the episode's late notice pending: a no-op unless it is due, as the conversation stands
 * now (once per episode; never for an episode that began after the sweeper read it).
 */
export function requestNotice(conversation: Conversation, now: Date, timing: NoticeTiming): Conversation {
  const due = noticeDueAt(conversation, timing);
  if (due === null || Date.parse(due) > now.getTime()) return conversation;
  return {
    ...owingLookUp(conversation, 'notice', now),
    notice: { state: 'pending', episode: conversation.episode, requestedAt: now.toISOString(), attempts: 0 },
  };
}

/** The notice went out with a new promise: keep the first one for measuring, state the new one. */
export function movePromise(conversation: Conversation, promise: Conversation['promise']): Conversation {
  if (!promise) return conversation;
  return {
    ...conversation,
    originalReplyBy: conversation.originalReplyBy ?? conversation.replyBy,
    promise,
    replyBy: promise.replyBy,
  };
}

function jobSweepAt(job: Ack | null, graceMs: number): number | null {
  if (!job) return null;
  if (job.state === 'pending') {
    const queued = Date.parse(job.enqueuedAt ?? job.requestedAt) + graceMs;
    return job.retryAt ? Math.max(queued, Date.parse(job.retryAt)) : queued;
  }
  if (job.state === 'sending') {
    // After the lease, but not again within the grace period of the sweeper's own requeue.
    const lease = Date.parse(job.leaseUntil ?? job.requestedAt);
    return Math.max(lease, job.enqueuedAt ? Date.parse(job.enqueuedAt) + graceMs : 0);
  }
  return null;
}

/** The last acknowledgement a contact got: when, and on which conversation. */
export type LastAck = { at: string; conversationId: string };

/**
 * The conversation's acknowledgement if one was sent to the customer (not a promise only
 * spoken on a call): what the contact keeps when the conversation ends, so that its next
 * conversation is not acknowledged again within minutes (see the ack policy).
 */
export function lastSentAck(conversation: Conversation): LastAck | null {
  const ack = conversation.ack;
  return ack?.state === 'sent' && ack.messageId && ack.sentAt
    ? { at: ack.sentAt, conversationId: conversation.id }
    : null;
}

/**
 * Our last reply on the conversation, as the contact keeps it when the conversation ends: the
 * later of the conversation's and the one the contact already holds (a follow-up's), so the
 * quiet time after a reply holds into the contact's next conversation.
 */
export function lastReplyKept(
  conversation: Conversation,
  contact: { lastReplyAt?: string } | null,
): string | null {
  const ours = conversation.lastReplyAt;
  const kept = contact?.lastReplyAt ?? null;
  if (ours === null || kept === null) return ours ?? kept;
  return later(ours, kept);
}

/**
 * When the sweeper must next look at this conversation, or null when it has nothing to do:
 * a pending ack or notice that no worker picked up, a claim whose worker died, or a late
 * notice coming due.
 */
export function nextSweepAt(
  conversation: Conversation,
  graceMs: number,
  notice?: NoticeTiming,
): string | null {
  const times = [
    jobSweepAt(conversation.ack, graceMs),
    jobSweepAt(conversation.notice, graceMs),
    ...(conversation.lookUps ?? []).map((owed) => lookUpDueAt(owed, graceMs)),
  ];
  if (notice !== undefined) {
    const due = noticeDueAt(conversation, notice);
    if (due) times.push(Date.parse(due));
  }
  const breach = breachDueAt(conversation);
  if (breach) times.push(Date.parse(breach));
  // Events the publisher did not get out (a crash, an outage): the sweeper sends them.
  const undelivered = conversation.outbox[0];
  const retryAt = conversation.outboxRetryAt ? Date.parse(conversation.outboxRetryAt) : 0;
  if (undelivered) times.push(Math.max(Date.parse(undelivered.occurredAt) + graceMs, retryAt));
  else if (conversation.outboxSpill) times.push(retryAt);
  const next = times.filter((time): time is number => time !== null);
  return next.length > 0 ? new Date(Math.min(...next)).toISOString() : null;
}

/**
 * What applying a reply needs to start the episode of a customer message newer than it (one
 * received while the reply was on its way to the provider): the promise for that message, and
 * the ack policy's quiet time after a reply.
 */
export type ReplyContext = {
  /** The promise for a customer message received at `receivedAt` on `channel` (computePromise). */
  promiseFor: (receivedAt: Date, channel: Channel) => ReplyPromise;
  /** No acknowledgement for a message this soon after a reply (quietMinutesAfterReply). */
  quietAfterReplyMs: number;
};

/**
 * Our reply reached the customer (an agent's answer, or a person writing from the provider's
 * own inbox): the waiting episode ends, the first reply is measured, and a pending ack is no
 * longer needed (`ack.skipped`, answered). A customer message newer than the reply (it came
 * while the reply was being sent, and was applied first) was not answered by it: it opens the
 * next episode, as it would have had it been applied after the reply. Idempotent for the same
 * moment.
 */
export function applyReply(conversation: Conversation, at: Date, context: ReplyContext): Conversation {
  const iso = at.toISOString();
  if (conversation.lastReplyAt && Date.parse(conversation.lastReplyAt) >= at.getTime()) return conversation;
  // A reply written before the waiting episode began cannot have answered it (the race of a
  // reply and a new message): it is measured, but the customer still waits.
  if (conversation.awaitingSince && Date.parse(conversation.awaitingSince) > at.getTime()) {
    return { ...conversation, lastReplyAt: iso, firstReplyAt: conversation.firstReplyAt ?? iso };
  }
  let answered: Conversation = {
    ...conversation,
    awaitingSince: null,
    lastReplyAt: iso,
    lastMessageAt: later(conversation.lastMessageAt, iso),
    firstReplyAt: conversation.firstReplyAt ?? iso,
  };
  answered = endPendingJobs(answered, 'answered', at);
  const newer =
    conversation.awaitingSince !== null && conversation.status === 'open' && inboundAfter(conversation, at);
  return newer ? episodeAfterReply(answered, newer, at, context) : answered;
}

/**
 * The customer's earliest latest-per-channel message after `at`, or null. The conversation keeps
 * only each channel's latest receipt time: two messages on one channel during a reply's send
 * start the new episode at the later one (seconds apart).
 */
function inboundAfter(conversation: Conversation, at: Date): { channel: Channel; at: string } | null {
  let first: { channel: Channel; at: string } | null = null;
  for (const [channel, received] of Object.entries(conversation.inboundAt) as Array<[Channel, string]>) {
    if (Date.parse(received) > at.getTime() && (!first || Date.parse(received) < Date.parse(first.at)))
      first = { channel, at: received };
  }
  return first;
}

/**
 * The episode a customer message newer than the reply opens: its own promise, a late notice
 * and a breach like any; acknowledged only as the policy would have acknowledged it then (not
 * after a STOP, not a message not to be answered such as HELP or an auto-reply, which then
 * promised nobody anything, nor within the quiet time after a reply). A pending ack is queued
 * by the sweeper after its grace period (the reply's writer holds no queue).
 */
function episodeAfterReply(
  answered: Conversation,
  newer: { channel: Channel; at: string },
  replyAt: Date,
  context: ReplyContext,
): Conversation {
  const episode = answered.episode + 1;
  const promise = context.promiseFor(new Date(newer.at), newer.channel);
  const quiet = Date.parse(newer.at) - replyAt.getTime() < context.quietAfterReplyMs;
  const own = answered.inboundNoAck?.[newer.channel] ?? null;
  const reason = answered.optedOut ? 'opted-out' : (own ?? (quiet ? 'recently-answered' : null));
  const job = { episode, requestedAt: newer.at, attempts: 0 };
  const ack: Ack = reason ? { ...job, state: 'skipped', reason } : { ...job, state: 'pending' };
  const announced = reason
    ? withEvent(answered, 'ack.skipped', String(episode), replyAt, { episode, reason })
    : answered;
  // A question received after the reply is in the episode it opens, not the one it answered.
  const asked =
    answered.lastQuestionAt !== undefined && Date.parse(answered.lastQuestionAt) > replyAt.getTime();
  return {
    // The ended episode's ack, its last try uncertain, keeps its lookup (as applyInbound's).
    ...owingLookUp(announced, 'ack', replyAt),
    ...(asked ? { questionEpisode: episode } : {}),
    episode,
    awaitingSince: newer.at,
    promise,
    replyBy: promise.replyBy,
    originalReplyBy: null,
    ack,
  };
}

/**
 * When the customer's newest message here became readable: the latest receipt time, or the
 * time a message recorded late was stored, whichever is later. A message after an agent's
 * `seenUntil` by this was not on their screen.
 */
export function lastReadableInboundAt(conversation: Conversation): string | null {
  const wrote = lastInboundAt(conversation);
  const late = conversation.lateRecordedAt ?? null;
  if (wrote === null || late === null) return wrote ?? late;
  return later(wrote, late);
}

/**
 * An agent's reply the provider reports undelivered or failed (Twilio 30003, a blocked number…):
 * announced as `reply.failed` (once per reply) and kept on the conversation (`replyFailure`) for
 * the agents' tool. The customer is not counted as waiting again: they wrote nothing new, a late
 * notice would go the way the reply could not, and the service level measured the reply a
 * person did send; the person who sent it hears of it and answers another way.
 */
export function replyFailed(
  conversation: Conversation,
  failure: {
    messageId: string;
    /** The failed reply's stored time (its message's createdAt). */
    sentAt: string;
    status: 'undelivered' | 'failed';
    errorCode?: string | undefined;
    at: Date;
  },
): Conversation {
  const known = conversation.replyFailure;
  if (known?.messageId === failure.messageId && known.status === failure.status) return conversation;
  const sent = Date.parse(failure.sentAt);
  // Shown only while it is the news: not when a later reply was recorded since (it went where
  // this one did not), nor over a later reply's failure. Announced all the same: it did fail.
  const older =
    (!!conversation.lastReplyAt && sent < Date.parse(conversation.lastReplyAt)) ||
    (known !== undefined && known.messageId !== failure.messageId && sent < Date.parse(known.sentAt ?? ''));
  const next: Conversation = older
    ? conversation
    : {
        ...conversation,
        replyFailure: {
          messageId: failure.messageId,
          status: failure.status,
          ...(failure.errorCode ? { errorCode: failure.errorCode } : {}),
          at: failure.at.toISOString(),
          sentAt: failure.sentAt,
        },
      };
  return withEvent(next, 'reply.failed', failure.messageId, failure.at, {
    messageId: failure.messageId,
    status: failure.status,
    errorCode: failure.errorCode ?? null,
  });
}

/** When the customer last wrote on any channel (the receipt time of their newest applied message). */
export function lastInboundAt(conversation: Conversation): string | null {
  const times = Object.values(conversation.inboundAt).filter((at) => at !== undefined);
  return times.length === 0 ? null : times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}

/** An agent's reply, recorded: the episode ends (as for any reply) and downstream tools hear of it. */
export function applyAgentReply(
  conversation: Conversation,
  reply: {
    messageId: string;
    at: Date;
    agent: string | null;
    /**
     * Written in the provider's own inbox (an echo), where the person read the customer's
     * messages; never an API reply, even one whose key names no agent.
     */
    inbox?: boolean;
    channel: Conversation['channel'];
    /** The WhatsApp template it went as, after the 24-hour window (its name, or Twilio's ContentSid). */
    template?: string;
  },
  context: ReplyContext,
): Conversation {
  const wasAwaiting = conversation.awaitingSince;
  const applied = applyReply(
    withoutUncertainReply(
      replyLanded(withoutOlderFailure(conversation, reply.at), reply.messageId),
      reply.messageId,
    ),
    reply.at,
    context,
  );
  // Written in the provider's inbox (no agent of ours): what that person read there is answered.
  const inbox = applied.lastInboxReply;
  const replied =
    reply.inbox && (!inbox || Date.parse(inbox.at) < reply.at.getTime())
      ? { ...applied, lastInboxReply: { at: reply.at.toISOString(), channel: reply.channel } }
      : applied;
  return withEvent(replied, 'reply.sent', reply.messageId, reply.at, {
    messageId: reply.messageId,
    channel: reply.channel,
    // The conversation's own channel, whose promise this reply answers (a caller is answered
    // by SMS; the service level counts the answer under voice).
    conversationChannel: conversation.channel,
    agent: reply.agent,
    episode: conversation.episode,
    awaitingSince: wasAwaiting,
    replyBy: conversation.replyBy,
    originalReplyBy: conversation.originalReplyBy ?? conversation.replyBy,
    // false: the episode was promised nothing (HELP, an auto-reply…): no promise kept or broken.
    promised: promiseOwed(conversation),
    // (a message newer than the reply waits in the next episode: this one was answered)
    answeredEpisode:
      wasAwaiting !== null && (replied.awaitingSince === null || replied.episode > conversation.episode),
    firstReply: conversation.firstReplyAt === undefined,
    ...(reply.template ? { template: reply.template } : {}),
  });
}

/**
 * A newer reply goes where the failed one did not: its failure is no longer the news. A failure
 * reported for this very reply (or a later one) before this write stays.
 */
function withoutOlderFailure(conversation: Conversation, at: Date): Conversation {
  const failure = conversation.replyFailure;
  if (!failure || Date.parse(failure.sentAt ?? '') >= at.getTime()) return conversation;
  const { replyFailure: _failed, ...rest } = conversation;
  return rest;
}

/** The reply is on record: its uncertain try is no longer to be looked for (uncertainReplies). */
function withoutUncertainReply(conversation: Conversation, messageId: string): Conversation {
  const uncertain = conversation.uncertainReplies;
  if (!uncertain || !(messageId in uncertain)) return conversation;
  const { [messageId]: _recorded, ...rest } = uncertain;
  const { uncertainReplies: _all, ...without } = conversation;
  return Object.keys(rest).length > 0 ? { ...without, uncertainReplies: rest } : without;
}

/** Marks an agent's reply in flight until `until` (and forgets those whose time has passed). */
export function replyInFlight(
  conversation: Conversation,
  messageId: string,
  now: Date,
  until: Date,
): Conversation {
  const live = Object.entries(conversation.repliesInFlight ?? {}).filter(
    ([, at]) => Date.parse(at) > now.getTime(),
  );
  return {
    ...conversation,
    repliesInFlight: Object.fromEntries([...live, [messageId, until.toISOString()]]),
  };
}

/**
 * The reply is stored, or the provider refused it (nothing of it is on its way): no longer in
 * flight (the others stay).
 */
export function replyLanded(conversation: Conversation, messageId: string): Conversation {
  const flying = conversation.repliesInFlight;
  if (!flying || !(messageId in flying)) return conversation;
  const { [messageId]: _landed, ...rest } = flying;
  const { repliesInFlight: _all, ...without } = conversation;
  return Object.keys(rest).length > 0 ? { ...without, repliesInFlight: rest } : without;
}

/** How long an uncertain reply is remembered: the agents' tool retries within minutes, not days. */
const UNCERTAIN_REPLY_KEPT_MS = 24 * 60 * 60_000;

/** Remembers an agent's reply whose send is uncertain (uncertainReplies); drops those older than a day. */
export function replyUncertain(
  conversation: Conversation,
  messageId: string,
  at: Date,
  text: string,
  template?: { name: string; language?: string } | null,
  via?: SentVia,
): Conversation {
  const kept = Object.entries(conversation.uncertainReplies ?? {}).filter(
    ([id, reply]) => id !== messageId && Date.parse(reply.at) > at.getTime() - UNCERTAIN_REPLY_KEPT_MS,
  );
  // The latest try: one before it was looked for and not found, or it would not have been sent.
  return {
    ...conversation,
    uncertainReplies: Object.fromEntries([
      ...kept,
      [messageId, { at: at.toISOString(), text, ...(template ? { template } : {}), ...(via ? { via } : {}) }],
    ]),
  };
}

/** Whether an agent's reply may be on its way through the provider now. */
export function replyMayBeInFlight(conversation: Conversation, now: Date): boolean {
  return Object.values(conversation.repliesInFlight ?? {}).some((at) => Date.parse(at) > now.getTime());
}

/** Resolves the conversation (idempotent): pending automatic messages are no longer needed. */
export function resolveConversation(
  conversation: Conversation,
  at: Date,
  agent: string | null,
): Conversation {
  if (conversation.status === 'resolved') return conversation;
  // A pending one is skipped (`ack.skipped`, resolved), unless its last try may have gone
  // (endPendingJobs). One a worker is sending stays its worker's to settle: sent, or, if the
  // worker died, skipped by the next claim, which finds the conversation resolved
  // (ackNoLongerNeeded). Marking it skipped here would announce a skip for an ack that then
  // goes out.
  const resolved = endPendingJobs(
    { ...conversation, status: 'resolved', resolvedAt: at.toISOString(), awaitingSince: null },
    'resolved',
    at,
  );
  return withEvent(resolved, 'conversation.resolved', at.toISOString(), at, {
    agent,
    episode: conversation.episode,
  });
}

/** Opens a resolved conversation again (idempotent). */
export function reopenConversation(conversation: Conversation, at: Date, agent: string | null): Conversation {
  if (conversation.status === 'open') return conversation;
  const { resolvedAt: _resolved, ...rest } = conversation;
  return withEvent({ ...rest, status: 'open' }, 'conversation.reopened', at.toISOString(), at, { agent });
}

/** Assigns the conversation to a person (null: unassigned); a no-op when nothing changes. */
export function assignConversation(
  conversation: Conversation,
  assignee: string | null,
  at: Date,
  agent: string | null,
): Conversation {
  if (conversation.assignee === assignee) return conversation;
  return withEvent(
    { ...conversation, assignee },
    'conversation.assigned',
    `${at.toISOString()}:${assignee ?? ''}`,
    at,
    {
      assignee,
      agent,
    },
  );
}

/**
 * The outbox could not be delivered now: the sweeper comes back later (each failure doubles
 * the wait, up to an hour), so a dead event sink cannot keep it from everything else it must do.
 */
export function deferOutbox(conversation: Conversation, now: Date, graceMs: number): Conversation {
  if (!hasUndeliveredEvents(conversation)) return conversation;
  const failures = (conversation.outboxFailures ?? 0) + 1;
  const wait = Math.min(graceMs * 2 ** Math.min(failures - 1, 16), 60 * 60_000);
  return {
    ...conversation,
    outboxRetryAt: new Date(now.getTime() + wait).toISOString(),
    outboxFailures: failures,
  };
}
