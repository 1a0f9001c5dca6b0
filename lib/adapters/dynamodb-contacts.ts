// A contact's other writes: its alias keys, what a changed number carries, channels, last reply, consent.

import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Contact, OptOutReason } from '#lib/domain/contact.ts';
import type { ContactAlias, ContactCarry, ContactTouch, LastAck } from '#lib/ports/conversation-store.ts';
import { applied } from './dynamodb-conditional.ts';
import { carryContactUpdate, keepLastAckUpdate } from './dynamodb-contact-carry.ts';
import { MARSHALL, parseContact, StoreItems, strip } from './dynamodb-store-items.ts';

/** The contact item written field by field, and the alias items that lead to it. */
export class DynamoDbContacts extends StoreItems {
  async resolveAlias(aliasKey: string): Promise<ContactAlias | null> {
    const item = await this.item(`ALIAS#${aliasKey}`, 'ALIAS');
    return typeof item?.contactKey === 'string' && typeof item.address === 'string'
      ? { contactKey: item.contactKey, address: item.address }
      : null;
  }

  async linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void> {
    await this.writeAlias(aliasKey, alias, now);
    // Last: once the contact says so, no message carrying both keys writes the link again.
    await this.markAliasLinked(alias.contactKey, aliasKey);
  }

  async writeAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<string | null> {
    const at = now.toISOString();
    const key = marshall({ pk: `ALIAS#${aliasKey}`, sk: 'ALIAS' });
    // Unconditional in effect: Meta gives a BSUID to one number (a new number gets a new BSUID),
    // so the latest webhook that carries both is the truth. Written only when it leads elsewhere
    // (or nowhere) now, keeping where it led (`previousContactKey`); a repeat changes nothing.
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression:
            'SET #type = :type, previousContactKey = if_not_exists(contactKey, :none), contactKey = :contact, address = :address, updatedAt = :at, createdAt = if_not_exists(createdAt, :at)',
          ConditionExpression:
            'attribute_not_exists(contactKey) OR contactKey <> :contact OR address <> :address',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall({
            ':type': 'alias',
            ':contact': alias.contactKey,
            ':address': alias.address,
            ':at': at,
            ':none': '',
          }),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const led = Attributes ? unmarshall(Attributes).contactKey : undefined;
      return typeof led === 'string' && led !== alias.contactKey ? led : null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // It leads here already: what it replaced then (dynalite returns no item: one read).
      const item = error.Item ? unmarshall(error.Item) : await this.item(`ALIAS#${aliasKey}`, 'ALIAS');
      const previous = item?.previousContactKey;
      return typeof previous === 'string' && previous !== '' ? previous : null;
    }
  }

  async markAliasLinked(contactKey: string, aliasKey: string): Promise<void> {
    await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${contactKey}`, sk: 'CONTACT' }),
          UpdateExpression: 'ADD aliasKeys :alias',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':alias': new Set([aliasKey]) }),
        }),
      ),
    );
  }

  async carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand(carryContactUpdate(this.table, key, carried, now)),
    );
    if (!Attributes) throw new Error(`carry to contact ${key} returned no item`);
    return parseContact(strip(Attributes));
  }

  async keepLastAck(key: string, lastAck: LastAck): Promise<void> {
    await applied(this.client.send(new UpdateItemCommand(keepLastAckUpdate(this.table, key, lastAck))));
  }

  async touchContact(key: string, touch: ContactTouch): Promise<void> {
    const names: Record<string, string> = {
      ...(touch.name ? { '#name': 'name' } : {}),
      ...(touch.locale ? { '#locale': 'locale' } : {}),
    };
    const set = [
      'updatedAt = :now',
      ...(textedUs(touch.channel) ? ['textedAt = :now'] : []),
      ...(touch.mailed ? ['mailedAt = :now'] : []),
      ...(touch.name ? ['#name = :name'] : []),
      ...(touch.locale ? ['#locale = :locale'] : []),
    ];
    await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: `SET ${set.join(', ')} ADD channels :channel${textedUs(touch.channel) ? ' REMOVE noSmsAt' : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: marshall(
            {
              ':now': touch.now.toISOString(),
              ':channel': new Set([touch.channel]),
              ':name': touch.name,
              ':locale': touch.locale,
            },
            MARSHALL,
          ),
        }),
      ),
    );
  }

  async keepLastReply(key: string, at: Date, asked = true): Promise<void> {
    await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          // With it whether it asked something: lastPlainReplyAt is it only if it asked nothing
          // (unknown: asked, so a thanks after it stays open; see the contact's schema).
          UpdateExpression: asked
            ? 'SET lastReplyAt = :at REMOVE lastPlainReplyAt'
            : 'SET lastReplyAt = :at, lastPlainReplyAt = :at',
          // Only forward (ISO times of one format compare as strings); a retry is applied again.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastReplyAt) OR lastReplyAt <= :at)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString() }),
        }),
      ),
    );
  }

  async markNoSms(key: string, at: Date, sentAt: Date = at): Promise<void> {
    await applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET noSmsAt = :at',
          // The first report stands; Twilio's retry of the callback writes nothing. A report of an
          // SMS sent before the number texted us is out of date (it takes SMS): nothing either.
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(noSmsAt) AND ' +
            '(attribute_not_exists(textedAt) OR textedAt < :sent)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString(), ':sent': sentAt.toISOString() }),
        }),
      ),
    );
  }

  async setConsent(
    key: string,
    optedOut: boolean,
    at: Date,
    reason?: OptOutReason,
    sentAt?: Date,
  ): Promise<boolean> {
    // The customer's latest word wins, whatever order the webhooks are recorded in (ISO times of
    // one format compare as strings). The same time again is a retry: applied.
    let condition = 'attribute_not_exists(consentAt) OR consentAt <= :at';
    // The reason holds only beside the consent it was written with (Contact.optedOutReasonAt).
    const held = (value: string) => `(optedOutReason = ${value} AND optedOutReasonAt = consentAt)`;
    const values: Record<string, unknown> = { ':optedOut': optedOut, ':at': at.toISOString(), ':key': key };
    if (optedOut) {
      values[':reason'] = reason ?? 'stop';
      // A bounce, which the address's own mail lifts, never stands in for a STOP or a complaint
      // (nor for an older item's opt-out, read as a STOP), which mail must not lift.
      if (reason === 'bounce') {
        condition = `(${condition}) AND (attribute_not_exists(optedOut) OR optedOut = :false OR ${held(':reason')})`;
        // Nor when the address has mailed us since (Contact.mailedAt): its mailbox works. The bounce
        // is no older than the mail it bounced (a report's clock may say otherwise).
        condition += ' AND (attribute_not_exists(mailedAt) OR mailedAt <= :bounced)';
        values[':bounced'] = new Date(Math.max(at.getTime(), sentAt?.getTime() ?? 0)).toISOString();
      }
      // A complaint, which no mail lifts, also over a newer bounce or the lift of one (a mailbox
      // provider's report may come hours late): only a STOP or a complaint stands before it.
      if (reason === 'complaint') {
        condition = `${condition} OR optedOut = :false OR ${held(':bounce')}`;
        values[':bounce'] = 'bounce';
      }
    } else if (reason) {
      // Only an opt-out for `reason` is lifted; applied again for its retry (the same time, lifted).
      values[':reason'] = reason;
      condition = `(${condition}) AND (${held(':reason')} OR (optedOut = :false AND consentAt = :at))`;
    }
    if (condition.includes(':false')) values[':false'] = false;
    return applied(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression:
            'SET optedOut = :optedOut, consentAt = :at, updatedAt = :at, #key = :key, ' +
            'createdAt = if_not_exists(createdAt, :at), openConversationId = if_not_exists(openConversationId, :null)' +
            (optedOut
              ? ', optedOutReason = :reason, optedOutReasonAt = :at'
              : ' REMOVE optedOutReason, optedOutReasonAt'),
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: marshall({ ...values, ':null': null }),
        }),
      ),
    );
  }
}

/**
 * A number that texted us takes SMS, whatever the provider once reported (Contact.noSmsAt, a
 * landline): the claim or touch of its message forgets that, and notes when (textedAt: a late
 * report of an earlier SMS then writes nothing), in the same write.
 */
export function textedUs(channel: ContactTouch['channel']): boolean {
  return channel === 'sms' || channel === 'mms';
}
