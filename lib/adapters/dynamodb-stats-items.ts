// How a service-level item reads back: a day's counters, a resolution, a stored resolution's key.

import { type Channel, ChannelSchema } from '#lib/domain/channel.ts';
import {
  COUNTERS,
  type Counts,
  emptyCounts,
  type Resolution,
  type ResolutionKey,
} from '#lib/domain/service-level.ts';
import type { NotedResolution } from '#lib/ports/stats-store.ts';

export const FCR = '#FCR#';
export const SKIP = 'skip:';

export function sizeOf(set: unknown): number {
  return set instanceof Set ? set.size : 0;
}

export function notedResolutionOf(value: unknown): NotedResolution | null {
  const key = resolutionKeyOf(value);
  if (!key) return null;
  const { resolvedAt } = value as Record<string, unknown>;
  return typeof resolvedAt === 'string' ? { ...key, resolvedAt } : key;
}

export function resolutionKeyOf(value: unknown): ResolutionKey | null {
  if (!value || typeof value !== 'object') return null;
  const { date, channel, conversationId } = value as Record<string, unknown>;
  const parsed = ChannelSchema.safeParse(channel);
  if (typeof date !== 'string' || typeof conversationId !== 'string' || !parsed.success) return null;
  return { date, channel: parsed.data, conversationId };
}

export function countsOf(item: Record<string, unknown>): Counts {
  const counts = emptyCounts();
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number') continue;
    if ((COUNTERS as readonly string[]).includes(name)) counts[name as (typeof COUNTERS)[number]] = value;
    else if (name.startsWith(SKIP)) counts.skipped[name.slice(SKIP.length)] = value;
    else if (/^h\d+$/.test(name)) counts.histogram[Number(name.slice(1))] = value;
  }
  return counts;
}

export function resolutionOf(item: Record<string, unknown>, date: string, channel: Channel): Resolution {
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
