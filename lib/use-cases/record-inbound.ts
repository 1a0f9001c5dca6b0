import { LOCALES } from '#lib/domain/channel.ts';
import type { Contact } from '#lib/domain/contact.ts';
import type { AckState, Conversation } from '#lib/domain/conversation.ts';
import { newId } from '#lib/domain/ids.ts';
import { withoutKeyword } from '#lib/domain/keywords.ts';
import { detectLocale } from '#lib/domain/locale.ts';
import type { InboundMessage } from '#lib/domain/message.ts';
import { bounceLiftedBy, ownMail } from '#lib/domain/opt-out.ts';
import { markThanks } from '#lib/domain/thanks.ts';
import { MAX_DELIVERED_IDS } from '#lib/ports/ack-queue.ts';
import type { ContactTouch } from '#lib/ports/conversation-store.ts';
import {
  carryFromAlias,
  linkedSinceClaim,
  linkedSinceWrite,
  resolveAlias,
  setConsentOf,
} from './record-inbound-alias.ts';
import { applyToConversation, queueNow } from './record-inbound-conversation.ts';
import type { RecordInboundDeps } from './record-inbound-deps.ts';
import { editOfThanksRead } from './record-inbound-edit.ts';
import { inboundRecord, resolveVoicemailContact, SAME_MESSAGE_SECONDS } from './record-inbound-message.ts';
import { joinThread } from './record-inbound-thread.ts';
import { carriedSinceWrite } from './record-number-change.ts';

export type { RecordInboundDeps } from './record-inbound-deps.ts';

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
  // A message that only says thanks needs nobody's answer: recorded, never promised a reply.
  // Another address's mail answering our mail joins the conversation that mail went out in.
  const threaded = await joinThread(deps, await resolveVoicemailContact(deps, markThanks(received)));
  const read = await resolveAlias(deps, threaded);
  // An edit of their thanks into more than thanks is read as a new message (record-inbound-edit),
  // its original looked up under the contact the alias resolved to.
  let inbound = await editOfThanksRead(deps, read);
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
    // Their own mail: its mailbox works (Contact.mailedAt), on the claim or the touch below.
    ...(ownMail(inbound) ? { mailed: true } : {}),
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
  const stored = await deps.store.putMessage(
    inboundRecord(inbound, conversationId, now, deps.recordingClock?.now()),
  );
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
  } else if (bounceLiftedBy(inbound, contact, receivedAt)) {
    // Their own mail from an address our mail bounced at: it works. Automatic mail resumes, as
    // after a START, from this mail on (its ack included); the claim's contact said so, no read.
    consentApplied = await deps.store.setConsent(inbound.contactKey, false, receivedAt, 'bounce');
    if (consentApplied) {
      const { optedOutReason: _lifted, optedOutReasonAt: _liftedAt, ...kept } = contact;
      contact = { ...kept, optedOut: false, consentAt: receivedAt.toISOString() };
      inbound = { ...inbound, consent: 'opt-in' };
    }
  }
  // A transcription that arrived before its voicemail was kept aside: pick it up now (and on
  // a retry of a delivery that died before it did).
  if (message.kind === 'voicemail' && (stored.created || !message.text))
    message = (await deps.store.takeLateText(message.id)) ?? message;

  // 3. The conversation: episode, promise and acknowledgement (optimistic concurrency).
  const applied = await applyToConversation(deps, {
    inbound,
    message,
    contact,
    carried,
    claimedNew,
    candidateId,
    claiming,
    detected,
    consentApplied,
    queuedAck,
    now,
  });
  const { outcome } = applied;
  ({ message, contact } = applied);
  const { conversation } = outcome;

  // A known contact on a new channel, with a new name, or whose open conversation has just
  // learnt their language (it began with a photo or a call) is remembered as such, in one write
  // and only when something changed; so is their own mail's time (mailedAt: a late report of a
  // bounce before it opts nobody out). After the conversation's write, so that the language is
  // the one it settled on; a crash before it is finished by the provider's retry.
  const learnt = conversation.localeDetected && conversation.locale !== contact?.locale;
  // A provider's redelivery of a recorded mail is the same mail, not a newer one: no mailedAt.
  const mailed = touch.mailed === true && stored.created;
  if (
    !claimedNew &&
    contact &&
    (!contact.channels.includes(inbound.channel) ||
      (touch.name && touch.name !== contact.name) ||
      learnt ||
      mailed)
  ) {
    await deps.store.touchContact(inbound.contactKey, {
      ...touch,
      mailed,
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
  // A new wait on WhatsApp (or at a number that took a person over) may be recorded while, or
  // after, a number change takes the person over, in a conversation other than the one they wait
  // in: the contact once more, after its write (a retry too).
  if (owed && (inbound.channel === 'whatsapp' || contact?.carriedConversationId))
    await carriedSinceWrite(deps, inbound.contactKey, conversation);
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
