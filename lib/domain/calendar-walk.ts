// A calendar walked one local day at a time over cached working intervals: the Calendar type and its build.

import { DateTime } from 'luxon';
import { CALENDAR_HORIZON_DAYS } from '#lib/domain/business-config.ts';
import {
  BoundedMap,
  dateOfDay,
  dayNumber,
  HOUR_MS,
  localDay,
  type ZoneClock,
} from '#lib/domain/calendar-cache.ts';

/** A half-open span [start, end) of epoch milliseconds. */
export type Interval = { readonly start: number; readonly end: number };

/** Working time as a set of intervals, walked one local day at a time. */
export type Calendar = {
  /** Whether `at` falls inside working time (a closing instant itself is closed). */
  isOpen(at: Date): boolean;
  /** `at` itself when open, else the start of the next working interval. */
  nextOpening(at: Date): Date;
  /** The moment when `hours` of working time have passed since `from`; ends exactly at a closing time when it can. */
  addWorkingHours(from: Date, hours: number): Date;
  /** The working interval containing `at`, or null. */
  intervalAt(at: Date): Interval | null;
  /** Working intervals overlapping [from, to), unclipped, in order. */
  intervalsBetween(from: Date, to: Date): Interval[];
  /** Working intervals of one local date (YYYY-MM-DD) in the business time zone. */
  intervalsOn(date: string): readonly Interval[];
};

export class CalendarError extends Error {
  readonly code = 'CALENDAR_NO_WORKING_TIME';

  constructor(from: Date) {
    super(`No working time within ${HORIZON_DAYS} days after ${from.toISOString()}`);
    this.name = 'CalendarError';
  }
}

// Two years covers any closure the config accepts; beyond it a config error must not spin forever.
const HORIZON_DAYS = CALENDAR_HORIZON_DAYS;

/** A calendar's working intervals of one local date, given as days since 1970-01-01. */
type DayIntervals = (day: number) => readonly Interval[];

export type WalkingCalendar = { readonly calendar: Calendar; readonly day: DayIntervals };

/** Days a calendar remembers: a few years, far more than one walk of HORIZON_DAYS visits. */
export const DAYS_REMEMBERED = 1_024;

export function calendarFrom(
  clock: ZoneClock,
  timeZone: string,
  dayIntervals: (day: number, date: () => DateTime) => readonly Interval[],
): WalkingCalendar {
  const days = new BoundedMap<number, readonly Interval[]>(DAYS_REMEMBERED);
  // luxon builds the day's DateTime only when the day is first planned.
  const onDay = (day: number): readonly Interval[] => {
    const known = days.get(day);
    if (known) return known;
    let built: DateTime | undefined;
    return days.set(
      day,
      dayIntervals(day, () => {
        built ??= dateOfDay(timeZone, day);
        return built;
      }),
    );
  };

  // Every walk starts on the local day before that of `at` (a range ending at 24:00 belongs
  // to the previous date), takes working intervals ending after `at`, and gives up after
  // HORIZON_DAYS more days. All in epoch milliseconds: luxon only builds a day once.
  const firstDay = (at: number): number => {
    const day = localDay(clock, at) - 1;
    if (!Number.isFinite(day)) throw new CalendarError(new Date(at));
    return day;
  };

  const firstFrom = (at: number): Interval => {
    const first = firstDay(at);
    for (let day = first; day <= first + HORIZON_DAYS; day += 1) {
      for (const interval of onDay(day)) {
        if (interval.end > at) return interval;
      }
    }
    throw new CalendarError(new Date(at));
  };

  const intervalAt = (at: Date): Interval | null => {
    const next = firstFrom(at.getTime());
    return next.start <= at.getTime() ? next : null;
  };

  const calendar: Calendar = {
    intervalAt,
    isOpen: (at) => intervalAt(at) !== null,
    nextOpening: (at) => new Date(Math.max(at.getTime(), firstFrom(at.getTime()).start)),
    addWorkingHours(from, hours) {
      let remaining = Math.max(0, hours) * HOUR_MS;
      const origin = from.getTime();
      let at = origin;
      const first = firstDay(origin);
      for (let day = first; day <= first + HORIZON_DAYS; day += 1) {
        for (const interval of onDay(day)) {
          if (!(interval.end > origin)) continue;
          const start = Math.max(at, interval.start);
          if (interval.end - start >= remaining) return new Date(start + remaining);
          remaining -= interval.end - start;
          at = interval.end;
        }
      }
      throw new CalendarError(from);
    },
    intervalsBetween(from, to) {
      const found: Interval[] = [];
      const origin = from.getTime();
      const first = firstDay(origin);
      for (let day = first; day <= first + HORIZON_DAYS; day += 1) {
        for (const interval of onDay(day)) {
          if (!(interval.end > origin)) continue;
          if (interval.start >= to.getTime()) return found;
          found.push(interval);
        }
      }
      throw new CalendarError(from);
    },
    intervalsOn: (date) => {
      // Only the date's fields: the day's start is dateOfDay's (never a guess from today's offset).
      const parsed = DateTime.fromISO(date, { zone: 'utc' });
      // Every unparseable date shares one day of its own, NaN.
      return onDay(parsed.isValid ? dayNumber(parsed.year, parsed.month, parsed.day) : Number.NaN);
    },
  };
  return { calendar, day: (day) => onDay(day) };
}
