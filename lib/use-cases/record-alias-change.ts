import type { Contact } from '#lib/domain/contact.ts';
import { type Conversation, readdressed, takenOver } from '#lib/domain/conversation.ts';
import type { AliasChange } from '#lib/domain/message.ts';
import { updateConversation } from './conversation-writes.ts';
import { carryToNewNumber } from './record-number-change.ts';
import type { UpdateDeps, UpdateResult } from './record-updates.ts';

/**
 * A person's new key (a WhatsApp user's new BSUID) leads to their contact from now on: the one
 * the provider names, or the one their previous key led to (its link, else that key's own
 * contact), and a conversation open at the previous id is answered at the new one; after a
 * changed number, one open at the number they left or their old id is answered at the new
 * number, and the new number's contact takes the person over (carryToNewNumber: their consent,
 * last ack and that open conversation, which their next message from there joins). Nothing is
 * written for a previous key nobody has. Repeatable (linkAlias, readdressed, carryToNewNumber).
 */
export async function recordAliasChange(deps: UpdateDeps, change: AliasChange): Promise<UpdateResult> {
  const now = deps.clock.now();
  if (change.contactKey) {
    // The link first: a message under the new id alone finds the new number from now on.
    await deps.store.writeAlias(
      change.aliasKey,
      { contactKey: change.contactKey, address: change.address },
      now,
    );
    // One read per key left (two at most); writes only where a contact is there.
    for (const key of change.movedFrom ?? []) {
      const left = await deps.store.getContact(key);
      if (!left) continue;
      const open = await answerElsewhere(deps, change, key, change.address, left, change.contactKey);
      await carryToNewNumber(deps, change.contactKey, left, open, now);
    }
    // Last, once the new number's contact exists (when something was carried to it): its mark.
    await deps.store.markAliasLinked(change.contactKey, change.aliasKey);
    return { kind: 'applied' };
  }
  if (!change.previousKey) return { kind: 'unknown' };
  const previous = await deps.store.resolveAlias(change.previousKey);
  // The previous id's own contact: answered at that id (a conversation it opened before a link
  // to a number too, still open there).
  const own = await deps.store.getContact(change.previousKey);
  // A number stays the address (the id changed, not the number); an id-only contact is answered
  // at the new id.
  const alias = previous ?? (own ? { contactKey: change.previousKey, address: change.address } : null);
  if (!alias) return { kind: 'unknown' };
  await deps.store.linkAlias(change.aliasKey, alias, now);
  const to = change.aliasKey.slice(change.aliasKey.indexOf(':') + 1);
  await answerElsewhere(deps, change, change.previousKey, to, own);
  return { kind: 'applied' };
}

/**
 * The conversation open on `key`'s contact, when answered at that key (the part after `whatsapp:`
 * or `phone:`), is answered at `to` from now: one conditional write, none when nothing is open.
 * After a changed number, the same write names the new number's contact (`taker`) on it, which
 * takes it over next (carryToNewNumber), so that its resolve and reopen reach that contact too.
 * Returns that conversation as it stands now (null: none).
 */
async function answerElsewhere(
  deps: UpdateDeps,
  change: AliasChange,
  key: string,
  to: string,
  contact: Contact | null,
  taker?: string,
): Promise<Conversation | null> {
  if (!contact?.openConversationId) return null;
  const from = key.slice(key.indexOf(':') + 1);
  return updateConversation(deps.store, contact.openConversationId, (current) => {
    const answered = readdressed(current, { channel: 'whatsapp', provider: change.provider, from, to });
    return taker ? takenOver(answered, taker) : answered;
  });
}
