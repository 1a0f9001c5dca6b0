// The reference for the property tests: lib/domain/promise.ts as it was before the calendar's hot
// path moved to epoch milliseconds (every step through luxon DateTimes). Frozen on purpose:
// the optimised module must give exactly these results. Not imported by lib/. (Stop 23 changed
// the rule itself, here as there: the away promise leaves the team working time after it is back.)
import { DateTime } from 'luxon';
import { z } from 'zod';
import { type BusinessConfig, type Person, PersonSchema } from '#lib/domain/business-config.ts';
import type { Channel } from '#lib/domain/channel.ts';
import { personCalendar, staffedCalendar } from './calendar.ts';

export const ReplyPromiseSchema = z.object({
  /** ISO 8601 with the business time zone's offset, e.g. 2026-11-27T10:00:00.000+01:00. */
  replyBy: z.iso.datetime({ offset: true }),
  /** The channel's target in working hours that the promise was computed from. */
  targetHours: z.number().positive(),
  /** The calendar-hours cap, not the working-hours target, decided replyBy. */
  capped: z.boolean(),
  /** Set when, after the shift running at receipt, nobody is on duty until then: the ack says we are away. */
  teamAwayUntil: z.iso.datetime({ offset: true }).nullable(),
  /** Who will answer, and so who signs the ack. */
  signer: PersonSchema,
});
export type ReplyPromise = z.infer<typeof ReplyPromiseSchema>;

const HOUR_MS = 3_600_000;

function roundLocal(at: number, timeZone: string, minutes: number, direction: 'up' | 'down'): number {
  // Rounds within the local hour so "by 10:15" holds in zones whose offset is not whole hours.
  const hour = DateTime.fromMillis(at, { zone: timeZone }).startOf('hour').toMillis();
  const step = minutes * 60_000;
  const steps = direction === 'up' ? Math.ceil((at - hour) / step) : Math.floor((at - hour) / step);
  return hour + steps * step;
}

/**
 * The reply-by moment for a message received at `receivedAt` on `channel`.
 *
 * Working time is staffed time: business hours (less holidays and closures) in which at least
 * one rota person is on duty. "On duty at t" includes a closing instant (someone working until
 * 17:00 can reply by 17:00) and an opening instant.
 *
 * 1. The target: `targets[channel]` working hours after receipt, rounded up to
 *    `roundToMinutes` (down when up would pass the cap or leave staffed time).
 * 2. When that lands after the cap (`capHours` calendar hours after receipt), the promise is
 *    the cap, rounded down, if someone is on duty then (`capped`).
 * 3. If nobody is on duty at the cap but a shift starts after receipt and before the cap (a
 *    message at 08:00 on a Monday, say), the promise is the end of the last such shift: the
 *    team is in, so the cap stays hard and nobody may be told we are away.
 * 4. Otherwise (nothing but the shift running at receipt, or less working time than the
 *    return allowance, lies before the cap) the team is away: the promise is that allowance of
 *    working time after it comes back, rounded up while still staffed; `teamAwayUntil` is the
 *    return.
 */
export function computePromise(
  config: BusinessConfig,
  input: { receivedAt: Date; channel: Channel },
): ReplyPromise {
  const { timeZone } = config;
  const { capHours, roundToMinutes, targets } = config.promise;
  const staffed = staffedCalendar(config);
  const onDuty = (t: number) => staffed.isOpen(new Date(t)) || staffed.isOpen(new Date(t - 1));
  const round = (t: number, direction: 'up' | 'down') => roundLocal(t, timeZone, roundToMinutes, direction);

  const received = input.receivedAt.getTime();
  const cap = received + capHours * HOUR_MS;
  const targetHours = targets[input.channel];
  const target = staffed.addWorkingHours(input.receivedAt, targetHours).getTime();
  const fits = (t: number) => t >= received && t <= cap && onDuty(t);

  const promise = (replyBy: number, capped: boolean, awayUntil: number | null): ReplyPromise => ({
    replyBy: iso(replyBy, timeZone),
    targetHours,
    capped,
    teamAwayUntil: awayUntil === null ? null : iso(awayUntil, timeZone),
    signer: signerAt(config, replyBy),
  });

  if (target <= cap) {
    // The unrounded target always fits, so this always finds one.
    const replyBy = [round(target, 'up'), round(target, 'down'), target].find(fits) ?? target;
    return promise(replyBy, false, null);
  }
  const shifts = staffed.intervalsBetween(input.receivedAt, new Date(cap));
  const allowanceHours = Math.min(targetHours, config.promise.hoursAfterReturn, capHours);
  let workingBeforeCap = 0;
  for (const shift of shifts) {
    workingBeforeCap += Math.max(0, Math.min(shift.end, cap) - Math.max(shift.start, received));
  }
  if (workingBeforeCap >= allowanceHours * HOUR_MS) {
    const atCap = [round(cap, 'down'), cap].find(fits);
    if (atCap !== undefined) return promise(atCap, true, null);

    const lastShift = shifts.filter((shift) => shift.start > received).at(-1);
    if (lastShift) {
      const end = Math.min(lastShift.end, cap);
      return promise([round(end, 'down'), end].find(fits) ?? end, true, null);
    }
  }

  const running = staffed.intervalAt(input.receivedAt);
  const back = staffed.nextOpening(new Date(running ? running.end : received));
  const due = staffed.addWorkingHours(back, allowanceHours).getTime();
  const rounded = round(due, 'up');
  return promise(onDuty(rounded) ? rounded : due, true, back.getTime());
}

function iso(at: number, timeZone: string): string {
  return DateTime.fromMillis(at, { zone: timeZone }).toISO() ?? new Date(at).toISOString();
}

/** The default person when on duty at `at`, else the first on duty in rota order, else the default. */
function signerAt(config: BusinessConfig, at: number): Person {
  const onDuty = (person: Person) => {
    const calendar = personCalendar(config, person.id);
    return calendar.isOpen(new Date(at)) || calendar.isOpen(new Date(at - 1));
  };
  const { rota } = config.people;
  const fallback = rota.find((person) => person.id === config.people.default);
  const signer = [...(fallback ? [fallback] : []), ...rota].find(onDuty) ?? fallback ?? rota[0];
  if (!signer) throw new RangeError('The rota is empty');
  // The stored promise names the signer, not their duty hours.
  const { hours: _hours, ...contact } = signer;
  return contact;
}
