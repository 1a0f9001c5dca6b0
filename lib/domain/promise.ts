import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  type BusinessConfig,
  BusinessConfigError,
  type Person,
  PersonSchema,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import { CalendarError, personCalendar, staffedCalendar } from '#lib/domain/calendar.ts';
import {
  HOUR_MS,
  isoInZone,
  startOfLocalHour,
  type ZoneClock,
  zoneClock,
} from '#lib/domain/calendar-cache.ts';
import { CHANNELS, type Channel } from '#lib/domain/channel.ts';

export const ReplyPromiseSchema = z.looseObject({
  /** ISO 8601 with the business time zone's offset, e.g. 2026-11-27T10:00:00.000+01:00. */
  replyBy: z.iso.datetime({ offset: true }),
  /** The channel's target in working hours that the promise was computed from. */
  targetHours: z.number().positive(),
  /** The calendar-hours cap, not the working-hours target, decided replyBy. */
  capped: z.boolean(),
  /** Set when, after the shift running at receipt, nobody is on duty until then: the ack says we are away. */
  teamAwayUntil: z.iso.datetime({ offset: true }).nullable(),
  /**
   * Who will answer, and so who signs the ack. Loose, as the promise: the configuration's Person
   * is strict, and a field a newer release stored on the signer made the conversation unreadable.
   */
  signer: z.looseObject(PersonSchema.shape),
});
export type ReplyPromise = z.infer<typeof ReplyPromiseSchema>;

function roundLocal(at: number, clock: ZoneClock, minutes: number, direction: 'up' | 'down'): number {
  // Rounds within the local hour so "by 10:15" holds in zones whose offset is not whole hours.
  const hour = startOfLocalHour(clock, at);
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
 * 4. Otherwise the team is away: nothing but what is left of the shift running at receipt lies
 *    before the cap, or less working time than the return allowance (`hoursAfterReturn`, or
 *    the target or the cap when smaller) does (a message on Sunday at 09:30 with the cap at 09:30 on
 *    Monday). The promise is that allowance of working time after the team comes back,
 *    rounded up while still staffed, beyond the cap; `teamAwayUntil` is the return, so the ack
 *    can say honestly that we are away and when we will answer. Never the return itself: a
 *    reply due the moment the first person walks in is one nobody can keep, and its late
 *    notice would go out before anyone is at work.
 */
export function computePromise(
  config: BusinessConfig,
  input: { receivedAt: Date; channel: Channel },
): ReplyPromise {
  const clock = zoneClock(config.timeZone);
  const { capHours, roundToMinutes, targets, hoursAfterReturn } = config.promise;
  const staffed = staffedCalendar(config);
  const onDuty = (t: number) => staffed.isOpen(new Date(t)) || staffed.isOpen(new Date(t - 1));
  const round = (t: number, direction: 'up' | 'down') => roundLocal(t, clock, roundToMinutes, direction);

  const received = input.receivedAt.getTime();
  const cap = received + capHours * HOUR_MS;
  const targetHours = targets[input.channel];
  const target = staffed.addWorkingHours(input.receivedAt, targetHours).getTime();
  const fits = (t: number) => t >= received && t <= cap && onDuty(t);

  const promise = (replyBy: number, capped: boolean, awayUntil: number | null): ReplyPromise => ({
    replyBy: iso(replyBy, clock),
    targetHours,
    capped,
    teamAwayUntil: awayUntil === null ? null : iso(awayUntil, clock),
    signer: signerAt(config, replyBy),
  });

  if (target <= cap) {
    // The unrounded target always fits, so this always finds one.
    const replyBy = [round(target, 'up'), round(target, 'down'), target].find(fits) ?? target;
    return promise(replyBy, false, null);
  }
  const shifts = staffed.intervalsBetween(input.receivedAt, new Date(cap));
  // Never more than the cap itself gives (a cap of minutes makes nobody away).
  const allowanceHours = Math.min(targetHours, hoursAfterReturn, capHours);
  const workingBeforeCap = shifts.reduce(
    (sum, shift) => sum + Math.max(0, Math.min(shift.end, cap) - Math.max(shift.start, received)),
    0,
  );
  if (workingBeforeCap >= allowanceHours * HOUR_MS) {
    const atCap = [round(cap, 'down'), cap].find(fits);
    if (atCap !== undefined) return promise(atCap, true, null);

    const lastShift = shifts.filter((shift) => shift.start > received).at(-1);
    if (lastShift) {
      const end = Math.min(lastShift.end, cap);
      return promise([round(end, 'down'), end].find(fits) ?? end, true, null);
    }
  }

  // Back after the shift running at receipt (if any); the allowance counts from there.
  const shiftEnd = staffed.intervalAt(input.receivedAt)?.end ?? received;
  const back = staffed.nextOpening(new Date(shiftEnd));
  const due = staffed.addWorkingHours(back, allowanceHours).getTime();
  const rounded = round(due, 'up');
  return promise(onDuty(rounded) ? rounded : due, true, back.getTime());
}

/**
 * What keeps a parsed config from making a promise for a message received now or when one of
 * its coming closures starts, path first as in BusinessConfigError. The schema refuses the
 * calendars it can see cannot promise (lib/domain/business-config.ts); this start-up check
 * catches any other, at load instead of as a 500 on every webhook.
 */
export function promiseProblems(config: BusinessConfig, now: Date): string[] {
  const moments = [
    { path: 'promise', what: `now (${now.toISOString()})`, at: now },
    ...config.closures.flatMap((closure, index) => {
      const start = DateTime.fromISO(closure.from, { zone: config.timeZone }).toJSDate();
      return start > now ? [{ path: `closures[${index}]`, what: `when it starts`, at: start }] : [];
    }),
  ];
  const problems: string[] = [];
  for (const { path, what, at } of moments) {
    for (const channel of CHANNELS) {
      try {
        computePromise(config, { receivedAt: at, channel });
      } catch (error) {
        if (!(error instanceof CalendarError)) throw error;
        problems.push(
          `${path}: no promise can be made for a message received ${what} on ${channel}: ${error.message}`,
        );
        break;
      }
    }
  }
  return problems;
}

/**
 * The business settings as every place that runs or ships them must take them: parsed, and
 * refused (BusinessConfigError, naming each problem) when they cannot make a promise from `now`.
 * npm start, a Lambda cold start and `cdk synth` all call this, so a file one of them refuses
 * is refused by all: a config that could promise nothing would otherwise start, and then throw
 * a CalendarError on every message.
 */
export function parseServableBusinessConfig(json: unknown, now = new Date()): BusinessConfig {
  const config = parseBusinessConfig(json);
  assertCanPromise(config, now);
  return config;
}

/** Throws BusinessConfigError listing promiseProblems, if any. */
export function assertCanPromise(config: BusinessConfig, now: Date): void {
  const problems = promiseProblems(config, now);
  if (problems.length > 0) throw new BusinessConfigError(problems);
}

function iso(at: number, clock: ZoneClock): string {
  return isoInZone(clock, at) ?? new Date(at).toISOString();
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

/** What the late notice of a promise is timed from: the promise, and when the customer began to wait. */
export type NoticePromise = { replyBy: string; since: string; teamAwayUntil: string | null };

/**
 * When an unanswered promise's late notice is due (ISO), or null for none: a plain lead before
 * the promise (a number, as if someone were always on duty), or a business's `noticeSchedule`.
 */
export type NoticeTiming = number | NoticeSchedule;

/** A business's timing of late notices (`noticeSchedule`). */
export type NoticeSchedule = (promise: NoticePromise) => string | null;

/**
 * The late notice of a promise, timed in the business's working time: `leadMs` of staffed time
 * before the promise (for one due soon after the team comes in, near the end of the shift
 * before, while someone is at work to sign it), and never before the team has had `leadMs` of
 * working time since the customer wrote, or since it came back when it was away. When that
 * leaves no time before the promise there is no notice: an apology before anyone could have
 * answered would only be one more message (the breach still counts).
 */
export function noticeSchedule(config: BusinessConfig, leadMs: number): NoticeSchedule {
  const staffed = staffedCalendar(config);
  return ({ replyBy, since, teamAwayUntil }) => {
    const due = Date.parse(replyBy);
    const from = Date.parse(since);
    if (!(due > from)) return null;
    try {
      // Back over the shifts before the promise until `leadMs` of working time is left.
      let at = from;
      let remaining = leadMs;
      for (const shift of staffed.intervalsBetween(new Date(from), new Date(due)).reverse()) {
        const end = Math.min(shift.end, due);
        const start = Math.max(shift.start, from);
        if (end <= start) continue;
        if (end - start >= remaining) {
          at = end - remaining;
          break;
        }
        remaining -= end - start;
      }
      const base = Math.max(from, teamAwayUntil ? Date.parse(teamAwayUntil) : from);
      const earliest = staffed.addWorkingHours(new Date(base), leadMs / HOUR_MS).getTime();
      const notice = Math.max(at, earliest);
      return notice < due ? new Date(notice).toISOString() : null;
    } catch {
      // A calendar with no working time left (closed for years since the promise was made): the plain lead.
      return new Date(due - leadMs).toISOString();
    }
  };
}
