// Working intervals of a day: hour ranges, public holidays, closures, and subtracting or merging them.

import type { DateTime } from 'luxon';
import { type BusinessConfig, rangeMinutes } from '#lib/domain/business-config.ts';
import { parseLocal } from '#lib/domain/calendar-cache.ts';
import { holidaysOf } from '#lib/domain/holidays.ts';
import type { Interval } from './calendar-walk.ts';

// Each year's holidays are a pure function of the place and the year: computed once.
type Holiday = Interval & { readonly name: string };
const holidayYears = new Map<string, readonly Holiday[]>();

export function holidayIntervals(config: BusinessConfig, year: number): readonly Holiday[] {
  const { country, state, region, types } = config.holidays;
  const yearKey = `${JSON.stringify([country, state, region, types, config.timeZone])}|${year}`;
  let intervals = holidayYears.get(yearKey);
  if (!intervals) {
    intervals = holidaysOf({ country, state, region, types, timeZone: config.timeZone }, year);
    holidayYears.set(yearKey, intervals);
  }
  return intervals;
}

function localMoment(date: DateTime, minutes: number): number {
  const day = minutes === 24 * 60 ? date.plus({ days: 1 }) : date;
  return day.set({ hour: Math.floor(minutes / 60) % 24, minute: minutes % 60 }).toMillis();
}

export function rangesToIntervals(date: DateTime, ranges: readonly string[]): Interval[] {
  return ranges
    .map(rangeMinutes)
    .map(({ start, end }) => ({ start: localMoment(date, start), end: localMoment(date, end) }))
    .filter(({ start, end }) => start < end)
    .sort((a, b) => a.start - b.start);
}

export function subtract(intervals: readonly Interval[], holes: readonly Interval[]): Interval[] {
  return holes.reduce<Interval[]>(
    (remaining, hole) =>
      remaining.flatMap((i) =>
        hole.end <= i.start || hole.start >= i.end
          ? [i]
          : [
              ...(i.start < hole.start ? [{ start: i.start, end: hole.start }] : []),
              ...(hole.end < i.end ? [{ start: hole.end, end: i.end }] : []),
            ],
      ),
    [...intervals],
  );
}

export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return a.flatMap((x) =>
    b.flatMap((y) => {
      const start = Math.max(x.start, y.start);
      const end = Math.min(x.end, y.end);
      return start < end ? [{ start, end }] : [];
    }),
  );
}

/** Sorted, merged: touching intervals of different people become one stretch of staffed time. */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const i of sorted) {
    const last = merged.at(-1);
    if (last && i.start <= last.end)
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, i.end) };
    else merged.push(i);
  }
  return merged;
}

export function closureIntervals(config: BusinessConfig): Interval[] {
  const zone = config.timeZone;
  // parseLocal, not fromISO: a closure starting in a repeated hour means the same instant whatever today is.
  return config.closures.map(({ from, to }) =>
    from.length === 10
      ? {
          start: parseLocal(from, zone).toMillis(),
          end: parseLocal(to, zone).plus({ days: 1 }).toMillis(),
        }
      : {
          start: parseLocal(from, zone).toMillis(),
          end: parseLocal(to, zone).toMillis(),
        },
  );
}
