import { LATE_ACK_HOLD_MS } from '#lib/domain/ack-attempts.ts';
import { ackSpokenOnly, inboxRepliesEchoed, noAckReason } from '#lib/domain/ack-policy.ts';
import { LOCALES } from '#lib/domain/channel.ts';
import type { Contact } from '#lib/domain/contact.ts';
import {
  type Ack,
  applyInbound,
  type Conversation,
  contactReplyAsked,
  lastReplyAskedKept,
  lastReplyKept,
  lastSentAck,
} from '#lib/domain/conversation.ts';
import { newId } from '#lib/domain/ids.ts';
import { chooseLocale, type LocaleDetection } from '#lib/domain/locale.ts';
import type { InboundMessage, Message } from '#lib/domain/message.ts';
import { computePromise } from '#lib/domain/promise.ts';
import type { ContactTouch } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import { publishOutbox } from './publish-events.ts';
import { type Carried, withCarried } from './record-inbound-alias.ts';
import type { RecordInboundDeps } from './record-inbound-deps.ts';

// Enough for every writer of one conversation to win once; each loop re-reads fresh state.
const MAX_ATTEMPTS = 8;

/** The conversation's write for one message, and what the ack job needs of it. */
export type ConversationOutcome = { conversation: Conversation; ackRequested: boolean; delivered: string[] };

/**
 * recordInbound's step 3: the conversation's episode, promise and acknowledgement in one
 * conditional write (optimistic concurrency: re-read and retried on a conflict). A conversation
 * found resolved first moves the message to the contact's open one. Returns the saved
 * conversation, the message (moved, or as stored) and the contact as last read.
 */
export async function applyToConversation(
  deps: RecordInboundDeps,
  step: {
    inbound: InboundMessage;
    message: Message;
    contact: Contact | null;
    carried: Carried;
    /** Our own fresh id won the contact's claim: no conversation item can exist under it yet. */
    claimedNew: boolean;
    candidateId: string;
    claiming: ContactTouch;
    detected: LocaleDetection;
    consentApplied: boolean;
    queuedAck: Ack['after'];
    now: Date;
  },
): Promise<{ outcome: ConversationOutcome; message: Message; contact: Contact | null }> {
  const { inbound, carried, claimedNew, candidateId, claiming, detected, consentApplied, queuedAck, now } =
    step;
  let { message, contact } = step;
  const promise = computePromise(deps.business, {
    receivedAt: new Date(message.createdAt),
    channel: message.channel,
  });
  const canSendOn = deps.canSendOn(inbound.provider, inbound.channel, inbound.from);
  // Recorded late (the worker, after an outage): a person may have answered her in the provider's
  // own inbox meanwhile, and that reply may be another job on the queue, placed on its next
  // receive. The ack waits that long (the sweeper queues it), and its re-check at send time then
  // finds the episode answered: no ack after a person's answer.
  const recordedAt = deps.recordingClock?.now().getTime();
  const holdAckUntil =
    recordedAt !== undefined && inboxRepliesEchoed(inbound.provider)
      ? new Date(recordedAt + LATE_ACK_HOLD_MS).toISOString()
      : undefined;
  let outcome: ConversationOutcome | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && !outcome; attempt++) {
    // The contact before the conversation: its claim token then predates what we see of the
    // conversation, and a stale pointer is replaced under it (below, moveToOpenConversation).
    contact = attempt === 1 ? contact : withCarried(await deps.store.getContact(inbound.contactKey), carried);
    const current =
      attempt === 1 && claimedNew && message.conversationId === candidateId
        ? null
        : await deps.store.getConversation(message.conversationId);
    const policy = {
      contact,
      message: inbound,
      canSendOn,
      conversation: current,
      now,
      settings: deps.business.ack,
    };
    const result = applyInbound(current, message, {
      now,
      promise,
      noAckReason: noAckReason(policy),
      defaultLocale: chooseLocale({
        detected,
        contactLocale: contact?.locale,
        defaultLocale: deps.business.defaultLocale,
        supported: LOCALES,
      }),
      detectedLocale: detected.confident ? detected.locale : null,
      newConversationId: message.conversationId,
      contactName: inbound.contactName,
      // Without an SMS to send the caller's only acknowledgement is the promise the greeting spoke.
      spokenAck: ackSpokenOnly(policy),
      consent: consentApplied ? inbound.consent : undefined,
      holdAckUntil,
      ackAfter: queuedAck,
      // Our last reply on a conversation of theirs that ended: a bare thanks for it opens one resolved.
      endedReply: contact?.lastReplyAt
        ? { at: contact.lastReplyAt, asked: contactReplyAsked(contact) }
        : null,
    });
    if (result.kind === 'unchanged') {
      outcome = { conversation: result.conversation, ackRequested: false, delivered: [] };
    } else if (result.kind === 'closed') {
      message = await moveToOpenConversation(
        deps,
        message,
        {
          ...claiming,
          lastAck: current && lastSentAck(current),
          lastReplyAt: current && lastReplyKept(current, contact),
          ...(current ? { lastReplyAsked: lastReplyAskedKept(current, contact) } : {}),
        },
        contact?.claimToken ?? null,
      );
    } else {
      try {
        const expected = current?.version ?? null;
        const deferred =
          deps.deferredClear && result.ackRequested && queueNow(result.conversation.ack, deps)
            ? await saveDeliveringLater(deps.deferredClear, result.conversation, expected, deps.log)
            : null;
        const saved = deferred?.saved ?? (await deps.store.saveConversation(result.conversation, expected));
        // A call past the promise counted its breach in this write (the sweeper no longer sees it).
        if (saved.breachedEpisode > (current?.breachedEpisode ?? 0)) deps.metrics.count('PromiseBreaches');
        // A call's ack spoken at intake (a landline, `voiceSms: never`, no SMS allowed): the caller
        // heard the promise, an ack sent (as refusedForNumber's spoken one). Only by the write that
        // made it so: Twilio's redelivery of the call finds it spoken already.
        if (spokenNow(current, saved)) deps.metrics.count('AcksSent');
        outcome = {
          conversation: saved,
          ackRequested: result.ackRequested,
          delivered: deferred?.delivered ?? [],
        };
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt === MAX_ATTEMPTS) throw error;
      }
    }
  }
  if (!outcome) throw new ConcurrentUpdateError(`conversation ${message.conversationId}`);
  return { outcome, message, contact };
}

/** Whether this write made the episode's ack the promise a call's greeting spoke. */
function spokenNow(before: Conversation | null, after: Conversation): boolean {
  const spoken = (ack: Conversation['ack'] | undefined) =>
    ack?.state === 'sent' && ack.reason === 'spoken-on-call' && !ack.messageId;
  if (!spoken(after.ack)) return false;
  return !(spoken(before?.ack) && before?.ack?.episode === after.ack?.episode);
}

/**
 * Whether the ack is pending and due: one held (`retryAt` ahead, its message recorded late) is
 * queued by the sweeper when due, not now (its job would only be dropped as not yet).
 */
export function queueNow(
  ack: Conversation['ack'],
  deps: Pick<RecordInboundDeps, 'clock' | 'recordingClock'>,
): ack is NonNullable<Conversation['ack']> {
  if (ack?.state !== 'pending') return false;
  return !ack.retryAt || Date.parse(ack.retryAt) <= (deps.recordingClock ?? deps.clock).now().getTime();
}

/**
 * Saves (conditionally, like any save) under the publishing store, then delivers the new
 * outbox without clearing it: the ack job carries the delivered ids to the worker's claim. A
 * failed delivery delivers nothing: the claim then publishes and clears as every write does.
 * While older events wait aside (outboxSpill) the usual publisher delivers them first.
 */
async function saveDeliveringLater(
  deferred: NonNullable<RecordInboundDeps['deferredClear']>,
  conversation: Conversation,
  expectedVersion: number | null,
  log: Log,
): Promise<{ saved: Conversation; delivered: string[] }> {
  const saved = await deferred.store.saveConversation(conversation, expectedVersion);
  if (saved.outboxSpill) {
    return {
      saved: await publishOutbox({ store: deferred.store, sink: deferred.events, log }, saved),
      delivered: [],
    };
  }
  if (saved.outbox.length === 0) return { saved, delivered: [] };
  try {
    await deferred.events.publish(saved.outbox);
    return { saved, delivered: saved.outbox.map((event) => event.id) };
  } catch (error) {
    log.warn('events not delivered yet; the ack worker or the sweeper will retry', {
      conversationId: saved.id,
      error: (error as Error).name,
    });
    return { saved, delivered: [] };
  }
}

/**
 * The conversation the message pointed to was resolved before it was applied: open a new one
 * (or join the one opened meanwhile). `claimToken` is the contact's, read before the
 * conversation was found resolved: if an agent reopened it since, the pointer is theirs and
 * the message stays; the caller's next read finds it open.
 */
async function moveToOpenConversation(
  deps: RecordInboundDeps,
  message: Message,
  touch: ContactTouch,
  claimToken: string | null,
): Promise<Message> {
  const open = await deps.store.claimOpenConversation(
    message.contactKey,
    newId('conv', touch.now),
    touch,
    message.conversationId,
    claimToken,
  );
  if (open.conversationId === message.conversationId) return message;
  return deps.store.repointMessage(message.id, message.conversationId, open.conversationId);
}
