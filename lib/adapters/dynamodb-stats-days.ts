// Reading the service-level report's days: one Query (paged) per day, a dozen days at a time.

import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type Channel, ChannelSchema } from '#lib/domain/channel.ts';
import type { StatsDay } from '#lib/ports/stats-store.ts';
import { countsOf, FCR, resolutionOf } from './dynamodb-stats-items.ts';

// Days read at once: a 92-day report is 92 Queries, a dozen at a time.
const READ_CONCURRENCY = 12;

/** DynamoDbStatsStore's readDays (see its layout). */
export class DynamoDbStatsDays {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
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
}
