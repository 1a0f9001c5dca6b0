import { DateTime, IANAZone, Info, type Zone } from 'luxon';

/**
 * Time-zone arithmetic in epoch milliseconds for the calendar's hot path.
 *
 * luxon asks Intl for a zone's offset on every DateTime it builds (formatToParts, the bulk of a
 * promise's CPU). Offsets only change at a zone's transitions, so each zone's offset is probed
 * once per six-hour stretch and remembered; everything luxon would derive from it (the local
 * date, the start of the local hour, the ISO string) is then plain arithmetic that repeats
 * luxon's own steps exactly, so results are identical to the DateTime route.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A first-in-first-out memo: once full, each new key pushes out the oldest. */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): V {
    if (!this.#entries.has(key) && this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}

// Six hours: a bucket holds at most one transition (tzdb has no two within hours of each other).
const BUCKET_MS = 6 * HOUR_MS;
// About eleven years of buckets per zone, a few hundred kilobytes at most.
const BUCKETS_PER_ZONE = 16_384;
const ZONES = 64;

/** The offset over one bucket: constant, one transition at `at`, or unknown (ask the zone). */
type Bucket = number | { readonly at: number; readonly before: number; readonly after: number } | null;

/** One time zone's offsets (minutes east of UTC, as luxon's `Zone.offset`), memoized. */
export class ZoneClock {
  readonly zone: Zone;
  /** An IANA zone, whose ISO strings always carry a numeric offset (never `Z`). */
  readonly iana: boolean;
  readonly #buckets = new BoundedMap<number, Bucket>(BUCKETS_PER_ZONE);

  constructor(zone: Zone) {
    this.zone = zone;
    this.iana = zone instanceof IANAZone;
  }

  /** Exactly `zone.offset(ts)`. */
  offset(ts: number): number {
    // Fixed and system zones answer cheaply without Intl.
    if (!this.iana) return this.zone.offset(ts);
    const key = Math.floor(ts / BUCKET_MS);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) bucket = this.#buckets.set(key, this.#probe(key));
    if (typeof bucket === 'number') return bucket;
    if (bucket === null) return this.zone.offset(ts);
    return ts < bucket.at ? bucket.before : bucket.after;
  }

  #probe(key: number): Bucket {
    const first = key * BUCKET_MS;
    const last = first + BUCKET_MS - 1;
    const before = this.zone.offset(first);
    const after = this.zone.offset(last);
    if (!Number.isFinite(before) || !Number.isFinite(after)) return null;
    if (before === after) return before;
    // The first millisecond with the new offset: luxon's offsets step at whole seconds.
    let lo = first;
    let hi = last;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.zone.offset(mid) === before) lo = mid;
      else hi = mid;
    }
    return this.zone.offset(hi) === after ? { at: hi, before, after } : null;
  }
}

const clocks = new BoundedMap<string, ZoneClock>(ZONES);

/** The memoized clock of a zone name, resolved the way luxon resolves `{ zone: name }`. */
export function zoneClock(timeZone: string): ZoneClock {
  return clocks.get(timeZone) ?? clocks.set(timeZone, new ZoneClock(Info.normalizeZone(timeZone)));
}

/** luxon's local wall-clock reading of `ts` as epoch milliseconds (tsToObj, then objToLocalTS). */
function wallClock(clock: ZoneClock, ts: number): number {
  // new Date() truncates, as luxon's tsToObj does.
  return new Date(ts + clock.offset(ts) * 60 * 1000).getTime();
}

/** The local date of `ts` as days since 1970-01-01: `DateTime.fromMillis(ts, { zone })` has that date. */
export function localDay(clock: ZoneClock, ts: number): number {
  return Math.floor(wallClock(clock, ts) / DAY_MS);
}

/** Days since 1970-01-01 of a calendar date (years 0-99 are years 0-99, as in luxon). */
export function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.floor(date.getTime() / DAY_MS);
}

/**
 * The start of local date `day` in the zone. Where midnight happens twice (clocks going back at
 * 01:00, as in Havana), it is the first: luxon's `fromObject` would pick the one whose offset is
 * in force *now*, so the calendar would change with the date the process runs on.
 */
export function dateOfDay(timeZone: string, day: number): DateTime {
  const date = new Date(day * DAY_MS);
  if (Number.isNaN(date.getTime())) return DateTime.invalid('not a day');
  const clock = zoneClock(timeZone);
  return DateTime.fromMillis(localInstant(clock, date.getTime()), { zone: clock.zone });
}

/**
 * The instant of wall-clock time `local` (its fields read as UTC epoch milliseconds) in the
 * zone, the same whatever today is: a repeated time is the earlier of the two, a skipped one
 * moves past the gap as luxon moves it. luxon's `fromObject` and `fromISO` without an offset
 * guess the offset in force now, so they resolve a repeated time by the date they run on.
 */
export function localInstant(clock: ZoneClock, local: number): number {
  // The offset a day before is the one before any transition near `local` (tzdb has no two
  // within days of each other): fixOffset keeps it when it fits, which is the earlier instant.
  return fixOffset(clock, local, clock.offset(local - DAY_MS));
}

/**
 * An ISO date or local date-time (`2026-11-01`, `2026-11-01T00:30`) in `timeZone`, resolved as
 * `localInstant` does; one with its own offset (`…+01:00`, `…Z`) is that instant.
 */
export function parseLocal(value: string, timeZone: string): DateTime {
  const clock = zoneClock(timeZone);
  const own = DateTime.fromISO(value, { setZone: true });
  // An offset after the time (a date alone ends in "-DD", which is no offset).
  if (!own.isValid || /T[\d:.]+(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(value)) return own.setZone(clock.zone);
  // Read as UTC, the fields come back unchanged: that is the wall-clock time.
  const wall = DateTime.fromISO(value, { zone: 'utc' });
  return DateTime.fromMillis(localInstant(clock, wall.toMillis()), { zone: clock.zone });
}

/** luxon's fixOffset: the instant of local wall-clock time `local`, guessing offset `guess` first. */
function fixOffset(clock: ZoneClock, local: number, guess: number): number {
  let utc = local - guess * 60 * 1000;
  const o2 = clock.offset(utc);
  if (guess === o2) return utc;
  utc -= (o2 - guess) * 60 * 1000;
  const o3 = clock.offset(utc);
  if (o2 === o3) return utc;
  return local - Math.min(o2, o3) * 60 * 1000;
}

/** Exactly `DateTime.fromMillis(ts, { zone }).startOf('hour').toMillis()`. */
export function startOfLocalHour(clock: ZoneClock, ts: number): number {
  const offset = clock.offset(ts);
  const wall = new Date(ts + offset * 60 * 1000).getTime();
  if (Number.isNaN(wall)) return DateTime.fromMillis(ts, { zone: clock.zone }).startOf('hour').toMillis();
  const hour = wall - (((wall % HOUR_MS) + HOUR_MS) % HOUR_MS);
  return fixOffset(clock, hour, offset);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Exactly `DateTime.fromMillis(ts, { zone }).toISO()`, e.g. 2026-11-27T10:00:00.000+01:00. */
export function isoInZone(clock: ZoneClock, ts: number): string | null {
  const offset = clock.offset(ts);
  const wall = new Date(ts + offset * 60 * 1000);
  const year = wall.getUTCFullYear();
  // Whole-minute offsets of IANA zones within years 0-9999 only; luxon formats the rest.
  if (!clock.iana || !Number.isInteger(offset) || !(year >= 0 && year <= 9999))
    return DateTime.fromMillis(ts, { zone: clock.zone }).toISO();
  const ms = wall.getUTCMilliseconds();
  const abs = Math.abs(offset);
  return (
    `${String(year).padStart(4, '0')}-${pad2(wall.getUTCMonth() + 1)}-${pad2(wall.getUTCDate())}` +
    `T${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}:${pad2(wall.getUTCSeconds())}` +
    `.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}` +
    `${offset < 0 ? '-' : '+'}${pad2(Math.trunc(abs / 60))}:${pad2(abs % 60)}`
  );
}
