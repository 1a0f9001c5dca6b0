// Message items: stored once, moved between conversations, listed, found by provider id, completed late.

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { stableId } from '#lib/domain/ids.ts';
import { PREVIOUS_MAIL_ALIAS, sendingProvider } from '#lib/domain/mail-thread.ts';
import { type Message, MessageSchema } from '#lib/domain/message.ts';
import type { MessagePage } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';
import { marshallItem } from './dynamodb-marshall.ts';
import { StoreItems, strip } from './dynamodb-store-items.ts';

// How far back a reply on a chosen channel looks for the customer's address, and a page of it.
const MAX_LAST_INBOUND_LOOKBACK = 2_000;
const LAST_INBOUND_PAGE = 50;

/** Messages in their conversation (gsi1), one item each, conditional writes only. */
export class DynamoDbMessages extends StoreItems {
  async putMessage(message: Message): Promise<{ created: boolean; message: Message }> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          // The SDK's marshall, value for value, in a sixth of its CPU (dynamodb-marshall.ts).
          Item: marshallItem({ ...this.#messageKeys(message), type: 'message', ...message }) as Record<
            string,
            AttributeValue
          >,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, message };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.getMessage(message.id);
      if (!stored) throw error;
      return { created: false, message: stored };
    }
  }

  async getMessage(id: string): Promise<Message | null> {
    const item = await this.item(`MSG#${id}`, 'MSG');
    return item ? MessageSchema.parse(item) : null;
  }

  async repointMessage(messageId: string, from: string, to: string): Promise<Message> {
    const stored = await this.getMessage(messageId);
    if (!stored) throw new ConcurrentUpdateError(`message ${messageId}`);
    if (stored.conversationId !== from) return stored;
    try {
      // Only the fields that move, not the message put again: a field a newer release stored on
      // it (a rolling deploy, a rollback) stays, and so do the store's own (deliveryRank).
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET conversationId = :to, gsi1pk = :index',
          ConditionExpression: 'conversationId = :from',
          ExpressionAttributeValues: marshall({ ':from': from, ':to': to, ':index': `CONV#${to}` }),
        }),
      );
      return { ...stored, conversationId: to };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another delivery of the same message moved it first: it is where that one put it.
      const now = await this.getMessage(messageId);
      if (!now) throw new ConcurrentUpdateError(`message ${messageId}`);
      return now;
    }
  }

  async listMessages(conversationId: string, page: MessagePage): Promise<Message[]> {
    // Newest first, so that the first page is the latest messages; handed back oldest first.
    const before = page.before ? `${page.before.createdAt}#${page.before.id}` : undefined;
    const messages: Message[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: before ? 'gsi1pk = :pk AND gsi1sk < :before' : 'gsi1pk = :pk',
          ExpressionAttributeValues: marshall({
            ':pk': `CONV#${conversationId}`,
            ...(before ? { ':before': before } : {}),
          }),
          ScanIndexForward: false,
          Limit: page.limit - messages.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) messages.push(MessageSchema.parse(strip(item)));
      start = result.LastEvaluatedKey;
    } while (start && messages.length < page.limit);
    return messages.reverse();
  }

  async lastInboundOn(conversationId: string, channel: Message['channel']): Promise<Message | null> {
    // Newest first, a page at a time, until the first inbound message on the channel: usually
    // among the latest few. The filter only saves returning the others (they are still read),
    // so the look back is capped.
    let start: Record<string, AttributeValue> | undefined;
    let read = 0;
    do {
      const limit = Math.min(LAST_INBOUND_PAGE, MAX_LAST_INBOUND_LOOKBACK - read);
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          FilterExpression: '#direction = :inbound AND #channel = :channel',
          ExpressionAttributeNames: { '#direction': 'direction', '#channel': 'channel' },
          ExpressionAttributeValues: marshall({
            ':pk': `CONV#${conversationId}`,
            ':inbound': 'inbound',
            ':channel': channel,
          }),
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      const [item] = result.Items ?? [];
      if (item) return MessageSchema.parse(strip(item));
      read += result.ScannedCount ?? limit;
      start = result.LastEvaluatedKey;
    } while (start && read < MAX_LAST_INBOUND_LOOKBACK);
    return null;
  }

  async findByProviderId(provider: string, providerMessageId: string): Promise<Message | null> {
    const inbound = await this.getMessage(stableId('msg', `${provider}:${providerMessageId}`));
    if (inbound) return inbound;
    // A send's alias is under the provider that sent it; one the previous release wrote for a
    // Mailgun conversation's mail under `mailgun`: a third read, only when SES's id is not ours yet.
    const sender = sendingProvider(provider);
    const alias =
      (await this.item(`PMID#${sender}:${providerMessageId}`, 'PMID')) ??
      (sender === 'ses' ? await this.item(`PMID#${PREVIOUS_MAIL_ALIAS}:${providerMessageId}`, 'PMID') : null);
    return typeof alias?.messageId === 'string' ? this.getMessage(alias.messageId) : null;
  }

  async findSentMail(ids: readonly string[], providers: readonly string[]): Promise<Message | null> {
    // One read per alias tried, the way the mail came in first (the usual one), then the message:
    // two reads for a reply to our mail, none beyond the aliases for an id that is not ours.
    for (const id of ids) {
      for (const provider of providers) {
        const alias = await this.item(`PMID#${provider}:${id}`, 'PMID');
        if (typeof alias?.messageId !== 'string') continue;
        const message = await this.getMessage(alias.messageId);
        if (message?.direction === 'outbound' && message.channel === 'email') return message;
      }
    }
    return null;
  }

  async completeText(messageId: string, text: string): Promise<void> {
    // The late text is written first, then applied if the message exists: whichever of the
    // two writers comes second sees the other's write (see takeLateText).
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ pk: `LATETEXT#${messageId}`, sk: 'LATETEXT', type: 'late-text', text }),
      }),
    );
    await this.#applyText(messageId, text);
  }

  async takeLateText(messageId: string): Promise<Message | null> {
    const late = await this.item(`LATETEXT#${messageId}`, 'LATETEXT');
    if (typeof late?.text !== 'string') return null;
    return this.#applyText(messageId, late.text);
  }

  async #applyText(messageId: string, text: string): Promise<Message | null> {
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET #text = :text',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#text': 'text' },
          ExpressionAttributeValues: marshall({ ':text': text }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? MessageSchema.parse(strip(result.Attributes)) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  #messageKeys(message: Message): Record<string, string> {
    return {
      pk: `MSG#${message.id}`,
      sk: 'MSG',
      gsi1pk: `CONV#${message.conversationId}`,
      gsi1sk: `${message.createdAt}#${message.id}`,
    };
  }
}
