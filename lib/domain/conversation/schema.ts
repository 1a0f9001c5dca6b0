// The stored conversation's schema (ConversationSchema) and the limit on its episode's message ids.

import { z } from 'zod';
import { ChannelSchema, LocaleSchema } from '../channel.ts';
import { DomainEventSchema } from '../events.ts';
import { ReplyPromiseSchema } from '../promise.ts';
import { AckSchema, OwedLookUpSchema, SentViaSchema } from './ack-schema.ts';
import { ReplyRouteSchema } from './route.ts';

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
  /**
   * The contacts (a new number's) that took this conversation over as their open one when the
   * customer changed their number (`user_changed_number`), besides `contact`: resolving it frees
   * their pointers too, reopening it takes them back. Absent: none.
   */
  takenOverBy: z.array(z.string()).optional(),
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
  /**
   * The time of our latest reply that asked the customer nothing (no '?'): when it is
   * `lastReplyAt`, their "ok, dziękuję" cannot be an answer to a question of ours, and the
   * conversation may resolve by itself (thanks-resolve.ts). A time, not a flag of the latest
   * reply: an older release applying a reply keeps the field as it found it (the schema passes
   * it through), and a flag would then speak for that reply; this time no longer matches it, so
   * the reply is taken as asked. Absent: none known (before stop 33), taken as asked.
   */
  lastPlainReplyAt: z.string().optional(),
  /**
   * Set while the conversation stands resolved by itself (thanks-resolve.ts): the customer only
   * thanked us for our answer. The contact still points here, and their next message reopens it,
   * waiting as it did before: `awaitingSince` is the time the episode their thanks began had.
   */
  thanksResolved: z.looseObject({ awaitingSince: z.string() }).optional(),
  /** Events not yet delivered to downstream tools (the outbox; cleared by the publisher). */
  outbox: z.array(DomainEventSchema).default([]),
  /** How many events the conversation has made (the last one's `sequence`); absent before stop 31. */
  eventSequence: z.number().int().nonnegative().optional(),
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
   * after a wait with no sign of it (lib/use-cases/reply-earlier-try.ts). Kept a day. `template`: it
   * went as that WhatsApp template (`text` its two parameters), looked for so whatever the window
   * is when the retry comes. `agent`: who sent it (acting name), for Meta's report of it, which
   * records it without a retry (lib/use-cases/settle-reported.ts).
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
        agent: z.string().optional(),
      }),
    )
    .optional(),
  /**
   * Replies applied lately (an agent's, a person's inbox reply), by message id, each at its
   * stored time; every reply applied with a later time than `since` (null: ever) is listed.
   * Applying a listed one again changes nothing and announces nothing (its report and its
   * retry meeting); a retry of a request that died between storing and applying its reply
   * applies it when it is not listed. Kept a day, 50 at most (replies-applied.ts); absent
   * before stop 32.
   */
  appliedReplies: z
    .looseObject({
      since: z.string().nullable(),
      ids: z.record(z.string(), z.string()),
      /** The conversation's version when a release that lists replies (stop 33 on) last wrote it. */
      version: z.number().int().nonnegative().optional(),
    })
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
      /** The provider's code says a later try may go (DeliveryUpdate.retryable): worth sending again. */
      retryable: z.boolean().optional(),
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

/**
 * How many message ids an episode remembers. A customer who writes on and on while nobody
 * answers (a bot, a flood) must not grow the conversation item towards DynamoDB's 400 KB, where
 * every write of it would fail: 500 ids are ~16 KB. A provider's retry of a message older than
 * the last 500 is applied again, which changes nothing that matters: its event has the same id
 * (consumers drop it) and the times only move forward.
 */
export const MAX_EPISODE_MESSAGE_IDS = 500;
