import fc from 'fast-check';
import { DateTime, Info } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  type BusinessConfigInput,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import * as optimised from '#lib/domain/calendar.ts';
import {
  BoundedMap,
  isoInZone,
  localDay,
  startOfLocalHour,
  ZoneClock,
  zoneClock,
} from '#lib/domain/calendar-cache.ts';
import { CHANNELS, type Channel } from '#lib/domain/channel.ts';
import { computePromise } from '#lib/domain/promise.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import * as reference from '#test/unit/domain/reference/calendar.ts';
import { computePromise as referencePromise } from '#test/unit/domain/reference/promise.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function configWith(patch: Partial<BusinessConfigInput>): BusinessConfig {
  return parseBusinessConfig({ ...DEFAULT_BUSINESS_CONFIG, ...patch });
}

const ANNA = { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', email: 'anna.kowalska@example.com' };
const PIOTR = { id: 'piotr', name: 'Piotr Nowak', phone: '22 765 43 21' };
const EVERY_DAY = (ranges: string[]) =>
  Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ranges]));

const CONFIGS: readonly (readonly [string, BusinessConfig])[] = [
  ['the shipped config', DEFAULT_BUSINESS_CONFIG],
  [
    'a busy Warsaw config (lunch breaks, closures, openings, two people)',
    configWith({
      hours: {
        mon: ['08:00-12:00', '12:30-16:00'],
        tue: ['09:00-17:00'],
        wed: ['09:00-17:00'],
        thu: ['09:00-17:00'],
        fri: ['09:00-15:00'],
        sat: ['10:00-13:00'],
      },
      closures: [
        { from: '2026-08-03', to: '2026-08-14', reason: 'Urlop' },
        { from: '2027-02-10T11:00', to: '2027-02-10T15:30', reason: 'Szkolenie' },
        { from: '2026-03-28T22:00', to: '2026-03-29T10:00', reason: 'Migracja' },
      ],
      openings: [
        { date: '2027-12-18', hours: ['10:00-14:00'] },
        { date: '2026-11-11', hours: ['10:00-12:00'], people: ['piotr'] },
        { date: '2026-10-25', hours: ['00:00-24:00'] },
      ],
      promise: {
        targets: { sms: 2, mms: 4, whatsapp: 8, voice: 1, messenger: 12, instagram: 24, email: 40 },
        capHours: 36,
        roundToMinutes: 15,
      },
      people: {
        default: 'anna',
        rota: [
          { ...ANNA, hours: { mon: ['08:00-16:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'] } },
          { ...PIOTR, hours: { thu: ['09:00-17:00'], fri: ['09:00-15:00'], sat: ['10:00-13:00'] } },
        ],
      },
    }),
  ],
  [
    'night shifts through the DST hours (ranges to 24:00, in the gap and in the repeated hour)',
    configWith({
      hours: {
        fri: ['22:00-24:00'],
        sat: ['00:00-02:30', '20:00-24:00'],
        sun: ['00:00-04:00', '23:00-24:00'],
        mon: ['02:00-03:00', '08:00-16:00'],
        wed: ['02:30-03:30', '09:00-17:00'],
      },
      promise: {
        targets: { sms: 0.25, mms: 1, whatsapp: 3, voice: 5, messenger: 7.5, instagram: 20, email: 60 },
        capHours: 12,
        roundToMinutes: 5,
      },
      people: {
        default: 'piotr',
        rota: [
          ANNA,
          { ...PIOTR, hours: { sat: ['20:00-24:00'], sun: ['00:00-04:00'], mon: ['02:00-03:00'] } },
        ],
      },
    }),
  ],
  [
    'Bavaria (a part-day holiday)',
    configWith({ timeZone: 'Europe/Berlin', holidays: { country: 'DE', state: 'BY' } }),
  ],
  [
    'Santiago (DST changes at midnight)',
    configWith({
      timeZone: 'America/Santiago',
      hours: { ...EVERY_DAY(['00:00-02:00', '09:00-18:00']), sun: ['22:00-24:00'] },
      holidays: { country: 'CL' },
      promise: { targets: { sms: 3 }, capHours: 8, roundToMinutes: 20 },
    }),
  ],
  [
    'Lord Howe Island (a half-hour DST change)',
    configWith({
      timeZone: 'Australia/Lord_Howe',
      hours: EVERY_DAY(['01:00-03:00', '09:00-17:00']),
      holidays: { country: 'AU', state: 'NSW' },
      promise: { targets: { sms: 1.5, email: 30 }, capHours: 30, roundToMinutes: 60 },
    }),
  ],
  [
    "St John's (a -03:30 offset with DST)",
    configWith({
      timeZone: 'America/St_Johns',
      hours: { ...DEFAULT_BUSINESS_CONFIG.hours, sun: ['00:00-03:00'] },
      holidays: { country: 'CA', state: 'NL' },
      promise: { targets: { sms: 4 }, capHours: 20, roundToMinutes: 10 },
    }),
  ],
  [
    'Chatham Islands (+12:45/+13:45)',
    configWith({
      timeZone: 'Pacific/Chatham',
      hours: EVERY_DAY(['02:00-05:00', '08:00-12:00']),
      holidays: { country: 'NZ' },
      promise: { targets: { sms: 2 }, capHours: 10, roundToMinutes: 30 },
    }),
  ],
  ['UTC (a fixed zone: ISO strings end in Z)', configWith({ timeZone: 'UTC', holidays: { country: 'US' } })],
];

/** Days a DST change or a holiday falls on, plus the closures and openings above. */
const SPECIAL_DAYS = [
  ...['2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31', '2028-03-26', '2028-10-29'],
  ...['2026-04-05', '2026-09-06', '2027-04-04', '2027-09-05', '2026-10-04', '2027-10-03'],
  ...['2026-03-08', '2026-11-01', '2027-03-14', '2027-11-07', '2026-09-27', '2027-09-26'],
  ...['2026-01-01', '2026-01-06', '2026-04-05', '2026-04-06', '2026-05-01', '2026-05-03', '2026-06-04'],
  ...['2026-08-15', '2026-11-01', '2026-11-11', '2026-12-24', '2026-12-25', '2026-12-26', '2026-12-31'],
  ...['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-27', '2027-11-11', '2027-12-18', '2027-12-24'],
  ...['2026-08-03', '2026-08-14', '2027-02-10', '2026-07-04', '2026-11-26', '2026-12-28', '2027-07-05'],
].map((day) => Date.parse(`${day}T12:00:00Z`));

const moments = fc.oneof(
  // Within four days either side of a DST change or a holiday, often on a whole minute.
  fc
    .tuple(
      fc.constantFrom(...SPECIAL_DAYS),
      fc.integer({ min: -4 * 24 * 60, max: 4 * 24 * 60 }),
      fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MINUTE_MS - 1 })),
    )
    .map(([day, minutes, ms]) => new Date(day + minutes * MINUTE_MS + ms)),
  // Anywhere over three years, to the millisecond or on a quarter hour.
  fc.date({
    min: new Date('2025-12-01T00:00:00Z'),
    max: new Date('2028-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  fc
    .integer({
      min: Date.parse('2025-12-01T00:00:00Z') / 900_000,
      max: Date.parse('2028-12-31T00:00:00Z') / 900_000,
    })
    .map((quarter) => new Date(quarter * 900_000)),
);
const workingHours = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 80 }),
  fc.double({ min: 0, max: 100, noNaN: true }),
);
const channels = fc.constantFrom<Channel>(...CHANNELS);

type Outcome = { value: unknown } | { error: string };

/** The value, or the error's name and message: both implementations must fail alike too. */
function outcome(act: () => unknown): Outcome {
  try {
    return { value: act() };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

function calendarsOf(config: BusinessConfig, impl: typeof optimised | typeof reference) {
  return [
    ['business', impl.businessCalendar(config)],
    ['staffed', impl.staffedCalendar(config)],
    ...config.people.rota.map((person) => [person.id, impl.personCalendar(config, person.id)] as const),
  ] as const;
}

describe('the optimised calendar and promise against the luxon reference', () => {
  it.each(CONFIGS)(
    'should give exactly the reference results with %s',
    (_name, config) => {
      const ours = calendarsOf(config, optimised);
      const theirs = calendarsOf(config, reference);
      fc.assert(
        fc.property(
          moments,
          workingHours,
          fc.integer({ min: 0, max: 10 * DAY_MS }),
          channels,
          (at, hours, span, channel) => {
            // Act
            const localDate = DateTime.fromJSDate(at, { zone: config.timeZone }).toISODate() ?? '';
            const run = (calendar: optimised.Calendar) => ({
              isOpen: outcome(() => calendar.isOpen(at)),
              intervalAt: outcome(() => calendar.intervalAt(at)),
              nextOpening: outcome(() => calendar.nextOpening(at).getTime()),
              addWorkingHours: outcome(() => calendar.addWorkingHours(at, hours).getTime()),
              intervalsBetween: outcome(() => calendar.intervalsBetween(at, new Date(at.getTime() + span))),
              intervalsOn: outcome(() => calendar.intervalsOn(localDate)),
            });
            const got = {
              calendars: ours.map(([name, calendar]) => [name, run(calendar)]),
              promise: outcome(() => computePromise(config, { receivedAt: at, channel })),
              closure: outcome(() => optimised.closureAt(config, at)),
            };
            const expected = {
              calendars: theirs.map(([name, calendar]) => [name, run(calendar)]),
              promise: outcome(() => referencePromise(config, { receivedAt: at, channel })),
              closure: outcome(() => reference.closureAt(config, at)),
            };

            // Assess
            expect(got).toEqual(expected);
          },
        ),
        fuzzRuns(400),
      );
      // 400 runs take about 1 s alone; 20 s leaves room for a machine loaded by other suites.
    },
    20_000,
  );

  it('should fail alike when there is no working time for two years', () => {
    // Prepare: parseBusinessConfig refuses a closure this long; a config built in code is not parsed
    const closed: BusinessConfig = {
      ...DEFAULT_BUSINESS_CONFIG,
      closures: [{ from: '2026-01-01', to: '2029-12-31', reason: 'Zamknięte' }],
    };
    const at = new Date('2026-06-01T10:00:00Z');

    // Act
    const got = [
      outcome(() => optimised.businessCalendar(closed).nextOpening(at)),
      outcome(() => optimised.staffedCalendar(closed).addWorkingHours(at, 1)),
      outcome(() => optimised.staffedCalendar(closed).intervalsBetween(at, new Date(Date.UTC(2030, 0)))),
      outcome(() => computePromise(closed, { receivedAt: at, channel: 'sms' })),
      outcome(() => optimised.businessCalendar(closed).isOpen(new Date(Number.NaN))),
    ];
    const expected = [
      outcome(() => reference.businessCalendar(closed).nextOpening(at)),
      outcome(() => reference.staffedCalendar(closed).addWorkingHours(at, 1)),
      outcome(() => reference.staffedCalendar(closed).intervalsBetween(at, new Date(Date.UTC(2030, 0)))),
      outcome(() => referencePromise(closed, { receivedAt: at, channel: 'sms' })),
      outcome(() => reference.businessCalendar(closed).isOpen(new Date(Number.NaN))),
    ];

    // Assess
    expect(got).toEqual(expected);
    expect(got[0]).toEqual({
      error: expect.stringContaining('CalendarError: No working time within 731 days'),
    });
  });

  it('should give the reference results for consecutive days after its day caches have turned over', () => {
    // Prepare: more days than a calendar remembers, so early days are planned again.
    const config = configWith({});
    const start = Date.parse('2026-01-01T07:30:00Z');
    const days = Array.from({ length: 1_500 }, (_, day) => new Date(start + day * DAY_MS));

    // Act
    const got = days.map((at) => optimised.staffedCalendar(config).addWorkingHours(at, 9).getTime());
    const again = days.slice(0, 60).map((at) => computePromise(config, { receivedAt: at, channel: 'sms' }));

    // Assess
    expect(got).toEqual(days.map((at) => reference.staffedCalendar(config).addWorkingHours(at, 9).getTime()));
    expect(again).toEqual(
      days.slice(0, 60).map((at) => referencePromise(config, { receivedAt: at, channel: 'sms' })),
    );
  });
});

const ZONES = [
  'Europe/Warsaw',
  'Europe/Amsterdam',
  'Europe/Dublin',
  'America/Santiago',
  'America/St_Johns',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Africa/Casablanca',
  'Antarctica/Troll',
  'UTC',
  'Etc/GMT-14',
];

/** Every offset change of `zone` between two years, to the millisecond, found through luxon alone. */
function transitions(zone: string, fromYear: number, toYear: number): number[] {
  const z = Info.normalizeZone(zone);
  const found: number[] = [];
  for (let t = Date.UTC(fromYear, 0); t < Date.UTC(toYear, 0); t += 3 * HOUR_MS) {
    if (z.offset(t) === z.offset(t + 3 * HOUR_MS)) continue;
    let [lo, hi] = [t, t + 3 * HOUR_MS];
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (z.offset(mid) === z.offset(t)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

describe('the zone arithmetic in epoch milliseconds against luxon', () => {
  const near = ZONES.flatMap((zone) => transitions(zone, 1995, 2040).map((at) => [zone, at] as const));
  const instants = fc.oneof(
    fc.tuple(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1850, 0), max: Date.UTC(2150, 0) })),
    fc
      .tuple(fc.constantFrom(...near), fc.integer({ min: -3 * HOUR_MS, max: 3 * HOUR_MS }))
      .map(
        ([[zone, at], delta]) =>
          [zone, at + (Math.abs(delta) < 2_000 ? delta : delta - (delta % 1_000))] as const,
      ),
  );

  it('should find transitions to check near', () => {
    // Assess: Warsaw alone changes twice a year.
    expect(near.filter(([zone]) => zone === 'Europe/Warsaw').length).toBeGreaterThan(80);
  });

  it('should give luxon offset, local date, start of the local hour and ISO string', () => {
    fc.assert(
      fc.property(instants, ([zone, at]) => {
        // Act
        const clock = zoneClock(zone);
        const got = {
          offset: clock.offset(at),
          day: localDay(clock, at),
          hour: startOfLocalHour(clock, at),
          iso: isoInZone(clock, at),
        };

        // Assess
        const luxon = DateTime.fromMillis(at, { zone });
        expect(got).toEqual({
          offset: luxon.offset,
          day: Math.floor(Date.UTC(luxon.year, luxon.month - 1, luxon.day) / DAY_MS),
          hour: luxon.startOf('hour').toMillis(),
          iso: luxon.toISO(),
        });
      }),
      fuzzRuns(20_000),
    );
  });

  it('should answer for instants luxon cannot represent as luxon does', () => {
    // Prepare
    const clock = new ZoneClock(Info.normalizeZone('Europe/Warsaw'));

    // Act
    const got = [Number.NaN, 9e15, -9e15].map((at) => ({
      offset: clock.offset(at),
      iso: isoInZone(clock, at),
      hour: startOfLocalHour(clock, at),
    }));

    // Assess
    expect(got).toEqual(
      [Number.NaN, 9e15, -9e15].map((at) => {
        const luxon = DateTime.fromMillis(at, { zone: 'Europe/Warsaw' });
        return { offset: luxon.offset, iso: luxon.toISO(), hour: luxon.startOf('hour').toMillis() };
      }),
    );
  });
});

describe('BoundedMap', () => {
  it('should keep at most its capacity, dropping the oldest key first', () => {
    // Prepare
    const map = new BoundedMap<number, string>(3);

    // Act
    for (const key of [1, 2, 3, 2, 4]) map.set(key, `v${key}`);

    // Assess
    expect(map.size).toBe(3);
    expect([1, 2, 3, 4].map((key) => map.get(key))).toEqual([undefined, 'v2', 'v3', 'v4']);
  });
});
