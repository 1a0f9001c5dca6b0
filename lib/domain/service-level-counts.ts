// A day's service-level counters and first-reply histogram: adding them up, reading percentiles.

import type { Calendar } from './calendar.ts';

/** First-reply times are kept as quarter hours of working time, up to 48 h; later ones overflow. */
export const BUCKET_MINUTES = 15;
export const HISTOGRAM_HOURS = 48;
export const LAST_BUCKET = (HISTOGRAM_HOURS * 60) / BUCKET_MINUTES;
export const OVERFLOW_BUCKET = LAST_BUCKET + 1;
/** A resolution counts as first-contact only if the customer stays quiet this long afterwards. */
export const FCR_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** The longest range one report reads (one Query per day). */
export const MAX_RANGE_DAYS = 92;

export const COUNTERS = [
  'conversations',
  'messages',
  'answered',
  'measured',
  'kept',
  'notices',
  'breaches',
] as const;
export type Counter = (typeof COUNTERS)[number];

/** What one day (or a range) of one channel (or all) counted. `measured`: answered episodes with a promise. */
export type Counts = Record<Counter, number> & {
  /** Acknowledgements not sent, by reason. */
  skipped: Record<string, number>;
  /** Answered episodes by working time to the first reply: bucket → count (see bucketOf). */
  histogram: Record<number, number>;
};

export function emptyCounts(): Counts {
  return {
    conversations: 0,
    messages: 0,
    answered: 0,
    measured: 0,
    kept: 0,
    notices: 0,
    breaches: 0,
    skipped: {},
    histogram: {},
  };
}

function addRecords<K extends string | number>(
  a: Record<K, number>,
  b: Record<K, number>,
): Record<K, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b) as Array<[K, number]>) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

export function addCounts(a: Counts, b: Counts): Counts {
  const sum = emptyCounts();
  for (const counter of COUNTERS) sum[counter] = a[counter] + b[counter];
  sum.skipped = addRecords(a.skipped, b.skipped);
  sum.histogram = addRecords(a.histogram, b.histogram);
  return sum;
}

/** Working minutes between two moments: the overlap of [from, to) with the calendar's working intervals. */
export function workingMinutesBetween(calendar: Calendar, from: Date, to: Date): number {
  if (to.getTime() <= from.getTime()) return 0;
  const ms = calendar
    .intervalsBetween(from, to)
    .reduce(
      (sum, interval) =>
        sum + Math.max(0, Math.min(interval.end, to.getTime()) - Math.max(interval.start, from.getTime())),
      0,
    );
  return ms / 60_000;
}

/** Bucket 0 holds exactly 0; bucket b holds (b-1, b] quarter hours; above 48 h, the overflow bucket. */
export function bucketOf(minutes: number): number {
  if (minutes <= 0) return 0;
  return Math.min(Math.ceil(minutes / BUCKET_MINUTES), OVERFLOW_BUCKET);
}

/**
 * The p-th percentile (0 < p ≤ 1, nearest rank) in working hours, as the upper bound of its
 * bucket (so "0.5" means "within half an hour"); the overflow bucket reads as 48. null: no data.
 */
export function percentileHours(histogram: Record<number, number>, p: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), count] as const)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return (Math.min(bucket, LAST_BUCKET) * BUCKET_MINUTES) / 60;
  }
  return HISTOGRAM_HOURS;
}
