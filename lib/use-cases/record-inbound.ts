import { LATE_ACK_HOLD_MS } from '#lib/domain/ack-attempts.ts';
import { ackSpokenOnly, inboxRepliesEchoed, noAckReason } from '#lib/domain/ack-policy.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import type { Channel } from '#lib/domain/channel.ts';
import { LOCALES } from '#lib/domain/channel.ts';
import type { Contact } from '#lib/domain/contact.ts';
import {
  type AckState,
  applyInbound,
  type Conversation,
  lastReplyKept,
  lastSentAck,
} from '#lib/domain/conversation.ts';
import { newId, stableId } from '#lib/domain/ids.ts';
import { withoutKeyword } from '#lib/domain/keywords.ts';
import { chooseLocale, detectLocale } from '#lib/domain/locale.ts';
import type { InboundMessage, Message } from '#lib/domain/message.ts';
import { computePromise } from '#lib/domain/promise.ts';
import { type AckQueue, MAX_DELIVERED_IDS } from '#lib/ports/ack-queue.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ContactTouch, ConversationStore } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError, NotYetError } from '#lib/ports/errors.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { publishOutbox } from './publish-events.ts';
import {
  carryFromAlias,
  linkedSinceClaim,
  linkedSinceWrite,
  resolveAlias,
  setConsentOf,
  withCarried,
} from './record-inbound-alias.ts';

export type RecordInboundDeps = {
  store: ConversationStore;
  queue: AckQueue;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  business: BusinessConfig;
  /** Whether we can answer on this provider + channel at all, to this customer address (voice: by SMS to the caller). */
  canSendOn: (provider: string, channel: Channel, customer: string) => boolean;
  /**
   * The store under the publishing one, and the event fan-out. When given, a write that queues
   * an ack delivers its events without the clearing write: the ack job names them and the
   * worker's claim, a write of the same conversation that follows anyway, removes them.
   */
  deferredClear?: { store: ConversationStore; events: EventSink };
  /**
   * A message recorded later than received (a webhook the store could not take, recorded by
   * the worker): the time of the store's writes, `clock` giving the receipt time. Stored on the
   * message (recordedAt): a reply written before it was answering other messages.
   */
  recordingClock?: Clock;
};

export type RecordInboundResult = {
  kind: 'recorded' | 'duplicate';
  messageId: string;
  conversationId: string;
  ack: AckState | null;
  replyBy: string | null;
  /** The stored message's receipt time (an earlier delivery's, for a duplicate). */
  receivedAt: string;
  /** The promise and language of the conversation: what a voice greeting says. */
  promise: Conversation['promise'];
  locale: Conversation['locale'];
};

// Enough for every writer of one conversation to win once; each loop re-reads fresh state.
const MAX_ATTEMPTS = 8;

/** The stable id of a provider's message: every delivery of it maps to the same item. */
export function inboundMessageId(inbound: Pick<InboundMessage, 'provider' | 'providerMessageId'>): string {
  return stableId('msg', `${inbound.provider}:${inbound.providerMessageId}`);
}

/**
 * A stored customer message as its provider's retry would bring it again, for recordInbound to
 * finish (it finds the message stored and applies it where the contact now points). What only
 * the provider's payload said is not kept: the contact's name, consent, a channel's reason
 * not to answer it. Null for anything that did not come from a customer.
 */
export function storedInbound(message: Message): InboundMessage | null {
  const { kind, providerMessageId } = message;
  if (message.direction !== 'inbound' || !providerMessageId) return null;
  if (kind !== 'message' && kind !== 'call' && kind !== 'voicemail') return null;
  return {
    provider: message.provider,
    providerMessageId,
    channel: message.channel,
    kind,
    contactKey: message.contactKey,
    from: message.from,
    to: message.to,
    ...(message.toId ? { toId: message.toId } : {}),
    text: message.text,
    media: message.media,
    ...(message.durationSeconds === undefined ? {} : { durationSeconds: message.durationSeconds }),
    ...(message.callId ? { callId: message.callId } : {}),
    ...(message.email ? { email: message.email } : {}),
    ...(message.fullText ? { fullText: message.fullText } : {}),
  };
}

/**
 * How long a same-message key (SAMEMSG#) is kept after each delivery of the mail: past the last
 * day the other way can still bring it. SES's SNS delivery is accepted up to 30 days after SNS
 * signed it (its retries, a redrive from the 14-day inbound-mail DLQ, the sweeper's mail
 * recheck within hours), and a sending server may hold a mail up to 5 days before either way
 * takes it (RFC 5321); Mailgun's retries span 8 hours. 40 days covers all of it.
 */
const SAME_MESSAGE_SECONDS = 40 * 24 * 60 * 60;

/**
 * Records one customer message: the contact's open conversation, the message (once, by its
 * provider id), the conversation's episode and acknowledgement, then the ack job. Each step
 * is a single conditional write that is safe to repeat, so a provider's retry (it gets no
 * 200 until this returns) finishes whatever a crash interrupted. See docs/store.md.
 */
export async function recordInbound(
  deps: RecordInboundDeps,
  received: InboundMessage,
): Promise<RecordInboundResult> {
  const now = deps.clock.now();
  let inbound = await resolveAlias(deps, await resolveVoicemailContact(deps, received));
  // The same message through another provider (a mail both Mailgun and SES take in): every
  // delivery after the first is that first one's retry, recorded and acknowledged once.
  if (inbound.sameMessageKey) {
    const first = await deps.store.claimSameMessage(
      inbound.sameMessageKey,
      inbound,
      SAME_MESSAGE_SECONDS,
      now,
    );
    inbound = { ...inbound, provider: first.provider, providerMessageId: first.providerMessageId };
  }
  const detected = detectLocale(inbound.text, { supported: LOCALES, fallback: deps.business.defaultLocale });
  const touch: ContactTouch = {
    ...(inbound.contactName ? { name: inbound.contactName } : {}),
    channel: inbound.channel,
    now,
  };
  // 1. The contact's one open conversation: one write claims a new one on the contact item, or
  // (its condition failing) tells which is open; either way it returns the contact.
  let candidateId = newId('conv', now);
  // A message that clearly tells the language and opens a conversation sets that conversation's
  // language: the claim remembers it on the contact in the same write, so their next
  // conversation, even one that opens with a call, is in it.
  const claiming: ContactTouch = { ...touch, ...(detected.confident ? { locale: detected.locale } : {}) };
  let claim = await deps.store.claimOpenConversation(inbound.contactKey, candidateId, claiming);
  const linkedSince = await linkedSinceClaim(deps, inbound, claim, candidateId, now);
  if (linkedSince) {
    inbound = linkedSince;
    candidateId = newId('conv', now);
    claim = await deps.store.claimOpenConversation(inbound.contactKey, candidateId, claiming);
  }
  let contact: Contact | null = claim.contact;
  const { conversationId } = claim;
  // Our own fresh id won the claim: no conversation item can exist under it yet (and the
  // claim already remembered the channel, the name and the language).
  const claimedNew = conversationId === candidateId;
  // The first message that names this person by two keys links them: the link now (before the
  // other key's contact is read, carryFromAlias), the mark on the contact once the message is
  // applied (below); it takes over what the other key's contact knows of them.
  const linking = inbound.aliasKey !== undefined && !contact.aliasKeys?.includes(inbound.aliasKey);
  const { carried, queuedAck } = linking
    ? await carryFromAlias(deps, inbound, contact, now)
    : { carried: {} };
  contact = { ...contact, ...carried };

  // 2. The message, under a condition on its provider id.
  const stored = await deps.store.putMessage({
    id: inboundMessageId(inbound),
    conversationId,
    direction: 'inbound',
    kind: inbound.kind,
    channel: inbound.channel,
    provider: inbound.provider,
    providerMessageId: inbound.providerMessageId,
    from: inbound.from,
    to: inbound.to,
    ...(inbound.toId ? { toId: inbound.toId } : {}),
    text: inbound.text,
    media: inbound.media,
    createdAt: now.toISOString(),
    contactKey: inbound.contactKey,
    ...(inbound.durationSeconds === undefined ? {} : { durationSeconds: inbound.durationSeconds }),
    ...(inbound.callId ? { callId: inbound.callId } : {}),
    ...(inbound.email ? { email: inbound.email } : {}),
    ...(inbound.fullText ? { fullText: inbound.fullText } : {}),
    ...(deps.recordingClock ? { recordedAt: deps.recordingClock.now().toISOString() } : {}),
  });
  let message = stored.message;
  // Consent before the conversation, so that the policy below already sees a STOP (and the
  // message is still recorded). It is placed at the message's receipt time, the stored one on a
  // retry: a STOP or START received before the contact's latest one (a provider's late retry, a
  // webhook the worker recorded late) changes nothing, here or on the conversation.
  const receivedAt = new Date(message.createdAt);
  let consentApplied = false;
  if (inbound.consent !== undefined && !inbound.optInOnlyIfOptedOut) {
    consentApplied = await setConsentOf(
      deps,
      inbound,
      inbound.consent === 'opt-out',
      receivedAt,
      message.conversationId,
    );
    if (consentApplied) contact = { ...contact, optedOut: inbound.consent === 'opt-out' };
  } else if (inbound.optInOnlyIfOptedOut) {
    // YES: an opt-in from a number that opted out, an ordinary message from anyone else.
    if (contact.optedOut) {
      consentApplied = await setConsentOf(deps, inbound, false, receivedAt, message.conversationId);
      if (consentApplied) contact = { ...contact, optedOut: false };
    } else {
      inbound = withoutKeyword(inbound);
    }
  }
  // A transcription that arrived before its voicemail was kept aside: pick it up now (and on
  // a retry of a delivery that died before it did).
  if (message.kind === 'voicemail' && (stored.created || !message.text))
    message = (await deps.store.takeLateText(message.id)) ?? message;

  // 3. The conversation: episode, promise and acknowledgement (optimistic concurrency).
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
  let outcome: { conversation: Conversation; ackRequested: boolean; delivered: string[] } | undefined;
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
  const { conversation } = outcome;

  // A known contact on a new channel, with a new name, or whose open conversation has just
  // learnt their language (it began with a photo or a call) is remembered as such, in one write
  // and only when something changed. After the conversation's write, so that the language is
  // the one it settled on; a crash before it is finished by the provider's retry.
  const learnt = conversation.localeDetected && conversation.locale !== contact?.locale;
  if (
    !claimedNew &&
    contact &&
    (!contact.channels.includes(inbound.channel) || (touch.name && touch.name !== contact.name) || learnt)
  ) {
    await deps.store.touchContact(inbound.contactKey, {
      ...touch,
      ...(learnt ? { locale: conversation.locale } : {}),
    });
  }

  // Once the message is applied, the mark that the link is written (carryFromAlias wrote it): a
  // crash before it leaves the link to the provider's retry, which takes over the other key's
  // consent and last ack again.
  if (linking && inbound.aliasKey) await deps.store.markAliasLinked(inbound.contactKey, inbound.aliasKey);

  // 4. The ack job: for a new pending ack, and again on a retry while it is still pending.
  const ack = conversation.ack;
  if (stored.created) deps.metrics.count('MessagesReceived', 1, { name: 'channel', value: inbound.channel });
  const owed = ack?.state === 'pending' && (outcome.ackRequested || !stored.created);
  // A new episode written where a BSUID alone led before the link (not a claim of its own, which
  // linkedSinceClaim read the link after): the link once more, before its job goes (a retry too).
  if (owed && !(claimedNew && conversation.id === candidateId))
    await linkedSinceWrite(deps, inbound, conversation);
  if (owed && queueNow(ack, deps)) {
    try {
      await deps.queue.enqueue({
        conversationId: conversation.id,
        episode: ack.episode,
        // A job the worker could not parse would never be sent: a long outbox goes the usual way.
        ...(outcome.delivered.length > 0 && outcome.delivered.length <= MAX_DELIVERED_IDS
          ? { delivered: outcome.delivered }
          : {}),
      });
    } catch (error) {
      // Recorded as pending before this send: the sweeper queues it once the queue is back.
      deps.log.warn('ack job not queued; the sweeper will retry', {
        conversationId: conversation.id,
        error: (error as Error).name,
      });
    }
  }

  return {
    kind: stored.created ? 'recorded' : 'duplicate',
    messageId: message.id,
    conversationId: conversation.id,
    receivedAt: message.createdAt,
    ack: ack?.state ?? null,
    replyBy: conversation.replyBy,
    promise: conversation.promise,
    locale: conversation.locale,
  };
}

/**
 * Whether the ack is pending and due: one held (`retryAt` ahead, its message recorded late) is
 * queued by the sweeper when due, not now (its job would only be dropped as not yet).
 */
function queueNow(
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
 * A voicemail's callback may not say who called: its contact is the one of the call it
 * belongs to (stored when the call came in).
 */
async function resolveVoicemailContact(
  deps: RecordInboundDeps,
  inbound: InboundMessage,
): Promise<InboundMessage> {
  // Twilio's recording callback names only the call (contact key `call:<CallSid>`).
  if (!inbound.callId || (inbound.contactKey && !inbound.contactKey.startsWith('call:'))) return inbound;
  const call = await deps.store.findByProviderId(inbound.provider, inbound.callId);
  if (!call) throw new UnknownCallError(inbound.callId);
  return {
    ...inbound,
    contactKey: call.contactKey,
    from: inbound.from || call.from,
    to: inbound.to || call.to,
  };
}

/** A voicemail for a call we never recorded: the provider retries, by then the call is stored. */
export class UnknownCallError extends NotYetError {
  constructor(callId: string) {
    super('UNKNOWN_CALL', `No call ${callId.slice(0, 8)}… is recorded yet`);
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
