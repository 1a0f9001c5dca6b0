import { createRequire } from 'node:module';
import type HolidaysLibrary from 'date-holidays';
import table from './holidays.generated.json' with { type: 'json' };

/** Which public holidays close the business: the `holidays` block of switchboard.config.json with its time zone. */
export type HolidaySpec = {
  readonly country: string;
  readonly state?: string | undefined;
  readonly region?: string | undefined;
  readonly types: readonly string[];
  readonly timeZone: string;
};

/** One holiday as an interval of epoch milliseconds (start inclusive, end exclusive). */
export type Holiday = { readonly start: number; readonly end: number; readonly name: string };

type TableEntry = { start: number; end: number; name: string; type: string };
export type HolidayTable = {
  readonly country: string;
  readonly state: string | null;
  readonly region: string | null;
  /** The types kept (the config's), sorted. */
  readonly types: readonly string[];
  readonly timeZone: string;
  readonly fromYear: number;
  readonly toYear: number;
  readonly years: Readonly<Record<string, readonly Holiday[]>>;
};

/** Every type date-holidays knows; a config picks those that close the business. */
export const ALL_HOLIDAY_TYPES = ['public', 'bank', 'optional', 'school', 'observance'] as const;

/*
 * Holidays come from date-holidays, but the library is 1.4 MB of bundle (its rule parser,
 * moment-timezone with every zone, an astronomy package) and parses a country's rules at
 * cold start, for a few dozen dates a year. So `npm run holidays` computes them with the
 * library for the configured place, 2020–2045, into holidays.generated.json; the Lambda
 * bundles read that table, and the library is loaded (synchronously, from node_modules)
 * only for a place or a year the table does not cover: a local config edited without
 * regenerating, a test of another country. The build refuses a table that does not match
 * the bundled config (infra/build.ts), and a test compares the table with the library.
 */
const GENERATED = table as HolidayTable;
const EMPTY_TABLE: HolidayTable = {
  country: '',
  state: null,
  region: null,
  types: [],
  timeZone: '',
  fromYear: 0,
  toYear: -1,
  years: {},
};

const sameTypes = (a: readonly string[], b: readonly string[]) =>
  a.length === new Set(b).size && a.every((type) => b.includes(type));

function tableCovers(generated: HolidayTable, spec: HolidaySpec, year: number): boolean {
  return (
    generated.country === spec.country &&
    generated.state === (spec.state ?? null) &&
    generated.region === (spec.region ?? null) &&
    generated.timeZone === spec.timeZone &&
    sameTypes(generated.types, spec.types) &&
    year >= generated.fromYear &&
    year <= generated.toYear
  );
}

/** Whether the generated table answers for this place and every year from..to. */
export function tableMatches(spec: HolidaySpec, years: { from: number; to: number }, generated = GENERATED) {
  return tableCovers(generated, spec, years.from) && tableCovers(generated, spec, years.to);
}

// A variable specifier: bundlers leave this require alone, so the library never ships.
const LIBRARY = 'date-holidays';
let library: typeof HolidaysLibrary | undefined;
function loadLibrary(): typeof HolidaysLibrary {
  if (!library) {
    try {
      library = createRequire(import.meta.url)(LIBRARY) as typeof HolidaysLibrary;
    } catch {
      throw new Error(
        'The holiday table (lib/domain/holidays.generated.json) does not cover this config and date-holidays is not installed: run `npm run holidays` and rebuild',
      );
    }
  }
  return library;
}

const instances = new Map<string, HolidaysLibrary>();

/** The library's holidays of one year and place, every type. */
export function libraryHolidays(spec: Omit<HolidaySpec, 'types'>, year: number): TableEntry[] {
  const key = JSON.stringify([spec.country, spec.state, spec.region, spec.timeZone]);
  let instance = instances.get(key);
  if (!instance) {
    const Holidays = loadLibrary();
    const options = { timezone: spec.timeZone, types: [...ALL_HOLIDAY_TYPES] };
    instance =
      spec.state === undefined
        ? new Holidays(spec.country, options)
        : spec.region === undefined
          ? new Holidays(spec.country, spec.state, options)
          : new Holidays(spec.country, spec.state, spec.region, options);
    instances.set(key, instance);
  }
  return instance
    .getHolidays(year)
    .map((h) => ({ start: h.start.getTime(), end: h.end.getTime(), name: h.name, type: h.type }));
}

/** The holidays of `year` that close the business, from the table when it covers them. */
export function holidaysOf(spec: HolidaySpec, year: number, generated = GENERATED): readonly Holiday[] {
  if (tableCovers(generated, spec, year)) return generated.years[String(year)] ?? [];
  return libraryHolidays(spec, year)
    .filter((entry) => spec.types.includes(entry.type))
    .map(({ start, end, name }) => ({ start, end, name }));
}

/**
 * What is wrong with a place (unknown country, state or region), or null. The place the
 * table was generated for is known by construction; any other is asked of the library.
 */
export function placeProblem(place: {
  country: string;
  state?: string | undefined;
  region?: string | undefined;
}) {
  if (
    GENERATED.country === place.country &&
    GENERATED.state === (place.state ?? null) &&
    GENERATED.region === (place.region ?? null)
  ) {
    return null;
  }
  const known = new (loadLibrary())();
  const { country, state, region } = place;
  if (!(country in known.getCountries()))
    return { key: 'country', message: `"${country}" is not a country date-holidays knows` };
  if (state !== undefined && !(state in (known.getStates(country) ?? {}))) {
    return { key: 'state', message: `"${state}" is not a state of ${country}` };
  }
  if (region !== undefined && state === undefined) return { key: 'region', message: 'needs a state' };
  if (region !== undefined && state !== undefined && !(region in (known.getRegions(country, state) ?? {}))) {
    return { key: 'region', message: `"${region}" is not a region of ${country}-${state}` };
  }
  return null;
}

/** The table `npm run holidays` writes: the holidays of `spec`, years from..to inclusive. */
export function generateHolidayTable(spec: HolidaySpec, fromYear: number, toYear: number): HolidayTable {
  const years: Record<string, readonly Holiday[]> = {};
  for (let year = fromYear; year <= toYear; year++) {
    years[String(year)] = holidaysOf(spec, year, EMPTY_TABLE);
  }
  return {
    country: spec.country,
    state: spec.state ?? null,
    region: spec.region ?? null,
    types: [...new Set(spec.types)].sort(),
    timeZone: spec.timeZone,
    fromYear,
    toYear,
    years,
  };
}
