// The contact half of the bench's in-memory ConversationStore: contacts, their aliases and consent.
import { randomUUID } from 'node:crypto';
import type { Contact } from '#lib/domain/contact.ts';
import type {
  ContactAlias,
  ContactCarry,
  ContactKeeps,
  ContactTouch,
  LastAck,
  OpenConversationClaim,
} from '#lib/ports/conversation-store.ts';

/**
 * The contact items of MemoryConversationStore (memory-ports.ts), which extends it, with the
 * DynamoDB adapter's conditions on them.
 */
export class MemoryContacts {
  readonly #contacts = new Map<string, Contact>();
  readonly #consentAt = new Map<string, string>();
  readonly #contactAliases = new Map<string, ContactAlias & { previousContactKey?: string }>();

  async getContact(key: string): Promise<Contact | null> {
    return this.#contacts.get(key) ?? null;
  }

  async claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim> {
    const contact = this.#contacts.get(key);
    const open = contact?.openConversationId ?? null;
    const claimedSince = claimToken !== undefined && (contact?.claimToken ?? null) !== claimToken;
    if (contact && open !== null && (open !== replacing || claimedSince))
      return { conversationId: open, contact };
    const now = touch.now.toISOString();
    const claimed: Contact = {
      key,
      channels: [...new Set([...(contact?.channels ?? []), touch.channel])].sort(),
      openConversationId: candidateId,
      claimToken: randomUUID(),
      conversationIds: [
        ...(contact?.conversationIds ?? []),
        ...(replacing === candidateId ? [] : [candidateId]),
      ],
      optedOut: contact?.optedOut ?? false,
      createdAt: contact?.createdAt ?? now,
      updatedAt: now,
      ...(contact?.lastAckAt ? { lastAckAt: contact.lastAckAt } : {}),
      ...(contact?.lastAckConversationId ? { lastAckConversationId: contact.lastAckConversationId } : {}),
      ...(touch.lastAck
        ? { lastAckAt: touch.lastAck.at, lastAckConversationId: touch.lastAck.conversationId }
        : {}),
      ...((touch.lastReplyAt ?? contact?.lastReplyAt)
        ? { lastReplyAt: touch.lastReplyAt ?? contact?.lastReplyAt }
        : {}),
      ...((touch.locale ?? contact?.locale) ? { locale: touch.locale ?? contact?.locale } : {}),
      ...((touch.name ?? contact?.name) ? { name: touch.name ?? contact?.name } : {}),
    };
    this.#contacts.set(key, claimed);
    return { conversationId: candidateId, contact: claimed };
  }

  async resolveAlias(aliasKey: string): Promise<ContactAlias | null> {
    const alias = this.#contactAliases.get(aliasKey);
    return alias ? { contactKey: alias.contactKey, address: alias.address } : null;
  }

  async linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void> {
    await this.writeAlias(aliasKey, alias, now);
    await this.markAliasLinked(alias.contactKey, aliasKey);
  }

  async writeAlias(aliasKey: string, alias: ContactAlias, _now: Date): Promise<string | null> {
    const old = this.#contactAliases.get(aliasKey);
    if (old?.contactKey === alias.contactKey && old.address === alias.address)
      return old.previousContactKey || null;
    this.#contactAliases.set(aliasKey, { ...alias, previousContactKey: old?.contactKey ?? '' });
    return old && old.contactKey !== alias.contactKey ? old.contactKey : null;
  }

  async markAliasLinked(contactKey: string, aliasKey: string): Promise<void> {
    const contact = this.#contacts.get(contactKey);
    if (contact) {
      const aliasKeys = [...new Set([...(contact.aliasKeys ?? []), aliasKey])].sort();
      this.#contacts.set(contactKey, { ...contact, aliasKeys });
    }
  }

  async carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact> {
    const iso = now.toISOString();
    const contact = this.#contacts.get(key);
    const carriedTo: Contact = {
      channels: [],
      openConversationId: null,
      conversationIds: [],
      optedOut: false,
      createdAt: iso,
      ...(carried.name ? { name: carried.name } : {}),
      ...(carried.locale ? { locale: carried.locale } : {}),
      ...contact,
      ...(carried.conversationId ? { carriedConversationId: carried.conversationId } : {}),
      key,
      updatedAt: iso,
    };
    carriedTo.channels = [...new Set([...carriedTo.channels, carried.channel])].sort();
    this.#contacts.set(key, carriedTo);
    return carriedTo;
  }

  async keepLastAck(key: string, lastAck: LastAck): Promise<void> {
    const contact = this.#contacts.get(key);
    if (!contact || (contact.lastAckAt && contact.lastAckAt > lastAck.at)) return;
    this.#contacts.set(key, {
      ...contact,
      lastAckAt: lastAck.at,
      lastAckConversationId: lastAck.conversationId,
    });
  }

  async touchContact(key: string, touch: ContactTouch): Promise<void> {
    const contact = this.#contacts.get(key);
    if (!contact) return;
    this.#contacts.set(key, {
      ...contact,
      channels: [...new Set([...contact.channels, touch.channel])].sort(),
      updatedAt: touch.now.toISOString(),
      ...(touch.name ? { name: touch.name } : {}),
      ...(touch.locale ? { locale: touch.locale } : {}),
    });
  }

  async renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean> {
    const contact = this.#contacts.get(key);
    if (contact?.openConversationId !== conversationId || contact.claimToken !== claimToken) return false;
    this.#contacts.set(key, { ...contact, claimToken: randomUUID() });
    return true;
  }

  async releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void> {
    const lastAck = kept?.lastAck;
    const contact = this.#contacts.get(key);
    if (contact?.openConversationId !== conversationId) return;
    if (claimToken !== undefined && (contact.claimToken ?? null) !== claimToken) return;
    this.#contacts.set(key, {
      ...contact,
      openConversationId: null,
      updatedAt: now.toISOString(),
      ...(lastAck ? { lastAckAt: lastAck.at, lastAckConversationId: lastAck.conversationId } : {}),
      ...(kept?.lastReplyAt ? { lastReplyAt: kept.lastReplyAt } : {}),
    });
  }

  async keepLastReply(key: string, at: Date): Promise<void> {
    const contact = this.#contacts.get(key);
    const iso = at.toISOString();
    if (!contact || (contact.lastReplyAt && contact.lastReplyAt > iso)) return;
    this.#contacts.set(key, { ...contact, lastReplyAt: iso });
  }

  async markNoSms(key: string, at: Date): Promise<void> {
    const contact = this.#contacts.get(key);
    if (!contact || contact.noSmsAt) return;
    this.#contacts.set(key, { ...contact, noSmsAt: at.toISOString() });
  }

  async setConsent(key: string, optedOut: boolean, at: Date): Promise<boolean> {
    const contact = this.#contacts.get(key);
    const iso = at.toISOString();
    // As the DynamoDB store: consent only moves forward in time.
    const latest = this.#consentAt.get(key);
    if (latest !== undefined && latest > iso) return false;
    this.#consentAt.set(key, iso);
    this.#contacts.set(key, {
      channels: [],
      openConversationId: null,
      conversationIds: [],
      createdAt: iso,
      ...contact,
      key,
      optedOut,
      updatedAt: iso,
    });
    return true;
  }
}
