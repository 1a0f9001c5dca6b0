import Holidays, { type HolidaysTypes } from 'date-holidays';
import { describe, expect, it } from 'vitest';
import { parseBusinessConfig } from '#lib/domain/business-config.ts';
import table from '#lib/domain/holidays.generated.json' with { type: 'json' };
import { generateHolidayTable, type HolidaySpec, holidaysOf, tableMatches } from '#lib/domain/holidays.ts';
import businessJson from '../../../switchboard.config.json' with { type: 'json' };

/** What the calendar asked date-holidays before the table existed: the library, configured with the types. */
function straightFromTheLibrary(spec: HolidaySpec, year: number) {
  const options = { timezone: spec.timeZone, types: [...spec.types] as HolidaysTypes.HolidayType[] };
  const instance =
    spec.state === undefined
      ? new Holidays(spec.country, options)
      : new Holidays(spec.country, spec.state, options);
  return instance
    .getHolidays(year)
    .filter((holiday) => spec.types.includes(holiday.type))
    .map((holiday) => ({ start: holiday.start.getTime(), end: holiday.end.getTime(), name: holiday.name }));
}

const config = parseBusinessConfig(businessJson);
const bundled: HolidaySpec = { ...config.holidays, timeZone: config.timeZone };

describe('the generated holiday table', () => {
  it('should hold exactly what date-holidays says for the bundled config, every year it covers', () => {
    // Prepare
    expect(tableMatches(bundled, { from: table.fromYear, to: table.toYear })).toBe(true);

    for (let year = table.fromYear; year <= table.toYear; year++) {
      // Act
      const fromTable = holidaysOf(bundled, year);

      // Assess
      expect(fromTable, String(year)).toEqual(straightFromTheLibrary(bundled, year));
      expect(fromTable.length, String(year)).toBeGreaterThan(0);
    }
  });

  it('should be what `npm run holidays` would write today (no stale names or dates)', () => {
    // Act
    const regenerated = generateHolidayTable(bundled, table.fromYear, table.toYear);

    // Assess
    expect(JSON.parse(JSON.stringify(regenerated))).toEqual(table);
  });

  it('should fall back to the library for a place, types or year it does not cover', () => {
    // Prepare
    const bavaria: HolidaySpec = { country: 'DE', state: 'BY', types: ['public'], timeZone: 'Europe/Berlin' };
    const onlyPublic: HolidaySpec = { ...bundled, types: ['public'] };
    const otherZone: HolidaySpec = { ...bundled, timeZone: 'Europe/London' };

    // Act + Assess
    expect(holidaysOf(bavaria, 2027)).toEqual(straightFromTheLibrary(bavaria, 2027));
    expect(holidaysOf(onlyPublic, 2027)).toEqual(straightFromTheLibrary(onlyPublic, 2027));
    expect(holidaysOf(otherZone, 2027)).toEqual(straightFromTheLibrary(otherZone, 2027));
    expect(holidaysOf(bundled, table.toYear + 1)).toEqual(straightFromTheLibrary(bundled, table.toYear + 1));
  });

  it('should say it does not match another place, zone, set of types or range of years', () => {
    // Act + Assess
    expect(tableMatches(bundled, { from: 2026, to: 2036 })).toBe(true);
    expect(tableMatches({ ...bundled, types: [...bundled.types].reverse() }, { from: 2026, to: 2036 })).toBe(
      true,
    );
    expect(tableMatches({ ...bundled, country: 'DE' }, { from: 2026, to: 2036 })).toBe(false);
    expect(tableMatches({ ...bundled, timeZone: 'Europe/Berlin' }, { from: 2026, to: 2036 })).toBe(false);
    expect(tableMatches({ ...bundled, types: ['public'] }, { from: 2026, to: 2036 })).toBe(false);
    expect(tableMatches(bundled, { from: 2026, to: table.toYear + 1 })).toBe(false);
  });
});
