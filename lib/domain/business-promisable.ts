import { DateTime } from 'luxon';
import type { z } from 'zod';
import {
  type Closure,
  MAX_CLOSURE_DAYS,
  rangeMinutes,
  WEEKDAYS,
  type WeeklyHours,
} from './business-hours.ts';
import type { Person } from './business-people.ts';

// Whether a configured calendar can make a promise at all: checked when the configuration is parsed.

/** A channel's target must fit in this many weeks of the rota's weekly staffed hours. */
const TARGET_WEEKS = 26;
const DAY_MS = 86_400_000;

/** Minutes a week in which someone on the rota is on duty within the weekly opening hours. */
function weeklyStaffedMinutes(hours: WeeklyHours, rota: readonly Person[]): number {
  return WEEKDAYS.reduce((total, day) => {
    const minutes = new Uint8Array(24 * 60);
    const mark = (ranges: readonly string[], bit: number) => {
      for (const { start, end } of ranges.map(rangeMinutes)) {
        for (let m = start; m < end; m++) minutes[m] = (minutes[m] ?? 0) | bit;
      }
    };
    mark(hours[day], 1);
    for (const person of rota) mark((person.hours ?? hours)[day], 2);
    return total + minutes.filter((bits) => bits === 3).length;
  }, 0);
}

/** Days since the epoch of a closure's ends; `end` exclusive (a date closure closes its last day too). */
function closureDays({ from, to }: Closure): { start: number; end: number } {
  const day = (value: string) => DateTime.fromISO(value, { zone: 'utc' }).toMillis() / DAY_MS;
  return { start: day(from), end: to.length === 10 ? day(to) + 1 : day(to) };
}

/**
 * Refuses a calendar that cannot make a promise: nobody on duty in any week, closures (alone
 * or touching one another) longer than MAX_CLOSURE_DAYS, or a target the horizon cannot reach.
 * Without this, every message would throw CalendarError and every webhook answer 500.
 */
export function checkPromisable(
  config: {
    hours: WeeklyHours;
    people: { rota: readonly Person[] };
    closures: readonly Closure[];
    promise: { targets: Record<string, number> };
  },
  ctx: z.RefinementCtx,
): void {
  const staffed = weeklyStaffedMinutes(config.hours, config.people.rota);
  if (staffed === 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        "nobody on the rota is ever on duty within the opening hours (hours): each person's hours must overlap them on some day of the week",
      path: ['people', 'rota'],
    });
  } else {
    for (const [channel, target] of Object.entries(config.promise.targets)) {
      if (target * 60 > staffed * TARGET_WEEKS) {
        ctx.addIssue({
          code: 'custom',
          message: `${target} working hours take more than ${TARGET_WEEKS} weeks of the rota's ${+(staffed / 60).toFixed(2)} staffed hours a week`,
          path: ['promise', 'targets', channel],
        });
      }
    }
  }
  const spans = config.closures
    .map((closure, index) => ({ index, ...closureDays(closure) }))
    .sort((a, b) => a.start - b.start);
  // Closures that overlap or touch are one run of closed days, named by the closure ending it.
  const runs: Array<{ start: number; end: number; last: number }> = [];
  for (const span of spans) {
    const run = runs.at(-1);
    if (run && span.start <= run.end) {
      if (span.end > run.end) Object.assign(run, { end: span.end, last: span.index });
    } else runs.push({ start: span.start, end: span.end, last: span.index });
  }
  for (const run of runs.filter((r) => r.end - r.start > MAX_CLOSURE_DAYS)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${config.closures[run.last]?.to}" closes the business for ${Math.ceil(run.end - run.start)} days in a row, at most ${MAX_CLOSURE_DAYS} (is the year right?)`,
      path: ['closures', run.last, 'to'],
    });
  }
}
