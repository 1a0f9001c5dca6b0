import { IANAZone } from 'luxon';
import { z } from 'zod';
import { CHANNELS, LocaleSchema } from '#lib/domain/channel.ts';
import { ALL_HOLIDAY_TYPES, placeProblem } from '#lib/domain/holidays.ts';
import { ReplyTemplatesSchema } from '#lib/domain/reply-template.ts';
import { ClosureSchema, OpeningsSchema, WeeklyHoursSchema } from './business-hours.ts';
import { PeopleSchema } from './business-people.ts';
import { checkPromisable } from './business-promisable.ts';

export {
  CALENDAR_HORIZON_DAYS,
  rangeMinutes,
  WEEKDAYS,
  type Weekday,
  type WeeklyHours,
} from './business-hours.ts';
export { foldedName, type Person, PersonSchema } from './business-people.ts';

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
