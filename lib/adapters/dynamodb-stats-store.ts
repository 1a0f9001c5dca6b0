import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type Channel, ChannelSchema } from '#lib/domain/channel.ts';
import {
  COUNTERS,
  type Counts,
  emptyCounts,
  type Resolution,
  type ResolutionKey,
} from '#lib/domain/service-level.ts';
import type {
  ContactResolution,
  NotedResolution,
  ResolutionNoted,
  StatsDay,
  StatsStore,
} from '#lib/ports/stats-store.ts';
import { applied } from './dynamodb-conditional.ts';

// A redelivery comes from the publisher's retry or the sweeper, within minutes; an outbox stuck
// for weeks is an outage someone is fixing. Past this the marker expires (DynamoDB TTL).
const MARKER_DAYS = 35;
// Days read at once: a 92-day report is 92 Queries, a dozen at a time.
const READ_CONCURRENCY = 12;
const FCR = '#FCR#';
const SKIP = 'skip:';

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

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
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

  async readDays(dates: readonly string[], channel?: Channel): Promise<StatsDay[]> {
    const days: StatsDay[] = [];
    for (let i = 0; i < dates.length; i += READ_CONCURRENCY) {
      days.push(
        ...(await Promise.all(dates.slice(i, i + READ_CONCURRENCY).map((d) => this.#readDay(d, channel)))),
      );
    }
    return days;
  }

  async #readDay(date: string, channel: Channel | undefined): Promise<StatsDay> {
    const day: StatsDay = { date, channels: [], resolutions: [] };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          // No channel is a prefix of another, so "sms" finds the sms summary and its resolutions.
          KeyConditionExpression: channel ? 'pk = :pk AND begins_with(sk, :channel)' : 'pk = :pk',
          ExpressionAttributeValues: marshall({
            ':pk': `STATS#${date}`,
            ...(channel ? { ':channel': channel } : {}),
          }),
          ExclusiveStartKey: start,
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw);
        const sk = String(item.sk);
        const [skChannel] = sk.split('#');
        const parsed = ChannelSchema.safeParse(skChannel);
        if (!parsed.success || (channel && parsed.data !== channel)) continue;
        if (sk === parsed.data) day.channels.push({ channel: parsed.data, counts: countsOf(item) });
        else if (sk.startsWith(`${parsed.data}${FCR}`) && typeof item.resolvedAt === 'string')
          day.resolutions.push(resolutionOf(item, date, parsed.data));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return day;
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

function sizeOf(set: unknown): number {
  return set instanceof Set ? set.size : 0;
}

function notedResolutionOf(value: unknown): NotedResolution | null {
  const key = resolutionKeyOf(value);
  if (!key) return null;
  const { resolvedAt } = value as Record<string, unknown>;
  return typeof resolvedAt === 'string' ? { ...key, resolvedAt } : key;
}

function resolutionKeyOf(value: unknown): ResolutionKey | null {
  if (!value || typeof value !== 'object') return null;
  const { date, channel, conversationId } = value as Record<string, unknown>;
  const parsed = ChannelSchema.safeParse(channel);
  if (typeof date !== 'string' || typeof conversationId !== 'string' || !parsed.success) return null;
  return { date, channel: parsed.data, conversationId };
}

function countsOf(item: Record<string, unknown>): Counts {
  const counts = emptyCounts();
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number') continue;
    if ((COUNTERS as readonly string[]).includes(name)) counts[name as (typeof COUNTERS)[number]] = value;
    else if (name.startsWith(SKIP)) counts.skipped[name.slice(SKIP.length)] = value;
    else if (/^h\d+$/.test(name)) counts.histogram[Number(name.slice(1))] = value;
  }
  return counts;
}

function resolutionOf(item: Record<string, unknown>, date: string, channel: Channel): Resolution {
  return {
    date,
    channel,
    conversationId: String(item.conversationId),
    resolvedAt: String(item.resolvedAt),
    replies: typeof item.replies === 'number' ? item.replies : 0,
    ...(typeof item.followUpAt === 'string' ? { followUpAt: item.followUpAt } : {}),
    ...(typeof item.reopenedAt === 'string' ? { reopenedAt: item.reopenedAt } : {}),
  };
}
