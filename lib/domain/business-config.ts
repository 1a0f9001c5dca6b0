import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { CHANNELS, LocaleSchema } from '#lib/domain/channel.ts';
import { ALL_HOLIDAY_TYPES, placeProblem } from '#lib/domain/holidays.ts';
import { ReplyTemplatesSchema } from '#lib/domain/reply-template.ts';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const RANGE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** How far the calendar looks for working time (lib/domain/calendar.ts) before it gives up. */
export const CALENDAR_HORIZON_DAYS = 731;
/**
 * The longest run of closed days the config accepts: half the calendar's horizon, so that a
 * message received just before it still finds a year of working time for its target after it.
 */
export const MAX_CLOSURE_DAYS = 366;
/** A channel's target must fit in this many weeks of the rota's weekly staffed hours. */
const TARGET_WEEKS = 26;
const DAY_MS = 86_400_000;

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

const WeeklyHoursSchema = z.strictObject(
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
const ClosureSchema = z
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

const OpeningsSchema = z.array(OpeningSchema).superRefine((openings, ctx) => {
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

const personFields = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be lower-case letters, digits, - or _' }),
  // Acks are signed by a person, never by "the team": a customer can ask for someone by name.
  name: z
    .string()
    .trim()
    .min(1)
    .refine(
      (name) => !/(?<!\p{L})(team|zespół|zespol|support|obsługa|obsluga|dział|dzial)(?!\p{L})/iu.test(name),
      {
        error: (iss) => `"${String(iss.input)}" is not a person's name`,
      },
    ),
  phone: z.string().trim().min(1).optional(),
  email: z.email().optional(),
};
const reachable = {
  error: 'needs a phone or an email so customers can reach the signer directly',
} as const;
const hasContact = (p: { phone?: string | undefined; email?: string | undefined }) =>
  p.phone !== undefined || p.email !== undefined;

export const PersonSchema = z
  .strictObject({
    ...personFields,
    /** Duty hours; the business hours when absent. Always clipped to the business calendar. */
    hours: WeeklyHoursSchema.optional(),
  })
  .refine(hasContact, reachable);
export type Person = z.infer<typeof PersonSchema>;

/** Someone who answers customers and signs their replies without being on duty for promises (no hours). */
const AgentSchema = z.strictObject(personFields).refine(hasContact, reachable);

/** A name the way people type it: case and spacing do not tell two people apart. */
export const foldedName = (name: string): string => name.trim().replace(/\s+/g, ' ').toLocaleLowerCase();

const PeopleSchema = z
  .strictObject({
    default: z.string(),
    rota: z.array(PersonSchema).min(1),
    /**
     * Everyone else who may sign a reply with an API key of their own (a manager, a specialist):
     * listed with a direct contact like the rota, never named by a promise. A key may name only
     * someone listed here or on the rota.
     */
    agents: z.array(AgentSchema).default([]),
  })
  .superRefine((people, ctx) => {
    const listed = [
      ...people.rota.map((person, index) => ({ person, path: ['rota', index] })),
      ...people.agents.map((person, index) => ({ person, path: ['agents', index] })),
    ];
    listed.forEach(({ person, path }, index) => {
      const earlier = listed.slice(0, index);
      if (earlier.some((other) => other.person.id === person.id)) {
        ctx.addIssue({
          code: 'custom',
          message:
            path[0] === 'rota' ? `"${person.id}" is on the rota twice` : `"${person.id}" is listed twice`,
          path: [...path, 'id'],
        });
      }
      const namesake = earlier.find((other) => foldedName(other.person.name) === foldedName(person.name));
      if (namesake) {
        ctx.addIssue({
          code: 'custom',
          message: `"${namesake.person.name}" is listed twice: a key naming them could sign with either contact`,
          path: [...path, 'name'],
        });
      }
      // A key names its signer by name or id: a name that spells someone else's id names two people.
      const idNamesake = listed.find(
        (other) => other.person !== person && other.person.id === foldedName(person.name),
      );
      if (idNamesake) {
        ctx.addIssue({
          code: 'custom',
          message: `"${person.name}" is also the id of ${idNamesake.person.name}: a key naming "${person.name}" could sign as either; list them by a fuller name`,
          path: [...path, 'name'],
        });
      }
    });
    const ids = people.rota.map((p) => p.id);
    if (!ids.includes(people.default)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${people.default}" is not on the rota (${ids.join(', ')})`,
        path: ['default'],
      });
    }
  });

const HolidaysConfigSchema = z
  .strictObject({
    country: z.string().default('PL'),
    state: z.string().optional(),
    region: z.string().optional(),
    /** Which date-holidays types close the business. */
    types: z.array(z.enum(ALL_HOLIDAY_TYPES)).min(1).default(['public', 'bank']),
  })
  .superRefine((place, ctx) => {
    const problem = placeProblem(place);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.key] });
  });

// A target past 168 working hours always lands after the cap (168 calendar hours at most).
const positiveHours = z.number().positive().max(168);
const TargetsSchema = z.strictObject(
  Object.fromEntries(CHANNELS.map((channel) => [channel, positiveHours.default(12)])) as Record<
    (typeof CHANNELS)[number],
    z.ZodDefault<typeof positiveHours>
  >,
);

const PromiseConfigSchema = z.strictObject({
  /** Working hours per channel until the reply is due. */
  targets: TargetsSchema.default(() => TargetsSchema.parse({})),
  /** Calendar hours after receipt that a promise may never exceed while someone is on duty. */
  capHours: z.number().positive().max(168).default(24),
  /**
   * Working hours after the team comes back that a customer who wrote while it was away is
   * promised (the channel's target when that is smaller): a reply may not be due the moment
   * the first person walks in.
   */
  hoursAfterReturn: z.number().positive().max(24).default(1),
  roundToMinutes: z
    .number()
    .int()
    .min(1)
    .max(60)
    .refine((m) => 60 % m === 0, { error: 'must divide 60' })
    .default(15),
});

/**
 * Intl (and so luxon) also takes a UTC offset such as "+01:00" as a time zone, but an offset
 * has no daylight saving time and date-holidays does not know it (it puts the holidays in
 * UTC): only a zone name will do. Aliases (Europe/Kiev, US/Eastern) and UTC stay valid.
 */
function timeZoneProblem(zone: string): string | null {
  if (!IANAZone.isValidZone(zone)) return `"${zone}" is not an IANA time zone`;
  const resolved = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  if (/^[+-]\d/.test(resolved)) {
    return `"${zone}" is a UTC offset, not an IANA time zone such as Europe/Warsaw (an offset knows no daylight saving time)`;
  }
  return null;
}

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
function checkPromisable(
  config: Pick<BusinessConfig, 'hours' | 'people' | 'closures' | 'promise'>,
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

/** Runs a whole-config check only when the fields it reads are valid, so one pass reports every problem. */
function whenValid(...fields: string[]) {
  return {
    when: (payload: { issues: readonly { path?: readonly PropertyKey[] | undefined }[] }) =>
      !payload.issues.some((issue) => {
        const field = issue.path?.[0];
        return field === undefined || fields.includes(String(field));
      }),
  };
}

const BusinessConfigSchema = z
  .strictObject({
    timeZone: z.string().superRefine((zone, ctx) => {
      const problem = timeZoneProblem(zone);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    defaultLocale: LocaleSchema.default('pl'),
    hours: WeeklyHoursSchema.refine((hours) => Object.values(hours).some((ranges) => ranges.length > 0), {
      error: 'at least one day needs opening hours',
    }),
    holidays: HolidaysConfigSchema.default(() => HolidaysConfigSchema.parse({})),
    closures: z.array(ClosureSchema).default([]),
    openings: OpeningsSchema.default([]),
    promise: PromiseConfigSchema.default(() => PromiseConfigSchema.parse({})),
    people: PeopleSchema,
    ack: z
      .strictObject({
        selfHelpUrl: z
          .url({ protocol: /^https?$/ })
          .nullable()
          .default(null),
        /** Plain-ASCII Polish keeps an SMS in GSM-7: 160 characters a segment instead of 70. */
        smsTransliterate: z.boolean().default(false),
        /**
         * How a caller is acknowledged beyond the promise the greeting speaks: by SMS when the
         * number is a mobile one (`mobile`), always, or never (the spoken promise is the ack).
         */
        voiceSms: z.enum(['mobile', 'always', 'never']).default('mobile'),
        /** No ack for a message this soon after an agent's reply: the customer is mid-conversation. */
        quietMinutesAfterReply: z
          .number()
          .int()
          .min(0)
          .max(24 * 60)
          .default(10),
        /** No ack for a contact acknowledged this recently on another conversation. */
        minutesBetweenAcks: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 60)
          .default(60),
      })
      .default({
        selfHelpUrl: null,
        smsTransliterate: false,
        voiceSms: 'mobile',
        quietMinutesAfterReply: 10,
        minutesBetweenAcks: 60,
      }),
    whatsapp: z
      .strictObject({
        /**
         * Per locale, the approved template an agent's reply goes as after WhatsApp's 24-hour
         * window (lib/domain/reply-template.ts); without one for the conversation's locale and
         * provider such a reply is refused (409 OUTSIDE_WINDOW).
         */
        replyTemplates: ReplyTemplatesSchema.default({}),
      })
      .default({ replyTemplates: {} }),
  })
  .superRefine(
    ({ people, openings }, ctx) => {
      const ids = people.rota.map((p) => p.id);
      openings.forEach((opening, index) => {
        opening.people?.forEach((id, p) => {
          if (!ids.includes(id)) {
            ctx.addIssue({
              code: 'custom',
              message: `"${id}" is not on the rota`,
              path: ['openings', index, 'people', p],
            });
          }
        });
      });
    },
    // Runs even when unrelated fields are wrong, so one pass reports every problem.
    whenValid('people', 'openings'),
  )
  .superRefine(checkPromisable, whenValid('hours', 'people', 'closures', 'promise'));

export { BusinessConfigSchema };
export type BusinessConfig = z.infer<typeof BusinessConfigSchema>;
export type BusinessConfigInput = z.input<typeof BusinessConfigSchema>;

export class BusinessConfigError extends Error {
  readonly code = 'BUSINESS_CONFIG_INVALID';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid business config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BusinessConfigError';
    this.problems = problems;
  }
}

/** `hours.mon[0]` style, the way a person reading the JSON file would point at it. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? String(key) : `${out}.${String(key)}`;
  }, '');
}

export function parseBusinessConfig(input: unknown): BusinessConfig {
  const result = BusinessConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new BusinessConfigError(
    result.error.issues.map((issue) => {
      const path = formatPath(issue.path);
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    }),
  );
}

const WEEKDAY_9_TO_17 = ['09:00-17:00'];

// Kept in code rather than read from switchboard.config.json so the domain stays free of file
// I/O and bundles without assets; a unit test keeps the two identical.
export const DEFAULT_BUSINESS_CONFIG: BusinessConfig = parseBusinessConfig({
  timeZone: 'Europe/Warsaw',
  defaultLocale: 'pl',
  hours: {
    mon: WEEKDAY_9_TO_17,
    tue: WEEKDAY_9_TO_17,
    wed: WEEKDAY_9_TO_17,
    thu: WEEKDAY_9_TO_17,
    fri: WEEKDAY_9_TO_17,
    sat: [],
    sun: [],
  },
  // date-holidays (3.37) already has 24 December as a Polish public holiday from 2025 on,
  // so no explicit Wigilia closure is shipped.
  holidays: { country: 'PL', types: ['public', 'bank'] },
  closures: [],
  openings: [],
  promise: {
    targets: { sms: 12, mms: 12, whatsapp: 12, voice: 12, messenger: 12, instagram: 12, email: 12 },
    capHours: 24,
    roundToMinutes: 15,
  },
  people: {
    default: 'anna',
    rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', email: 'anna.kowalska@example.com' }],
    agents: [],
  },
  ack: {
    selfHelpUrl: null,
    smsTransliterate: false,
    voiceSms: 'mobile',
    quietMinutesAfterReply: 10,
    minutesBetweenAcks: 60,
  },
  whatsapp: { replyTemplates: {} },
});
