// The service-level store: event markers, day counters, resolutions; reading days is dynamodb-stats-days.ts.

import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Channel } from '#lib/domain/channel.ts';
import { COUNTERS, type Counts, type Resolution, type ResolutionKey } from '#lib/domain/service-level.ts';
import type {
  ContactResolution,
  NotedResolution,
  ResolutionNoted,
  StatsDay,
  StatsStore,
} from '#lib/ports/stats-store.ts';
import { applied } from './dynamodb-conditional.ts';
import { DynamoDbStatsDays } from './dynamodb-stats-days.ts';
import { FCR, notedResolutionOf, resolutionKeyOf, SKIP, sizeOf } from './dynamodb-stats-items.ts';

// A redelivery comes from the publisher's retry or the sweeper, within minutes; an outbox stuck
// for weeks is an outage someone is fixing. Past this the marker expires (DynamoDB TTL).
const MARKER_DAYS = 35;

const expiry = (now: Date, days: number) => Math.floor(now.getTime() / 1000) + days * 24 * 60 * 60;

/**
 * Service-level items in the single table:
 * - day summary     pk STATS#<date>   sk <channel>                     counters (ADD), skip:<reason>, h<bucket>
 * - resolution      pk STATS#<date>   sk <channel>#FCR#<conversationId>
 * - event marker    pk STATSEVT#<id>  sk STATS   (TTL 35 days)         written once, before the event's ADD
 * - conversation    pk STATSCONV#<id> sk STATS   replyIds (string set), resolution (its latest record, with resolvedAt), reopenedAt
 * - contact         pk STATSCONTACT#<key> sk STATS   lastOpenedAt, lastResolution
 * A day is one partition: reading it is one Query (paged), never a Scan.
 */
export class DynamoDbStatsStore implements StatsStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #days: DynamoDbStatsDays;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#days = new DynamoDbStatsDays(options);
  }

  async claimEvent(eventId: string, now: Date): Promise<boolean> {
    return applied(
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({
            pk: `STATSEVT#${eventId}`,
            sk: 'STATS',
            type: 'stats-event',
            countedAt: now.toISOString(),
            expiresAt: expiry(now, MARKER_DAYS),
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async releaseEvent(eventId: string): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({
        TableName: this.#table,
        Key: marshall({ pk: `STATSEVT#${eventId}`, sk: 'STATS' }),
      }),
    );
  }

  async addToDay(date: string, channel: Channel, counts: Counts): Promise<void> {
    const adds: Array<[string, number]> = [
      ...COUNTERS.map((counter) => [counter, counts[counter]] as [string, number]),
      ...Object.entries(counts.skipped).map(([reason, n]) => [`${SKIP}${reason}`, n] as [string, number]),
      ...Object.entries(counts.histogram).map(([bucket, n]) => [`h${bucket}`, n] as [string, number]),
    ].filter(([, n]) => n !== 0);
    const names: Record<string, string> = { '#type': 'type', '#date': 'date', '#channel': 'channel' };
    const values: Record<string, unknown> = { ':type': 'stats-day', ':date': date, ':channel': channel };
    adds.forEach(([name, n], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = n;
    });
    const add = adds.map((_, i) => `#a${i} :a${i}`).join(', ');
    await this.#update(
      { pk: `STATS#${date}`, sk: channel },
      `SET #type = :type, #date = :date, #channel = :channel${add ? ` ADD ${add}` : ''}`,
      { names, values },
    );
  }

  async addReply(
    conversationId: string,
    messageId: string,
  ): Promise<{ replies: number; resolution: ResolutionKey | null }> {
    const item = await this.#update(
      { pk: `STATSCONV#${conversationId}`, sk: 'STATS' },
      'ADD replyIds :ids',
      { values: { ':ids': new Set([messageId]) } },
      'ALL_NEW',
    );
    return { replies: sizeOf(item?.replyIds), resolution: resolutionKeyOf(item?.resolution) };
  }

  async noteResolved(conversationId: string, resolution: ContactResolution): Promise<ResolutionNoted> {
    const key = { pk: `STATSCONV#${conversationId}`, sk: 'STATS' };
    let item: Record<string, unknown> | undefined;
    try {
      // Only forwards (a pointer stored before resolvedAt was kept, or a reopening's old null, has
      // none): the latest resolution's record is the one a later reply updates.
      item = await this.#update(
        key,
        'SET resolution = :resolution',
        {
          values: { ':resolution': resolution, ':at': resolution.resolvedAt },
          condition: 'attribute_not_exists(resolution.resolvedAt) OR resolution.resolvedAt <= :at',
        },
        'ALL_OLD',
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      item = await this.#get(key);
    }
    return {
      replies: sizeOf(item?.replyIds),
      previous: notedResolutionOf(item?.resolution),
      reopenedAt: typeof item?.reopenedAt === 'string' ? item.reopenedAt : null,
    };
  }

  async noteReopened(conversationId: string, reopenedAt: string): Promise<NotedResolution | null> {
    try {
      const item = await this.#update(
        { pk: `STATSCONV#${conversationId}`, sk: 'STATS' },
        'SET reopenedAt = :at',
        { values: { ':at': reopenedAt }, condition: 'attribute_not_exists(reopenedAt) OR reopenedAt < :at' },
        'ALL_NEW',
      );
      return notedResolutionOf(item?.resolution);
    } catch (error) {
      // Delivered again, or after a later reopening: that one marked what was to be marked.
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async noteContactOpened(contactKey: string, openedAt: string): Promise<ContactResolution | null> {
    const key = { pk: `STATSCONTACT#${contactKey}`, sk: 'STATS' };
    let item: Record<string, unknown> | undefined;
    try {
      // Only forwards: a redelivered older opening must not hide a newer one from a resolution.
      item = await this.#update(
        key,
        'SET lastOpenedAt = :at',
        {
          values: { ':at': openedAt },
          condition: 'attribute_not_exists(lastOpenedAt) OR lastOpenedAt < :at',
        },
        'ALL_NEW',
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      item = await this.#get(key);
    }
    const last = item?.lastResolution as Record<string, unknown> | undefined;
    const resolution = resolutionKeyOf(last);
    return resolution && typeof last?.resolvedAt === 'string'
      ? { ...resolution, resolvedAt: last.resolvedAt }
      : null;
  }

  async noteContactResolved(contactKey: string, resolution: ContactResolution): Promise<string | null> {
    const item = await this.#update(
      { pk: `STATSCONTACT#${contactKey}`, sk: 'STATS' },
      'SET lastResolution = :resolution',
      { values: { ':resolution': resolution } },
      'ALL_NEW',
    );
    return typeof item?.lastOpenedAt === 'string' ? item.lastOpenedAt : null;
  }

  async putResolution(resolution: Resolution): Promise<void> {
    // An update, not a put: a follow-up or reopening another event already noted here stays. One
    // record per conversation and day: a resolution after a reopening the same day moves it
    // forward (the reopening, now before resolvedAt, no longer counts); an earlier one delivered
    // late changes nothing.
    const { followUpAt, reopenedAt, resolvedAt, replies } = resolution;
    await applied(
      this.#upsertResolution(
        resolution,
        'resolvedAt = :resolvedAt, replies = :replies' +
          (followUpAt ? ', followUpAt = if_not_exists(followUpAt, :followUpAt)' : '') +
          (reopenedAt ? ', reopenedAt = :reopenedAt' : ''),
        {
          ':resolvedAt': resolvedAt,
          ':replies': replies,
          ...(followUpAt ? { ':followUpAt': followUpAt } : {}),
          ...(reopenedAt ? { ':reopenedAt': reopenedAt } : {}),
        },
        'attribute_not_exists(resolvedAt) OR resolvedAt <= :resolvedAt',
      ),
    );
  }

  async markResolution(
    key: ResolutionKey,
    mark: { followUpAt: string } | { reopenedAt: string } | { replies: number },
  ): Promise<void> {
    if ('followUpAt' in mark)
      await this.#upsertResolution(key, 'followUpAt = if_not_exists(followUpAt, :at)', {
        ':at': mark.followUpAt,
      });
    else if ('reopenedAt' in mark)
      // Only a resolution made before the reopening and not yet reopened since: a reopening
      // delivered again (or late) must not undo the resolution that followed it.
      await applied(
        this.#upsertResolution(
          key,
          'reopenedAt = :at',
          { ':at': mark.reopenedAt },
          'resolvedAt < :at AND (attribute_not_exists(reopenedAt) OR reopenedAt <= resolvedAt)',
        ),
      );
    else await this.#upsertResolution(key, 'replies = :replies', { ':replies': mark.replies });
  }

  readDays(dates: readonly string[], channel?: Channel): Promise<StatsDay[]> {
    return this.#days.readDays(dates, channel);
  }

  async #upsertResolution(
    key: ResolutionKey,
    set: string,
    values: Record<string, unknown>,
    condition?: string,
  ): Promise<void> {
    await this.#update(
      { pk: `STATS#${key.date}`, sk: `${key.channel}${FCR}${key.conversationId}` },
      `SET #type = :type, conversationId = :conversationId, #channel = :channel, ${set}`,
      {
        names: { '#type': 'type', '#channel': 'channel' },
        values: {
          ':type': 'stats-resolution',
          ':conversationId': key.conversationId,
          ':channel': key.channel,
          ...values,
        },
        ...(condition ? { condition } : {}),
      },
    );
  }

  async #get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(key), ConsistentRead: true }),
    );
    return Item ? unmarshall(Item) : undefined;
  }

  async #update(
    key: { pk: string; sk: string },
    expression: string,
    options: { names?: Record<string, string>; values: Record<string, unknown>; condition?: string },
    returnValues: 'NONE' | 'ALL_NEW' | 'ALL_OLD' = 'NONE',
  ): Promise<Record<string, unknown> | undefined> {
    const { Attributes } = await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall(key),
        UpdateExpression: expression,
        ...(options.condition ? { ConditionExpression: options.condition } : {}),
        ...(options.names ? { ExpressionAttributeNames: options.names } : {}),
        ExpressionAttributeValues: marshall(options.values, { removeUndefinedValues: true }),
        ReturnValues: returnValues,
      }),
    );
    return Attributes ? unmarshall(Attributes) : undefined;
  }
}
