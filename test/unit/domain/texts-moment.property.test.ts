import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localMoment } from '#lib/domain/texts/moment.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { referenceMoment } from '#test/unit/domain/reference/moment.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// Zones whose clocks change at midnight (Havana, Santiago, Beirut), by half hours (Lord Howe), by
// odd minutes (Kathmandu, Chatham), across the date line (Apia), and fixed ones.
const ZONES = [
  'Europe/Warsaw',
  'Europe/Dublin',
  'America/Havana',
  'America/Santiago',
  'Asia/Beirut',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Africa/Casablanca',
  'UTC',
  'Etc/GMT-14',
];

// Any instant, or a local midnight (the "24:00 of the day before" case) give or take a minute.
const instants = fc.tuple(
  fc.constantFrom(...ZONES),
  fc.integer({ min: Date.UTC(1900, 0), max: Date.UTC(2100, 0) }),
  fc.constantFrom(null, -MINUTE_MS, 0, MINUTE_MS),
);
const moments = instants.map(([zone, at, nearMidnight]) => {
  if (nearMidnight === null) return [zone, at] as const;
  return [zone, DateTime.fromMillis(at, { zone }).startOf('day').toMillis() + nearMidnight] as const;
});
// How `at` reaches the texts: a stored ISO string with its offset or Z, a Date, or another form
// (no milliseconds, a date alone, not a date), which takes luxon's own route.
const forms = fc.constantFrom('toISO', 'toISOString', 'date', 'noMillis', 'dateOnly', 'invalid');

function written(form: string, at: number, zone: string): string | Date {
  const zoned = DateTime.fromMillis(at, { zone });
  if (form === 'toISO') return zoned.toISO() ?? '';
  if (form === 'toISOString') return new Date(at).toISOString();
  if (form === 'noMillis') return zoned.toISO({ suppressMilliseconds: true }) ?? '';
  if (form === 'dateOnly') return zoned.toISODate() ?? '';
  if (form === 'invalid') return 'soon';
  return new Date(at);
}

describe('the texts’ local moment against luxon', () => {
  it(
    'should give the fields luxon gives: the day (the one before at 00:00), days ahead, weekday and clock',
    () => {
      fc.assert(
        fc.property(
          moments,
          forms,
          fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS }),
          ([zone, at], form, ago) => {
            // Prepare
            const input = written(form, at, zone);
            const now = new Date(at - ago);

            // Act
            const got = localMoment(input, now, zone);

            // Assess
            expect(got).toEqual(referenceMoment(input, now, zone));
          },
        ),
        fuzzRuns(5_000),
      );
    },
    fuzzTimeout(30_000),
  );

  it('should say a time at midnight is 24:00 of the day before, in the business zone', () => {
    // Act
    const got = localMoment(
      '2026-11-30T23:00:00.000Z',
      new Date('2026-11-30T09:00:00.000Z'),
      'Europe/Warsaw',
    );

    // Assess: Tuesday 1 December 00:00 in Warsaw is Monday 30 November by 24:00, today.
    expect(got).toEqual({ daysAhead: 0, weekday: 1, day: 30, month: 11, hour: 24, minute: 0 });
  });
});
