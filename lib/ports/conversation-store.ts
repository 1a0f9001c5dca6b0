import type { Locale } from '#lib/domain/channel.ts';
import type { Contact, OptOutReason } from '#lib/domain/contact.ts';
import type { Conversation, LastAck } from '#lib/domain/conversation.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { DeliveryUpdate, Message } from '#lib/domain/message.ts';

export type { LastAck };

export type Page<T> = { items: T[]; nextCursor: string | null };

/**
 * A page of conversations read from an index. An item this release cannot read (written by a newer
 * release rolled back from, copied back by hand from a restore) is left out of `items` and named in
 * `unreadable` by its table key and failed fields, never its content; the cursor continues past it.
 */
export type ConversationPage = Page<Conversation> & {
  unreadable: Array<{ key: string; fields: string[] }>;
};

/** The longest cursor a store issues (the API refuses longer ones unread). */
export const MAX_CURSOR_LENGTH = 4_096;

/**
 * A listing of conversations. `awaiting` (customers waiting for us) and `overdue` (their promise
 * passed) are ordered by replyBy, soonest first, and open by definition, as are `noReplyNeeded` ones
 * (an out-of-office reply, HELP), newest activity first like the others. One index per filter.
 */
export type ConversationQuery = {
  status: Conversation['status'];
  limit: number;
  cursor?: string | undefined;
  channel?: Conversation['channel'] | undefined;
  assignee?: string | undefined;
  awaiting?: boolean | undefined;
  overdue?: boolean | undefined;
  /** Open episodes only messages nobody is to answer began (awaitingOf), newest activity first. */
  noReplyNeeded?: boolean | undefined;
  /** For `overdue`: promises before this moment. */
  now?: Date | undefined;
};

/** Which of a conversation's messages to list: `limit` of them, newest first, older than `before`. */
export type MessagePage = {
  limit: number;
  /** A message's place in its conversation: messages are ordered by createdAt, then id. */
  before?: Pick<Message, 'createdAt' | 'id'> | undefined;
};

/** The contact's open conversation after a claim, and the contact that decided it. */
export type OpenConversationClaim = { conversationId: string; contact: Contact };

export type ContactTouch = {
  name?: string;
  channel: Conversation['channel'];
  /** The language the contact's message was confidently in: remembered for their next conversation. */
  locale?: Locale;
  now: Date;
  /** With `replacing`: the replaced conversation's last acknowledgement, kept on the contact. */
  lastAck?: LastAck | null;
  /** With `replacing`: our last reply on the replaced conversation (lastReplyKept), kept on the contact. */
  lastReplyAt?: string | null;
  /** Whether that reply asked something (lastReplyAskedKept): lastPlainReplyAt; absent: asked. */
  lastReplyAsked?: boolean;
  /** The customer's own mail (no automatic one, bounceLiftedBy's kind): written as Contact.mailedAt. */
  mailed?: boolean;
};

/** Where an alias key (`whatsapp:<BSUID>`) leads: the person's contact, and the address answers go to. */
export type ContactAlias = { contactKey: string; address: string };

/**
 * What a person's contact takes over from another of theirs (a number they left): the channel
 * they are on, their name and language where it knows none of its own, and the conversation it
 * takes over.
 */
export type ContactCarry = {
  channel: Conversation['channel'];
  name?: string | undefined;
  locale?: Locale | undefined;
  /** The open conversation it takes over (kept as `carriedConversationId`, the latest one). */
  conversationId?: string | undefined;
};

/** What a contact keeps of a conversation that ends: its last acknowledgement, our last reply. */
export type ContactKeeps = {
  lastAck?: LastAck | null;
  lastReplyAt?: string | null;
  /** Whether that reply asked something (written with it as lastPlainReplyAt; absent: taken as asked). */
  lastReplyAsked?: boolean;
};

/**
 * Durable conversations, messages and contacts. Every write is a single-item conditional
 * write (no transactions, no streams), so every caller step can be repeated safely.
 */
export interface ConversationStore {
  getContact(key: string): Promise<Contact | null>;
  /**
   * Makes `candidateId` the contact's open conversation unless another one is already open
   * (or `replacing` names the stale one to replace); returns whichever id is open afterwards,
   * with the contact as that write left it (or as it stood, when another was open). Creates
   * the contact on first sight and remembers the channel, name and language when it claims. With
   * `replacing` and `claimToken` (the contact's, read before `replacing` was found resolved;
   * null: it had none), the pointer is taken from `replacing` only if nobody claimed it since:
   * a reopen in between keeps it (the id returned is then `replacing`).
   */
  claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim>;
  /**
   * A fresh claim token for the contact's pointer if it still names this conversation under
   * the token given (false otherwise): a reopen, after writing the conversation open, makes
   * any message that read it resolved before that write claim again instead of replacing it.
   */
  renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean>;
  /** The contact an alias key was linked to (linkAlias), or null: one read. */
  resolveAlias(aliasKey: string): Promise<ContactAlias | null>;
  /**
   * Links an alias key to a contact: the alias item (the latest link wins), then the mark on the
   * contact (`aliasKeys`) that tells later messages it is written. Both repeatable; a crash
   * between them is finished by the next message that carries both keys.
   */
  linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void>;
  /**
   * linkAlias's first half, the alias item alone (the latest link wins), in one write that
   * returns the contact the key led to before (null: none): the one it replaced, or, when it
   * already led to this contact (a repeat), the one that link replaced (kept on the item as
   * `previousContactKey`), so that a retry still knows what the link took over.
   */
  writeAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<string | null>;
  /** linkAlias's second half: the mark on the contact (none when the contact does not exist). */
  markAliasLinked(contactKey: string, aliasKey: string): Promise<void>;
  /**
   * Creates the contact if needed and gives it what `carried` names (name and language only
   * where it has none, the channel added, the conversation taken over): one write, returning the contact as it left it (its
   * pointer, its consent). Repeatable; nothing it holds is overwritten.
   */
  carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact>;
  /**
   * The person's last acknowledgement, kept on the contact unless a later one is (only forward,
   * as keepLastReply): a conversation of theirs that opens soon after is not acknowledged again.
   */
  keepLastAck(key: string, lastAck: LastAck): Promise<void>;
  /** Remembers a new channel (or name, or language) of a known contact. */
  touchContact(key: string, touch: ContactTouch): Promise<void>;
  /**
   * Clears the contact's open-conversation pointer if it still names this (resolved)
   * conversation, keeping its last acknowledgement and our last reply on the contact (in the
   * same write) so that the contact's next conversation does not repeat the one or follow the
   * other with an ack too soon. With `claimToken` (the
   * contact's, read before the conversation was resolved; null: it had none), only if nobody
   * claimed the pointer since. A release that does not happen is harmless: the next message
   * finds the conversation resolved and opens a new one.
   */
  releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void>;
  /**
   * Our reply at `at` on a conversation the contact no longer follows (a follow-up on a
   * resolved one): kept on the contact, unless a later one is, so that the answer it draws,
   * which opens a new conversation, falls within the quiet time after a reply.
   */
  keepLastReply(key: string, at: Date, asked?: boolean): Promise<void>;
  /** Stores a message unless one with the same id exists; returns the stored one either way. */
  putMessage(message: Message): Promise<{ created: boolean; message: Message }>;
  getMessage(id: string): Promise<Message | null>;
  /**
   * Moves a not-yet-applied message from one conversation to another (the one it pointed to
   * closed). A message another delivery moved first is returned where it is now.
   */
  repointMessage(messageId: string, from: string, to: string): Promise<Message>;
  getConversation(id: string): Promise<Conversation | null>;
  /** Writes the conversation if its stored version is still `expectedVersion` (null: must not exist). */
  saveConversation(conversation: Conversation, expectedVersion: number | null): Promise<Conversation>;
  /**
   * Events moved out of a conversation's outbox (spillOutbox), oldest first, at most `limit`.
   * A store whose items have a size limit moves them in saveConversation, before the write;
   * the publisher delivers them and drops them.
   */
  spilledEvents(conversationId: string, limit: number): Promise<DomainEvent[]>;
  /** Forgets spilled events that were delivered (those already gone are no error). */
  dropSpilledEvents(conversationId: string, events: readonly DomainEvent[]): Promise<void>;
  listConversations(query: ConversationQuery): Promise<ConversationPage>;
  /**
   * A page of a conversation's messages, oldest first: the latest `limit` of them, or the
   * latest `limit` before `before` (the oldest message of the page before it).
   */
  listMessages(conversationId: string, page: MessagePage): Promise<Message[]>;
  /**
   * The conversation's latest inbound message on `channel` (where a reply on that channel
   * goes), looking back at most over its latest 2,000 messages; null when none.
   */
  lastInboundOn(conversationId: string, channel: Message['channel']): Promise<Message | null>;
  /** A message by the provider's id: inbound ones by their derived id, outbound through their alias. */
  findByProviderId(provider: string, providerMessageId: string): Promise<Message | null>;
  /** Our outbound mail stored under the first of `ids` with an alias under `providers` (tried in order), or null. */
  findSentMail(ids: readonly string[], providers: readonly string[]): Promise<Message | null>;
  /**
   * Remembers which of our messages the provider that sent it (sendingProvider: SES for mail)
   * knows as `providerMessageId`. Returns the update held for it before (holdDelivery), for the caller
   * to apply now; it stays held, so applying it again is harmless.
   */
  putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null>;
  /**
   * Holds a delivery update for a provider id with no alias yet (the status callback came
   * between our send and our write of the alias), the latest state only, for `ttlSeconds`.
   * False when the alias exists after all: the caller looks the message up again.
   */
  holdDelivery(update: DeliveryUpdate, ttlSeconds: number, now: Date): Promise<boolean>;
  /**
   * Remembers, for `ttlSeconds`, that the provider reported taking our message `messageId` as
   * `providerMessageId` (Meta's echo or status naming it) before we stored it: the lookup of a
   * send whose answer was lost reads it (reportedSend). Repeating it is harmless.
   */
  noteReportedSend(
    report: { messageId: string; provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<void>;
  /** What the provider reported of our message `messageId` (noteReportedSend), or null. */
  reportedSend(messageId: string): Promise<{ provider: string; providerMessageId: string } | null>;
  /**
   * Claims `key` (InboundMessage.sameMessageKey) for a delivery known by the provider as
   * `first`, unless another delivery claimed it already: answers the delivery that holds it.
   * Each claim keeps the key for `ttlSeconds` more from `now`.
   */
  claimSameMessage(
    key: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string }>;
  /** The delivery that holds same-message key `key` (claimSameMessage), or null: a read, nothing claimed. */
  sameMessage(key: string): Promise<{ provider: string; providerMessageId: string } | null>;
  /** Records a delivery state unless a later one is already stored (callbacks come out of order). */
  updateDelivery(messageId: string, update: DeliveryUpdate): Promise<Message | null>;
  /**
   * Marks a contact opted out (STOP) or back in (START) as of `at`, the keyword's receipt time;
   * creates the contact if needed. Consent only moves forward: false (nothing written) when a
   * later STOP or START is already recorded (an older one recorded late by the worker). `reason`:
   * why opted out (default `stop`; a `bounce` never replaces another), or the only one lifted. A
   * bounce of mail sent at `sent` applies only if the address has not mailed us since (mailedAt).
   */
  setConsent(key: string, optedOut: boolean, at: Date, reason?: OptOutReason, sent?: Date): Promise<boolean>;
  /**
   * The provider reported that the contact's number takes no SMS (Contact.noSmsAt), as of `at`,
   * of an SMS sent at `sentAt` (default `at`): the first report is kept; nothing is written for a
   * contact not stored, nor when the number texted us since that SMS went (Contact.textedAt).
   */
  markNoSms(key: string, at: Date, sentAt?: Date): Promise<void>;
  /**
   * Replay protection in one conditional write: binds `key` to `content` for its lifetime.
   * True when the key was free (or expired) or is already bound to this same content; false
   * when it is bound to other content.
   */
  bindOnce(key: string, content: string, ttlSeconds: number, now: Date): Promise<boolean>;
  /**
   * Text that completes a message (a voicemail's transcription), in either order: kept
   * aside if the message is not stored yet, and picked up by `takeLateText` when it is.
   */
  completeText(messageId: string, text: string): Promise<void>;
  takeLateText(messageId: string): Promise<Message | null>;
  /**
   * Conversations whose next sweep time has come, soonest first, a page at a time: the cursor
   * continues after the last one returned (a conversation the sweeper just finished is not
   * read again, even from an index that has not caught up with its write).
   */
  dueForSweep(now: Date, limit: number, cursor?: string): Promise<ConversationPage>;
  /**
   * The conversations whose ack or notice waits for `channel`'s configuration (waitingChannelKey;
   * dueForSweep never returns them), soonest due first: with `now`, only those with something
   * else due by then (a breach, a late notice); with null, all of them.
   */
  waitingForChannel(
    channel: string,
    now: Date | null,
    limit: number,
    cursor?: string,
  ): Promise<ConversationPage>;
  /**
   * How many customers wait for `channel`'s configuration: the conversations so waiting (their
   * index entries read, their ids and links only), but for an ack that waits after its linked
   * twin's while that one waits too (Ack.after: one person, one ack; of two that wait for each
   * other, one), counting no further than about `upTo`.
   */
  countWaitingForChannel(channel: string, upTo: number): Promise<number>;
}
