import { type Contact, mayBeAlias } from '#lib/domain/contact.ts';
import {
  type Ack,
  type Conversation,
  consentFromElsewhere,
  lastReplyKept,
  lastSentAck,
  waitingForLinkedAck,
} from '#lib/domain/conversation.ts';
import { ackToWaitForAtLink, queuedAckOf } from '#lib/domain/linked-ack.ts';
import type { InboundMessage } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { updateConversation } from './conversation-writes.ts';

/** What the two-identities steps use of recordInbound's deps (RecordInboundDeps). */
type AliasDeps = { store: ConversationStore; clock: Clock };

// One person under two keys (a WhatsApp number and a BSUID): where a message under one of them
// is recorded, and what linking the two takes over (docs/store.md, recordInbound steps 0b, 1b, 3b).

/**
 * A message under a key that may be another key's alias (`whatsapp:<BSUID>`, a WhatsApp user
 * who hides their number), linked to a contact: recorded as that contact's, and answered where
 * its link says (the number: Meta's "Business-scoped user IDs" page has `to` take precedence
 * over `recipient`, and a message to the number keeps it in the user's next webhooks). One read,
 * only for such a message.
 */
export async function resolveAlias(deps: AliasDeps, inbound: InboundMessage): Promise<InboundMessage> {
  if (inbound.aliasKey !== undefined || !mayBeAlias(inbound.contactKey)) return inbound;
  const alias = await deps.store.resolveAlias(inbound.contactKey);
  if (!alias) return inbound;
  return { ...inbound, contactKey: alias.contactKey, from: alias.address, aliasKey: inbound.contactKey };
}

/**
 * A message under a key that may be another's alias, not linked when it was resolved, that has
 * just claimed a new conversation on its own contact (the first message of a WhatsApp user
 * known by their BSUID alone): the link is read once more. When a message naming both keys
 * wrote it meanwhile (Meta delivers two messages of theirs in parallel), the claim is given back
 * and the message goes where the link leads, into the conversation that message opens; one that
 * links after this read sees the claim (carryFromAlias). Null: recorded where it is.
 */
export async function linkedSinceClaim(
  deps: AliasDeps,
  inbound: InboundMessage,
  claim: { conversationId: string; contact: Contact },
  candidateId: string,
  now: Date,
): Promise<InboundMessage | null> {
  if (claim.conversationId !== candidateId || inbound.aliasKey !== undefined) return null;
  if (!mayBeAlias(inbound.contactKey)) return null;
  const linked = await resolveAlias(deps, inbound);
  if (linked.aliasKey === undefined) return null;
  await deps.store.releaseOpenConversation(
    inbound.contactKey,
    candidateId,
    now,
    null,
    claim.contact.claimToken ?? null,
  );
  return linked;
}

/**
 * A message under a key that may be another's alias, not linked when it was resolved, that has
 * just written a new waiting episode with its ack into a conversation that key already had (no
 * claim of its own, so linkedSinceClaim did not look): the link is read once more, after that
 * write. Linked meanwhile, the linking message may have read this conversation before the write
 * and queued an ack of its own at the number: this ack waits for the person's waiting episode
 * there (ackToWaitForAtLink), so one of the two goes. Not linked, a message that links later
 * reads this conversation after this write and sees the ack (carryFromAlias).
 */
export async function linkedSinceWrite(
  deps: AliasDeps,
  inbound: InboundMessage,
  written: Conversation,
): Promise<void> {
  const { ack } = written;
  if (inbound.aliasKey !== undefined || !mayBeAlias(inbound.contactKey) || !ack) return;
  const alias = await deps.store.resolveAlias(inbound.contactKey);
  if (!alias) return;
  // The linking message claimed there before it wrote the link.
  const claimedId = (await deps.store.getContact(alias.contactKey))?.openConversationId;
  if (!claimedId || claimedId === written.id) return;
  const other = await deps.store.getConversation(claimedId);
  const after = ackToWaitForAtLink(other, claimedId, alias.contactKey);
  if (!after) return;
  await updateConversation(deps.store, written.id, (current) =>
    current.ack?.episode === ack.episode ? waitingForLinkedAck(current, after) : current,
  );
}

/** What a contact takes over from the contact of its alias key when the two are linked. */
export type Carried = Partial<
  Pick<Contact, 'optedOut' | 'consentAt' | 'lastAckAt' | 'lastAckConversationId' | 'lastReplyAt'>
>;

export function withCarried(contact: Contact | null, carried: Carried): Contact | null {
  return contact && { ...contact, ...carried };
}

/** What the link takes over, and the other key's ack still queued there, which this episode's waits for. */
type CarriedOver = { carried: Carried; queuedAck?: Ack['after'] };

/**
 * Before the link is written, the other key's contact is read (once per link), and the contact
 * that key led to until now (a changed BSUID's: user_changed_user_id linked it to the old BSUID's
 * contact): its later STOP or START is the person's latest word (stored on this contact); its
 * last ack and our last reply, on the conversation still open there or on one that ended, hold
 * back a second ack so soon (the same rule as for a new conversation after a resolve). An ack
 * still queued there is named to this episode's (Ack.after), which the worker then sends only
 * if that one does not go. That open conversation is not merged: it stays where it is, answered
 * and ended as any other, and the person's next messages come here.
 */
export async function carryFromAlias(
  deps: AliasDeps,
  inbound: InboundMessage,
  contact: Contact,
  now: Date,
): Promise<CarriedOver> {
  if (!inbound.aliasKey) return { carried: {} };
  // The link first, before the other key's contact is read: a message with only that key that
  // claims a conversation there after this write finds it (linkedSinceClaim); one that claimed
  // before is seen below, its conversation maybe not written yet. It returns where the key led.
  const ledTo = await deps.store.writeAlias(
    inbound.aliasKey,
    { contactKey: inbound.contactKey, address: inbound.from },
    now,
  );
  const keys = [inbound.aliasKey, ledTo ?? undefined].filter(
    (key, index, all): key is string =>
      key !== undefined && key !== inbound.contactKey && all.indexOf(key) === index,
  );
  let over: CarriedOver = { carried: {} };
  for (const key of keys) {
    const other = await deps.store.getContact(key);
    if (!other) continue;
    const next = await carryFrom(deps, inbound, { ...contact, ...over.carried }, other);
    over = { carried: { ...over.carried, ...next.carried }, queuedAck: next.queuedAck ?? over.queuedAck };
  }
  return over;
}

/** What `contact` takes over from `other`, one of the person's other keys' contacts. */
async function carryFrom(
  deps: AliasDeps,
  inbound: InboundMessage,
  contact: Contact,
  other: Contact,
): Promise<CarriedOver> {
  const carried: Carried = {};
  if (other.consentAt && (!contact.consentAt || other.consentAt > contact.consentAt)) {
    if (await deps.store.setConsent(inbound.contactKey, other.optedOut, new Date(other.consentAt))) {
      Object.assign(carried, { optedOut: other.optedOut, consentAt: other.consentAt });
    }
  }
  let lastAck =
    other.lastAckAt && other.lastAckConversationId
      ? { at: other.lastAckAt, conversationId: other.lastAckConversationId }
      : null;
  let lastReplyAt = other.lastReplyAt ?? null;
  const open = other.openConversationId ? await deps.store.getConversation(other.openConversationId) : null;
  // A conversation claimed there and not written yet (its first message in flight): its ack, if
  // it gets one, is its first episode's.
  const queued = open
    ? queuedAckOf(open)
    : other.openConversationId
      ? { conversationId: other.openConversationId, episode: 1, contactKey: other.key }
      : undefined;
  if (open) {
    const sent = lastSentAck(open);
    if (sent && (!lastAck || sent.at > lastAck.at)) lastAck = sent;
    lastReplyAt = lastReplyKept(open, lastReplyAt ? { lastReplyAt } : null);
  }
  if (lastAck && (!contact.lastAckAt || lastAck.at > contact.lastAckAt)) {
    Object.assign(carried, { lastAckAt: lastAck.at, lastAckConversationId: lastAck.conversationId });
  }
  if (lastReplyAt && (!contact.lastReplyAt || lastReplyAt > contact.lastReplyAt)) {
    await deps.store.keepLastReply(inbound.contactKey, new Date(lastReplyAt));
    carried.lastReplyAt = lastReplyAt;
  }
  return { carried, ...(queued ? { queuedAck: queued } : {}) };
}

/**
 * A STOP or START holds for every key the message names the person by: the other key's contact
 * (a conversation still open there, its late notice) hears it too. One more write, on such a
 * message only.
 */
export async function setConsentOf(
  deps: AliasDeps,
  inbound: InboundMessage,
  optedOut: boolean,
  at: Date,
  conversationId: string,
): Promise<boolean> {
  const applied = await deps.store.setConsent(inbound.contactKey, optedOut, at);
  if (inbound.aliasKey && (await deps.store.setConsent(inbound.aliasKey, optedOut, at))) {
    // A conversation that key opened before the link, still open there: its pending ack and
    // late notice read consent from the conversation, so it hears the STOP (or START) too.
    const other = (await deps.store.getContact(inbound.aliasKey))?.openConversationId;
    if (other && other !== conversationId) {
      await updateConversation(deps.store, other, (current) =>
        consentFromElsewhere(current, optedOut, at.toISOString(), deps.clock.now()),
      );
    }
  }
  return applied;
}
