import { DateTime } from 'luxon';
import { DAY_MS, zoneClock } from '#lib/domain/calendar-cache.ts';
import type { LocalMoment } from '#lib/domain/texts/pl.ts';

/**
 * A moment's wall-clock fields in the business time zone, relative to `now`, for the texts.
 * luxon built four DateTimes a moment (each asking Intl for the zone's offset, then startOf,
 * minus and a calendar diff): about a third of an acknowledgement's CPU in the ack worker. The
 * zone's memoized offsets (calendar-cache.ts) give the same fields by plain arithmetic, exactly
 * as luxon derives them; anything outside that arithmetic (a timestamp in another form, a
 * date past Date's range) takes luxon's own route. test/unit/domain/texts-moment.property.test.ts
 * holds it to that route, frozen in test/unit/domain/reference/moment.ts.
 */
export function localMoment(at: string | Date, now: Date, timeZone: string): LocalMoment {
  const atMs = instantOf(at);
  const clock = zoneClock(timeZone);
  if (atMs !== null && clock.iana) {
    const wall = new Date(atMs + clock.offset(atMs) * 60_000);
    const nowMs = now.getTime();
    const nowWall = new Date(nowMs + clock.offset(nowMs) * 60_000).getTime();
    if (!Number.isNaN(wall.getTime()) && !Number.isNaN(nowWall)) {
      const hour = wall.getUTCHours();
      const minute = wall.getUTCMinutes();
      // 00:00 ends the day before (a desk open until 24:00): "today by midnight", "dziś do 24:00",
      // never "tomorrow", which would read as a whole day later.
      const midnight = hour === 0 && minute === 0;
      const dayNumber = Math.floor(wall.getTime() / DAY_MS) - (midnight ? 1 : 0);
      const day = new Date(dayNumber * DAY_MS);
      return {
        daysAhead: dayNumber - Math.floor(nowWall / DAY_MS),
        weekday: day.getUTCDay() || 7,
        day: day.getUTCDate(),
        month: day.getUTCMonth() + 1,
        hour: midnight ? 24 : hour,
        minute,
      };
    }
  }
  return luxonMoment(at, now, timeZone);
}

// The form every stored timestamp has (toISOString, luxon's toISO): Date.parse reads it as luxon does.
const PLAIN_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:\d{2})$/;

function instantOf(at: string | Date): number | null {
  const ms = typeof at === 'string' ? (PLAIN_ISO.test(at) ? Date.parse(at) : Number.NaN) : at.getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** The same fields through luxon's DateTime, step by step (the texts' route before this module). */
function luxonMoment(at: string | Date, now: Date, timeZone: string): LocalMoment {
  const zoned =
    typeof at === 'string'
      ? DateTime.fromISO(at, { setZone: true }).setZone(timeZone)
      : DateTime.fromJSDate(at, { zone: timeZone });
  const zonedNow = DateTime.fromJSDate(now, { zone: timeZone });
  const midnight = zoned.hour === 0 && zoned.minute === 0;
  const day = midnight ? zoned.minus({ days: 1 }) : zoned;
  const daysAhead = Math.round(day.startOf('day').diff(zonedNow.startOf('day'), 'days').days);
  return {
    daysAhead,
    weekday: day.weekday,
    day: day.day,
    month: day.month,
    hour: midnight ? 24 : zoned.hour,
    minute: zoned.minute,
  };
}
