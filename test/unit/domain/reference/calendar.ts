// The reference for the property tests: lib/domain/calendar.ts as it was before the calendar's hot
// path moved to epoch milliseconds (every step through luxon DateTimes). Frozen on purpose:
// the optimised module must give exactly these results. Not imported by lib/.
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import {
  type BusinessConfig,
  rangeMinutes,
  WEEKDAYS,
  type WeeklyHours,
} from '#lib/domain/business-config.ts';

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

// Two years covers any sane closure; beyond it a config error must not spin forever.
const HORIZON_DAYS = 731;
const HOUR_MS = 3_600_000;

// Building a date-holidays instance parses the whole country's rule set, so instances and
// each year's result are shared across calendars; both are pure functions of their keys.
const holidayInstances = new Map<string, Holidays>();
type Holiday = Interval & { readonly name: string };
const holidayYears = new Map<string, readonly Holiday[]>();

function holidayIntervals(config: BusinessConfig, year: number): readonly Holiday[] {
  const { country, state, region, types } = config.holidays;
  const key = JSON.stringify([country, state, region, types, config.timeZone]);
  const yearKey = `${key}|${year}`;
  const cached = holidayYears.get(yearKey);
  if (cached) return cached;
  let instance = holidayInstances.get(key);
  if (!instance) {
    const options = { timezone: config.timeZone, types: [...types] };
    instance =
      state === undefined
        ? new Holidays(country, options)
        : region === undefined
          ? new Holidays(country, state, options)
          : new Holidays(country, state, region, options);
    holidayInstances.set(key, instance);
  }
  const intervals = instance
    .getHolidays(year)
    .filter((holiday) => types.includes(holiday.type))
    .map((holiday) => ({ start: holiday.start.getTime(), end: holiday.end.getTime(), name: holiday.name }));
  holidayYears.set(yearKey, intervals);
  return intervals;
}

function localMoment(date: DateTime, minutes: number): number {
  const day = minutes === 24 * 60 ? date.plus({ days: 1 }) : date;
  return day.set({ hour: Math.floor(minutes / 60) % 24, minute: minutes % 60 }).toMillis();
}

function rangesToIntervals(date: DateTime, ranges: readonly string[]): Interval[] {
  return ranges
    .map(rangeMinutes)
    .map(({ start, end }) => ({ start: localMoment(date, start), end: localMoment(date, end) }))
    .filter(({ start, end }) => start < end)
    .sort((a, b) => a.start - b.start);
}

function subtract(intervals: readonly Interval[], holes: readonly Interval[]): Interval[] {
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

function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
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

function closureIntervals(config: BusinessConfig): Interval[] {
  const zone = config.timeZone;
  return config.closures.map(({ from, to }) =>
    from.length === 10
      ? {
          start: DateTime.fromISO(from, { zone }).toMillis(),
          end: DateTime.fromISO(to, { zone }).plus({ days: 1 }).toMillis(),
        }
      : {
          start: DateTime.fromISO(from, { zone }).toMillis(),
          end: DateTime.fromISO(to, { zone }).toMillis(),
        },
  );
}

function calendarFrom(timeZone: string, dayIntervals: (date: DateTime) => Interval[]): Calendar {
  const days = new Map<string, readonly Interval[]>();
  const onDay = (date: DateTime): readonly Interval[] => {
    const key = date.toISODate() ?? '';
    let intervals = days.get(key);
    if (!intervals) {
      intervals = dayIntervals(date);
      days.set(key, intervals);
    }
    return intervals;
  };

  // Walks forward from the local day of `at` (the day before too: a range ending at 24:00
  // belongs to the previous date) and yields each working interval that ends after `at`.
  function* intervalsFrom(at: number): Generator<Interval> {
    const first = DateTime.fromMillis(at, { zone: timeZone }).startOf('day').minus({ days: 1 });
    for (let d = 0; d <= HORIZON_DAYS; d += 1) {
      for (const interval of onDay(first.plus({ days: d }))) {
        if (interval.end > at) yield interval;
      }
    }
    throw new CalendarError(new Date(at));
  }

  const firstFrom = (at: number): Interval => {
    for (const interval of intervalsFrom(at)) return interval;
    throw new CalendarError(new Date(at));
  };

  const intervalAt = (at: Date): Interval | null => {
    const next = firstFrom(at.getTime());
    return next.start <= at.getTime() ? next : null;
  };

  return {
    intervalAt,
    isOpen: (at) => intervalAt(at) !== null,
    nextOpening: (at) => new Date(Math.max(at.getTime(), firstFrom(at.getTime()).start)),
    addWorkingHours(from, hours) {
      let remaining = Math.max(0, hours) * HOUR_MS;
      let at = from.getTime();
      for (const interval of intervalsFrom(at)) {
        const start = Math.max(at, interval.start);
        if (interval.end - start >= remaining) return new Date(start + remaining);
        remaining -= interval.end - start;
        at = interval.end;
      }
      throw new CalendarError(from);
    },
    intervalsBetween(from, to) {
      const found: Interval[] = [];
      for (const interval of intervalsFrom(from.getTime())) {
        if (interval.start >= to.getTime()) break;
        found.push(interval);
      }
      return found;
    },
    intervalsOn: (date) => onDay(DateTime.fromISO(date, { zone: timeZone })),
  };
}

type DayPlan = {
  readonly business: Interval[];
  readonly opening: BusinessConfig['openings'][number] | undefined;
};

function weekday(date: DateTime): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[date.weekday - 1] ?? 'mon';
}

function planDay(config: BusinessConfig, closures: readonly Interval[], date: DateTime): DayPlan {
  const opening = config.openings.find((o) => o.date === date.toISODate());
  const ranges = rangesToIntervals(date, opening?.hours ?? config.hours[weekday(date)]);
  // An explicit opening day beats a public holiday; an explicit closure beats everything.
  const holidays = opening ? [] : [date.year - 1, date.year].flatMap((y) => holidayIntervals(config, y));
  return { business: subtract(subtract(ranges, holidays), closures), opening };
}

function personDay(
  config: BusinessConfig,
  hours: WeeklyHours | undefined,
  id: string,
  plan: DayPlan,
  date: DateTime,
) {
  if (plan.opening)
    return plan.opening.people === undefined || plan.opening.people.includes(id) ? plan.business : [];
  return intersect(plan.business, rangesToIntervals(date, (hours ?? config.hours)[weekday(date)]));
}

// One set of calendars per parsed config object: the day caches make repeated promises cheap.
const calendars = new WeakMap<BusinessConfig, ReturnType<typeof buildCalendars>>();

function buildCalendars(config: BusinessConfig) {
  const closures = closureIntervals(config);
  // Every person's calendar starts from the same business day, so it is planned once.
  const plans = new Map<string, DayPlan>();
  const plan = (date: DateTime): DayPlan => {
    const key = date.toISODate() ?? '';
    let planned = plans.get(key);
    if (!planned) {
      planned = planDay(config, closures, date);
      plans.set(key, planned);
    }
    return planned;
  };
  const people = new Map(
    config.people.rota.map((person) => [
      person.id,
      calendarFrom(config.timeZone, (date) => personDay(config, person.hours, person.id, plan(date), date)),
    ]),
  );
  return {
    business: calendarFrom(config.timeZone, (date) => plan(date).business),
    people,
    staffed: calendarFrom(config.timeZone, (date) =>
      union([...people.values()].flatMap((person) => person.intervalsOn(date.toISODate() ?? ''))),
    ),
  };
}

function calendarsOf(config: BusinessConfig) {
  let built = calendars.get(config);
  if (!built) {
    built = buildCalendars(config);
    calendars.set(config, built);
  }
  return built;
}

/** Opening hours: weekly hours and special openings, less public holidays and closures. */
export function businessCalendar(config: BusinessConfig): Calendar {
  return calendarsOf(config).business;
}

/** When one rota person is on duty: their hours (the business hours by default) within the business calendar. */
export function personCalendar(config: BusinessConfig, personId: string): Calendar {
  const calendar = calendarsOf(config).people.get(personId);
  if (!calendar) throw new RangeError(`"${personId}" is not on the rota`);
  return calendar;
}

/** When at least one rota person is on duty: the time a reply can actually be written. */
export function staffedCalendar(config: BusinessConfig): Calendar {
  return calendarsOf(config).staffed;
}

/** The public holiday or closure covering `at` (its name or reason), or null; weekly hours play no part. */
export function closureAt(config: BusinessConfig, at: Date): string | null {
  const t = at.getTime();
  const opening = config.openings.find(
    (o) => o.date === DateTime.fromMillis(t, { zone: config.timeZone }).toISODate(),
  );
  const covers = (i: Interval) => i.start <= t && t < i.end;
  const closed = closureIntervals(config).findIndex(covers);
  if (closed >= 0) return config.closures[closed]?.reason ?? 'closure';
  if (opening) return null;
  const year = DateTime.fromMillis(t, { zone: config.timeZone }).year;
  const holiday = [year - 1, year].flatMap((y) => holidayIntervals(config, y)).find(covers);
  return holiday?.name ?? null;
}
