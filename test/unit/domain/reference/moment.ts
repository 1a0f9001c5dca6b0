// The reference for test/unit/domain/texts-moment.property.test.ts: the texts' local moment as
// lib/domain/texts/index.ts computed it before lib/domain/texts/moment.ts (every step through
// luxon DateTimes). Frozen on purpose: the optimised module must give exactly these fields.
import { DateTime } from 'luxon';
import type { LocalMoment } from '#lib/domain/texts/pl.ts';

function localMoment(at: DateTime, now: DateTime): LocalMoment {
  const midnight = at.hour === 0 && at.minute === 0;
  const day = midnight ? at.minus({ days: 1 }) : at;
  const daysAhead = Math.round(day.startOf('day').diff(now.startOf('day'), 'days').days);
  return {
    daysAhead,
    weekday: day.weekday,
    day: day.day,
    month: day.month,
    hour: midnight ? 24 : at.hour,
    minute: at.minute,
  };
}

/** formatMoment's reading of `at` (an ISO string read with its own offset, or a Date) and `now`. */
export function referenceMoment(at: string | Date, now: Date, timeZone: string): LocalMoment {
  const zoned =
    typeof at === 'string'
      ? DateTime.fromISO(at, { setZone: true }).setZone(timeZone)
      : DateTime.fromJSDate(at, { zone: timeZone });
  return localMoment(zoned, DateTime.fromJSDate(now, { zone: timeZone }));
}
