import { DateTime } from 'luxon';
import {
  type BusinessConfig,
  CALENDAR_HORIZON_DAYS,
  rangeMinutes,
  WEEKDAYS,
  type WeeklyHours,
} from '#lib/domain/business-config.ts';
import {
  BoundedMap,
  dateOfDay,
  dayNumber,
  HOUR_MS,
  localDay,
  parseLocal,
  type ZoneClock,
  zoneClock,
} from '#lib/domain/calendar-cache.ts';
import { holidaysOf } from '#lib/domain/holidays.ts';

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

// Each year's holidays are a pure function of the place and the year: computed once.
type Holiday = Interval & { readonly name: string };
const holidayYears = new Map<string, readonly Holiday[]>();

function holidayIntervals(config: BusinessConfig, year: number): readonly Holiday[] {
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

/** A calendar's working intervals of one local date, given as days since 1970-01-01. */
type DayIntervals = (day: number) => readonly Interval[];

type WalkingCalendar = { readonly calendar: Calendar; readonly day: DayIntervals };

/** Days a calendar remembers: a few years, far more than one walk of HORIZON_DAYS visits. */
const DAYS_REMEMBERED = 1_024;

function calendarFrom(
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
  const { timeZone } = config;
  const clock = zoneClock(timeZone);
  const closures = closureIntervals(config);
  // Every person's calendar starts from the same business day, so it is planned once.
  const plans = new BoundedMap<number, DayPlan>(DAYS_REMEMBERED);
  const plan = (day: number, date: () => DateTime): DayPlan =>
    plans.get(day) ?? plans.set(day, planDay(config, closures, date()));
  const people = new Map(
    config.people.rota.map((person) => [
      person.id,
      calendarFrom(clock, timeZone, (day, date) =>
        personDay(config, person.hours, person.id, plan(day, date), date()),
      ),
    ]),
  );
  const rota = [...people.values()];
  return {
    business: calendarFrom(clock, timeZone, (day, date) => plan(day, date).business).calendar,
    people: new Map([...people].map(([id, person]) => [id, person.calendar])),
    staffed: calendarFrom(clock, timeZone, (day) => union(rota.flatMap((person) => person.day(day))))
      .calendar,
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
