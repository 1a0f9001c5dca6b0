import { DateTime } from 'luxon';
import { z } from 'zod';

// The business calendar's parts of the configuration: weekly hours, closures and extra openings.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const RANGE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** How far the calendar looks for working time (lib/domain/calendar-walk.ts) before it gives up. */
export const CALENDAR_HORIZON_DAYS = 731;
/**
 * The longest run of closed days the config accepts: half the calendar's horizon, so that a
 * message received just before it still finds a year of working time for its target after it.
 */
export const MAX_CLOSURE_DAYS = 366;

/** Minutes since midnight of both ends of an already validated "HH:MM-HH:MM" range. */
export function rangeMinutes(range: string): { start: number; end: number } {
  const [, h1, m1, h2, m2] = RANGE.exec(range) ?? [];
  return { start: Number(h1) * 60 + Number(m1), end: Number(h2) * 60 + Number(m2) };
}

// 24:00 is allowed as an end so that a day can run to midnight without a gap.
function rangeProblem(range: string): string | null {
  const match = RANGE.exec(range);
  if (!match) return `"${range}" is not HH:MM-HH:MM`;
  const [, h1, m1, h2, m2] = match.map(Number) as [number, number, number, number, number];
  if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 === 24 && m2 > 0))
    return `"${range}" is not a valid time`;
  if (h1 * 60 + m1 >= h2 * 60 + m2) return `"${range}" does not end after it starts`;
  return null;
}

const RangeSchema = z.string().superRefine((range, ctx) => {
  const problem = rangeProblem(range);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const RangesSchema = z.array(RangeSchema).superRefine((ranges, ctx) => {
  const valid = ranges.flatMap((range, index) =>
    rangeProblem(range) === null ? [{ range, index, ...rangeMinutes(range) }] : [],
  );
  for (const a of valid) {
    const other = valid.find((b) => b.index < a.index && b.start < a.end && a.start < b.end);
    if (other) {
      ctx.addIssue({ code: 'custom', message: `"${a.range}" overlaps "${other.range}"`, path: [a.index] });
    }
  }
});

export const WeeklyHoursSchema = z.strictObject(
  Object.fromEntries(WEEKDAYS.map((day) => [day, RangesSchema.default([])])) as Record<
    Weekday,
    z.ZodDefault<typeof RangesSchema>
  >,
);
export type WeeklyHours = z.infer<typeof WeeklyHoursSchema>;

function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value).isValid;
}
function isIsoLocalDateTime(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) && DateTime.fromISO(value).isValid;
}

const DateSchema = z
  .string()
  .refine(isIsoDate, { error: (iss) => `"${String(iss.input)}" is not a YYYY-MM-DD date` });
const DateOrDateTimeSchema = z.string().refine((v) => isIsoDate(v) || isIsoLocalDateTime(v), {
  error: (iss) => `"${String(iss.input)}" is not YYYY-MM-DD or YYYY-MM-DDTHH:MM`,
});

/**
 * A closure is either whole local days (both ends dates, inclusive) or a wall-clock span
 * (both ends date-times, end exclusive), always in the business time zone.
 */
export const ClosureSchema = z
  .strictObject({
    from: DateOrDateTimeSchema,
    to: DateOrDateTimeSchema,
    reason: z.string().min(1).optional(),
  })
  .superRefine(({ from, to }, ctx) => {
    const kind = (v: string) => (isIsoDate(v) ? 'date' : isIsoLocalDateTime(v) ? 'date-time' : null);
    if (kind(from) === null || kind(to) === null) return;
    if (kind(from) !== kind(to)) {
      ctx.addIssue({
        code: 'custom',
        message: 'from and to must both be dates or both date-times',
        path: ['to'],
      });
    } else if (kind(from) === 'date' ? to < from : to <= from) {
      ctx.addIssue({ code: 'custom', message: `"${to}" is not after "${from}"`, path: ['to'] });
    }
  });
export type Closure = z.infer<typeof ClosureSchema>;

/** A special opening day replaces that date's weekly hours and any public holiday on it. */
const OpeningSchema = z.strictObject({
  date: DateSchema,
  hours: RangesSchema.min(1),
  /** Rota ids working that day; everyone on the rota when absent. */
  people: z.array(z.string()).min(1).optional(),
  reason: z.string().min(1).optional(),
});

export const OpeningsSchema = z.array(OpeningSchema).superRefine((openings, ctx) => {
  openings.forEach((opening, index) => {
    if (openings.findIndex((o) => o.date === opening.date) !== index) {
      ctx.addIssue({
        code: 'custom',
        message: `"${opening.date}" already has an opening`,
        path: [index, 'date'],
      });
    }
  });
});
