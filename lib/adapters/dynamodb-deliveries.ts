// What providers' callbacks and retries leave: id aliases, held statuses, first-delivery claims, replays.

import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { sendingProvider } from '#lib/domain/mail-thread.ts';
import {
  type DeliveryStatus,
  type DeliveryUpdate,
  DeliveryUpdateSchema,
  type Message,
  MessageSchema,
} from '#lib/domain/message.ts';
import { applied } from './dynamodb-conditional.ts';
import { StoreItems, strip } from './dynamodb-store-items.ts';

// Later states win; callbacks arrive duplicated and out of order. A failure outranks "sent"
// but not "delivered" (a late failure callback for a delivered message is noise).
const DELIVERY_RANK: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  undelivered: 2,
  failed: 2,
  delivered: 3,
  read: 4,
};

/** Items keyed by what a provider sent (its message id, a same-message key, a replay key). */
export class DynamoDbDeliveries extends StoreItems {
  async putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null> {
    // An update, not a put: a delivery update held here before the alias existed stays until
    // it is applied (a worker that dies before applying it leaves it for the next one). Under
    // the provider that sent it (a Mailgun conversation's mail is SES's), where its reports look.
    const result = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `PMID#${sendingProvider(provider)}:${providerMessageId}`, sk: 'PMID' }),
        UpdateExpression: 'SET #type = :alias, messageId = :messageId REMOVE expiresAt',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: marshall({ ':alias': 'alias', ':messageId': messageId }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    const early = result.Attributes ? strip(result.Attributes).early : undefined;
    const parsed = DeliveryUpdateSchema.safeParse(early);
    return parsed.success ? parsed.data : null;
  }

  async claimSameMessage(
    key: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string }> {
    // One write whichever delivery comes first: the first one's names stay, the others read them.
    // Each delivery moves the expiry on (no condition: an expired item TTL has not removed yet
    // still names the first delivery rightly).
    return (
      (await this.#keepFirstProviderId(
        `SAMEMSG#${key}`,
        'SAMEMSG',
        'same-message',
        first,
        ttlSeconds,
        now,
      )) ?? first
    );
  }

  async sameMessage(key: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return providerIdOf(await this.item(`SAMEMSG#${key}`, 'SAMEMSG'));
  }

  /**
   * Names a provider's id under `pk` unless one is there already (the first stays), moving the
   * item's expiry on; returns the id the item holds after the write.
   */
  async #keepFirstProviderId(
    pk: string,
    sk: string,
    type: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string } | null> {
    const result = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk, sk }),
        UpdateExpression:
          'SET #type = :type, provider = if_not_exists(provider, :provider), providerMessageId = if_not_exists(providerMessageId, :id), expiresAt = :expiresAt',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: marshall({
          ':type': type,
          ':provider': first.provider,
          ':id': first.providerMessageId,
          ':expiresAt': Math.ceil(now.getTime() / 1000) + ttlSeconds,
        }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return providerIdOf(result.Attributes ? strip(result.Attributes) : null);
  }

  async holdDelivery(update: DeliveryUpdate, ttlSeconds: number, now: Date): Promise<boolean> {
    const key = { pk: `PMID#${update.provider}:${update.providerMessageId}`, sk: 'PMID' };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(key),
          UpdateExpression: 'SET #type = :held, early = :update, earlyRank = :rank, expiresAt = :expiresAt',
          // The alias came meanwhile: the caller looks again. A later state already held stays.
          ConditionExpression:
            'attribute_not_exists(messageId) AND (attribute_not_exists(earlyRank) OR earlyRank < :rank)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall(
            {
              ':held': 'held-delivery',
              ':update': update,
              ':rank': DELIVERY_RANK[update.status],
              ':expiresAt': Math.ceil(now.getTime() / 1000) + ttlSeconds,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.item(key.pk, key.sk);
      return typeof item?.messageId !== 'string';
    }
  }

  async noteReportedSend(
    report: { messageId: string; provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<void> {
    // The first report stays: a message sent twice (a resend after the wait) reached the customer
    // under the first id first.
    await this.#keepFirstProviderId(
      `SENT#${report.messageId}`,
      'SENT',
      'reported-send',
      report,
      ttlSeconds,
      now,
    );
  }

  async reportedSend(messageId: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return providerIdOf(await this.item(`SENT#${messageId}`, 'SENT'));
  }

  async updateDelivery(messageId: string, update: DeliveryUpdate): Promise<Message | null> {
    const rank = DELIVERY_RANK[update.status];
    const delivery = {
      status: update.status,
      updatedAt: update.at,
      ...(update.errorCode ? { errorCode: update.errorCode } : {}),
    };
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET delivery = :delivery, deliveryRank = :rank',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(deliveryRank) OR deliveryRank < :rank)',
          ExpressionAttributeValues: marshall({ ':delivery': delivery, ':rank': rank }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? MessageSchema.parse(strip(result.Attributes)) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async bindOnce(key: string, content: string, ttlSeconds: number, now: Date): Promise<boolean> {
    return applied(
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: `REPLAY#${key}`,
            sk: 'REPLAY',
            type: 'replay',
            content,
            expiresAt: Math.ceil(now.getTime() / 1000) + ttlSeconds,
          }),
          // An expired record may linger until DynamoDB's TTL removes it: it no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR content = :content',
          ExpressionAttributeValues: marshall({
            ':now': Math.floor(now.getTime() / 1000),
            ':content': content,
          }),
        }),
      ),
    );
  }
}

/** The provider's id an item names (`provider`, `providerMessageId`), or null. */
function providerIdOf(item: Record<string, unknown> | null | undefined): {
  provider: string;
  providerMessageId: string;
} | null {
  return typeof item?.provider === 'string' && typeof item.providerMessageId === 'string'
    ? { provider: item.provider, providerMessageId: item.providerMessageId }
    : null;
}
