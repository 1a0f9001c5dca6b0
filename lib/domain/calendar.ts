// The business's calendars (opening hours, each rota person's, staffed time) and what closes a moment.

import { DateTime } from 'luxon';
import { type BusinessConfig, WEEKDAYS, type WeeklyHours } from '#lib/domain/business-config.ts';
import { BoundedMap, zoneClock } from '#lib/domain/calendar-cache.ts';
import {
  closureIntervals,
  holidayIntervals,
  intersect,
  rangesToIntervals,
  subtract,
  union,
} from './calendar-intervals.ts';
import { type Calendar, calendarFrom, DAYS_REMEMBERED, type Interval } from './calendar-walk.ts';

export { union } from './calendar-intervals.ts';
export { type Calendar, CalendarError, type Interval } from './calendar-walk.ts';

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
