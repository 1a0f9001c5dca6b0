import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ContactCarry, LastAck } from '#lib/ports/conversation-store.ts';

// The two contact writes a changed number makes (recordAliasChange), apart from the store's
// main file: what the new number's contact takes over from the one the person left.

/**
 * The contact created if needed (as a claim or a STOP creates it: no open conversation, not
 * opted out), the channel added, the name and language written only where it has none, the
 * conversation it takes over named (the latest change's):
 * unconditional, so a repeat writes the same, and a contact's own name, language, consent,
 * pointer and history are never overwritten. Returns the item as written (ALL_NEW).
 */
export function carryContactUpdate(
  table: string,
  key: string,
  carried: ContactCarry,
  now: Date,
): UpdateItemCommandInput {
  const names: Record<string, string> = { '#key': 'key', '#open': 'openConversationId' };
  const set = [
    '#key = :key',
    'createdAt = if_not_exists(createdAt, :now)',
    'updatedAt = :now',
    'optedOut = if_not_exists(optedOut, :false)',
    '#open = if_not_exists(#open, :null)',
  ];
  if (carried.name) {
    names['#name'] = 'name';
    set.push('#name = if_not_exists(#name, :name)');
  }
  if (carried.locale) {
    names['#locale'] = 'locale';
    set.push('#locale = if_not_exists(#locale, :locale)');
  }
  if (carried.conversationId) set.push('carriedConversationId = :carried');
  return {
    TableName: table,
    Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
    UpdateExpression: `SET ${set.join(', ')} ADD channels :channel`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(
      {
        ':key': key,
        ':now': now.toISOString(),
        ':false': false,
        ':null': null,
        ':channel': new Set([carried.channel]),
        ':name': carried.name,
        ':locale': carried.locale,
        ':carried': carried.conversationId,
      },
      { removeUndefinedValues: true },
    ),
    ReturnValues: 'ALL_NEW',
  };
}

/** The last acknowledgement on an existing contact, only forward (ISO times of one format compare as strings). */
export function keepLastAckUpdate(table: string, key: string, lastAck: LastAck): UpdateItemCommandInput {
  return {
    TableName: table,
    Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
    UpdateExpression: 'SET lastAckAt = :at, lastAckConversationId = :conversation',
    // A retry writes the same again.
    ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastAckAt) OR lastAckAt <= :at)',
    ExpressionAttributeValues: marshall({ ':at': lastAck.at, ':conversation': lastAck.conversationId }),
  };
}
