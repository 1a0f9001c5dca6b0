// The contact's pointer to its open conversation: the claim, its renewal and its release (ConversationStore).

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Contact, MAX_CONTACT_CONVERSATIONS } from '#lib/domain/contact.ts';
import type {
  ContactKeeps,
  ContactTouch,
  LastAck,
  OpenConversationClaim,
} from '#lib/ports/conversation-store.ts';
import { applied } from './dynamodb-conditional.ts';
import { textedUs } from './dynamodb-contacts.ts';
import { MARSHALL, parseContact, StoreItems, strip } from './dynamodb-store-items.ts';

// The contact's last acknowledgement and our last reply, written with the write that ends its
// conversation.
const LAST_ACK_UPDATE = ', lastAckAt = :lastAckAt, lastAckConversationId = :lastAckConversation';
const lastAckValues = (lastAck: LastAck) => ({
  ':lastAckAt': lastAck.at,
  ':lastAckConversation': lastAck.conversationId,
});
// Whether that reply asked something goes with it: lastPlainReplyAt is it only if it asked nothing
// (unknown: asked, so a thanks after it stays open; see the contact's schema).
const lastReplyUpdate = (asked = true) =>
  asked
    ? { set: ', lastReplyAt = :lastReplyAt', remove: 'lastPlainReplyAt' }
    : { set: ', lastReplyAt = :lastReplyAt, lastPlainReplyAt = :lastReplyAt', remove: null };
// Only forward, as keepLastReply: the value was read before this write, and an agent's follow-up
// kept on the contact meanwhile is newer (ISO times of one format compare as strings). Where it
// fails the write is tried once more without it, the newer reply kept. A reply kept as asking
// nothing goes only past the one kept, or onto itself kept so: never over the same reply kept
// since as asking or failed (a provider's report landing between the resolve's conversation write
// and this one, which the resolve built from what it read before that report).
const lastReplyForward = (asked = true) =>
  asked
    ? '(attribute_not_exists(lastReplyAt) OR lastReplyAt <= :lastReplyAt)'
    : '(attribute_not_exists(lastReplyAt) OR lastReplyAt < :lastReplyAt OR lastPlainReplyAt = :lastReplyAt)';

/** A contact read, and the one conversation it has open claimed or released. */
export class DynamoDbContactClaims extends StoreItems {
  async getContact(key: string): Promise<Contact | null> {
    const item = await this.item(`CONTACT#${key}`, 'CONTACT');
    return item ? parseContact(item) : null;
  }

  async claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim> {
    const now = touch.now.toISOString();
    const names: Record<string, string> = { '#open': 'openConversationId', '#key': 'key' };
    // A conversation claimed again (a reopen) is already in the contact's list.
    const listed = replacing === candidateId;
    const values: Record<string, unknown> = {
      ':candidate': candidateId,
      ':key': key,
      ':now': now,
      ':false': false,
      ':channel': new Set([touch.channel]),
      ...(listed ? {} : { ':none': [], ':ids': [candidateId] }),
      ':token': randomUUID(),
    };
    let update =
      'SET #open = :candidate, claimToken = :token, #key = :key, updatedAt = :now, createdAt = if_not_exists(createdAt, :now), ' +
      'optedOut = if_not_exists(optedOut, :false)' +
      (textedUs(touch.channel) ? ', textedAt = :now' : '') +
      (touch.mailed ? ', mailedAt = :now' : '') +
      (listed ? '' : ', conversationIds = list_append(if_not_exists(conversationIds, :none), :ids)') +
      ' ADD channels :channel';
    const removed = textedUs(touch.channel) ? ['noSmsAt'] : [];
    if (touch.name) {
      names['#name'] = 'name';
      values[':name'] = touch.name;
      update = update.replace(' ADD', ', #name = :name ADD');
    }
    if (touch.locale) {
      names['#locale'] = 'locale';
      values[':locale'] = touch.locale;
      update = update.replace(' ADD', ', #locale = :locale ADD');
    }
    if (touch.lastAck) {
      Object.assign(values, lastAckValues(touch.lastAck));
      update = update.replace(' ADD', `${LAST_ACK_UPDATE} ADD`);
    }
    if (touch.lastReplyAt) {
      values[':lastReplyAt'] = touch.lastReplyAt;
      const { set, remove } = lastReplyUpdate(touch.lastReplyAsked);
      update = update.replace(' ADD', `${set} ADD`);
      if (remove) removed.push(remove);
    }
    if (removed.length > 0) update += ` REMOVE ${removed.join(', ')}`;
    let condition = 'attribute_not_exists(#open) OR attribute_type(#open, :nullType)';
    values[':nullType'] = 'NULL';
    if (replacing) {
      // A stale pointer is taken over only if nobody claimed it since it was read.
      const unclaimed =
        claimToken === undefined
          ? ''
          : claimToken === null
            ? ' AND attribute_not_exists(claimToken)'
            : ' AND claimToken = :seen';
      condition += ` OR (#open = :replacing${unclaimed})`;
      values[':replacing'] = replacing;
      if (claimToken) values[':seen'] = claimToken;
    }
    if (touch.lastReplyAt) condition = `(${condition}) AND ${lastReplyForward(touch.lastReplyAsked)}`;
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, MARSHALL),
          ReturnValues: 'ALL_NEW',
          // Another conversation is open: DynamoDB says which in the same round trip.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!Attributes) throw new Error(`claim on contact ${key} returned no item`);
      const contact = parseContact(strip(Attributes));
      return { conversationId: candidateId, contact: await this.#trimConversationIds(key, contact) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Perhaps only our last reply was older than the contact's (or kept failed): the claim without it.
      if (touch.lastReplyAt)
        return this.claimOpenConversation(
          key,
          candidateId,
          { ...touch, lastReplyAt: null },
          replacing,
          claimToken,
        );
      // An emulator that does not return the item (dynalite) costs one read instead.
      const contact = error.Item ? parseContact(strip(error.Item)) : await this.getContact(key);
      if (contact?.openConversationId) return { conversationId: contact.openConversationId, contact };
      // The open conversation closed between our condition and our read: claim again.
      return this.claimOpenConversation(key, candidateId, touch, replacing, claimToken);
    }
  }

  async renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean> {
    return applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET claimToken = :fresh',
          ConditionExpression: 'openConversationId = :id AND claimToken = :token',
          ExpressionAttributeValues: marshall({
            ':fresh': randomUUID(),
            ':id': conversationId,
            ':token': claimToken,
          }),
        }),
      ),
    );
  }

  /**
   * Drops the oldest conversation ids once a contact holds 50 more than it keeps: one extra
   * write per 50 new conversations, only for the contacts that have that many. The kept ids are
   * written out (REMOVE by list index is read differently by emulators), under a condition on
   * the list's size, so that an append in between makes the trim skip rather than lose it.
   */
  async #trimConversationIds(key: string, contact: Contact): Promise<Contact> {
    const ids = contact.conversationIds;
    if (ids.length <= MAX_CONTACT_CONVERSATIONS + 50) return contact;
    const kept = ids.slice(-MAX_CONTACT_CONVERSATIONS);
    await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET conversationIds = :kept',
          ConditionExpression: 'size(conversationIds) = :size',
          ExpressionAttributeValues: marshall({ ':kept': kept, ':size': ids.length }),
        }),
      ),
    );
    return { ...contact, conversationIds: kept };
  }

  async releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void> {
    const lastAck = kept?.lastAck;
    const lastReplyAt = kept?.lastReplyAt;
    const reply = lastReplyAt ? lastReplyUpdate(kept?.lastReplyAsked) : { set: '', remove: null };
    // Already released, pointing at a newer conversation, or claimed again since: nothing to do.
    // (Or only our last reply was older than the contact's, or kept failed: released without it, below.)
    const claim =
      claimToken === undefined
        ? ''
        : claimToken === null
          ? ' AND attribute_not_exists(claimToken)'
          : ' AND claimToken = :token';
    const released = await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: `SET openConversationId = :null, updatedAt = :now${lastAck ? LAST_ACK_UPDATE : ''}${reply.set}${reply.remove ? ` REMOVE ${reply.remove}` : ''}`,
          ConditionExpression: `openConversationId = :id${claim}${lastReplyAt ? ` AND ${lastReplyForward(kept?.lastReplyAsked)}` : ''}`,
          ExpressionAttributeValues: marshall({
            ':null': null,
            ':now': now.toISOString(),
            ':id': conversationId,
            ...(claimToken ? { ':token': claimToken } : {}),
            ...(lastAck ? lastAckValues(lastAck) : {}),
            ...(lastReplyAt ? { ':lastReplyAt': lastReplyAt } : {}),
          }),
        }),
      ),
    );
    if (!released && lastReplyAt)
      await this.releaseOpenConversation(
        key,
        conversationId,
        now,
        { ...kept, lastReplyAt: null },
        claimToken,
      );
  }
}
