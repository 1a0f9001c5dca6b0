import type { Contact } from '#lib/domain/contact.ts';
import {
  type Conversation,
  consentFromElsewhere,
  type LastAck,
  lastReplyKept,
  lastSentAck,
  waitingForLinkedAck,
} from '#lib/domain/conversation.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { updateConversation } from './conversation-writes.ts';

// A WhatsApp user who changed their number (Meta's `user_changed_number`): the new number's
// contact takes over the person from the contacts they left (docs/channels.md, WhatsApp
// identities). Single-item writes only, each repeatable: the same system message again, or its
// retry after a crash between two of them, writes the same or nothing.

type CarryDeps = { store: ConversationStore };

/**
 * What the new number's contact (`to`) takes over from `left`, a contact of the number or id the
 * person left, whose open conversation (readdressed to the new number) is `open`:
 * 1. the contact itself, created if needed, with their name and language where it has none;
 * 2. their last ack and our last reply, each only where later than its own (the quiet times
 *    after them hold at the new number);
 * 3. their STOP or START, only where later than its own (a START said at the new number after
 *    the change stands), also heard by a conversation the new number has open of its own;
 * 4. last, their open conversation: the new number's pointer, so that their next message there
 *    joins it (no second conversation, no second ack for the same wait). A pointer the new number
 *    holds already is never taken over: one to a conversation still open there keeps it (their
 *    acks then go once: its pending ack waits for the one of the wait they left), one to a
 *    resolved conversation is replaced, as their own next message would replace it.
 * Consent before the pointer: a message that joins through the pointer already sees it.
 */
export async function carryToNewNumber(
  deps: CarryDeps,
  to: string,
  left: Contact,
  open: Conversation | null,
  now: Date,
): Promise<void> {
  // Named before the pointer is read (adopt): a first message of theirs in a conversation of its
  // own, written after that read, finds it (carriedSinceWrite).
  const taken = open?.status === 'open' ? open.id : undefined;
  const contact = await deps.store.carryContact(
    to,
    { channel: 'whatsapp', name: left.name, locale: left.locale, conversationId: taken },
    now,
  );
  const lastAck = latestAck(left, open);
  if (lastAck && (!contact.lastAckAt || lastAck.at > contact.lastAckAt)) {
    await deps.store.keepLastAck(to, lastAck);
  }
  const lastReplyAt = open ? lastReplyKept(open, left) : (left.lastReplyAt ?? null);
  if (lastReplyAt && (!contact.lastReplyAt || lastReplyAt > contact.lastReplyAt)) {
    await deps.store.keepLastReply(to, new Date(lastReplyAt));
  }
  // The same time again (a repeat, a retry after a crash before the conversation heard it) is
  // written again: setConsent applies it, consentFromElsewhere changes nothing the second time.
  const { consentAt } = left;
  if (consentAt && (!contact.consentAt || consentAt >= contact.consentAt)) {
    const applied = await deps.store.setConsent(to, left.optedOut, new Date(consentAt));
    const own = contact.openConversationId;
    if (applied && own && own !== open?.id) {
      await updateConversation(deps.store, own, (current) =>
        consentFromElsewhere(current, left.optedOut, consentAt, now),
      );
    }
  }
  if (open?.status === 'open') await adopt(deps, to, open, now);
}

/** The later of the contact's last ack and the one sent on its open conversation. */
function latestAck(left: Contact, open: Conversation | null): LastAck | null {
  const kept = left.lastAckAt && left.lastAckConversationId;
  const onContact = kept ? { at: left.lastAckAt as string, conversationId: kept } : null;
  const onOpen = open && lastSentAck(open);
  if (!onOpen) return onContact;
  return onContact && onContact.at > onOpen.at ? onContact : onOpen;
}

/** Step 4: `open` becomes the new number's open conversation, unless it has one of its own. */
async function adopt(deps: CarryDeps, to: string, open: Conversation, now: Date): Promise<void> {
  const touch = { channel: 'whatsapp' as const, now };
  const claim = await deps.store.claimOpenConversation(to, open.id, touch);
  if (claim.conversationId === open.id) return;
  // The contact (its claim token) as it stood before this read of its conversation.
  const own = await deps.store.getConversation(claim.conversationId);
  if (own && own.status !== 'open') {
    // Resolved, its pointer not released yet: replaced only if nobody claimed it since.
    await deps.store.claimOpenConversation(to, open.id, touch, own.id, claim.contact.claimToken ?? null);
    return;
  }
  // Its own conversation, open: not merged, but while the person still waits in the one they
  // left, its pending ack goes only if that wait's does not. One only claimed (not written yet)
  // is its message's to tie: that message reads the contact after its write (carriedSinceWrite).
  if (own) await waitForTheWaitLeft(deps, own, open);
}

/**
 * While the person still waits in `left` (the conversation open at the number they left), the
 * pending ack of `own`'s waiting episode (a conversation of the new number's own) goes only if
 * that wait's ack does not (Ack.after; the worker's linkedAckVerdict). One conditional write,
 * none when there is nothing to tie; a repeat changes nothing.
 */
async function waitForTheWaitLeft(deps: CarryDeps, own: Conversation, left: Conversation): Promise<void> {
  if (left.status !== 'open' || left.awaitingSince === null) return;
  const { ack } = own;
  await updateConversation(
    deps.store,
    own.id,
    (current) =>
      current.ack?.episode === ack?.episode
        ? waitingForLinkedAck(current, { conversationId: left.id, episode: left.episode })
        : current,
    own,
  );
}

/**
 * A message that has written a wait with its ack pending, on WhatsApp (or at a number that took a
 * person over): its contact is read once more. A number change that read that conversation
 * before this write (adopt saw it only claimed, or not yet waiting: the first message naming the
 * new number and its BSUID, or a new wait in a conversation the new number already had open), or
 * that ended before this message came, had named the conversation it took over on the contact
 * first: while the person still waits there, this ack waits for that wait's. One that read it
 * after the write tied the two itself. One GetItem, on a WhatsApp message with an ack owed (once
 * a waiting episode); one more read, and one conditional write, only after a number change.
 */
export async function carriedSinceWrite(
  deps: CarryDeps,
  contactKey: string,
  written: Conversation,
): Promise<void> {
  if (written.ack?.state !== 'pending') return;
  const carried = (await deps.store.getContact(contactKey))?.carriedConversationId;
  if (!carried || carried === written.id) return;
  const left = await deps.store.getConversation(carried);
  if (left) await waitForTheWaitLeft(deps, written, left);
}
