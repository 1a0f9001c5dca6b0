import { DateTime } from 'luxon';
import { z } from 'zod';
import { promisedNobody } from './ack-policy.ts';
import type { Calendar } from './calendar.ts';
import { type Channel, ChannelSchema } from './channel.ts';
import type { DomainEvent } from './events.ts';

/**
 * Service level: what the agents' side achieved, counted per business day and channel from the
 * events as they are delivered (never by reading messages back). A day's figures are a few
 * counters, a histogram of first-reply times and one small record per resolved conversation.
 */

/** First-reply times are kept as quarter hours of working time, up to 48 h; later ones overflow. */
export const BUCKET_MINUTES = 15;
export const HISTOGRAM_HOURS = 48;
export const LAST_BUCKET = (HISTOGRAM_HOURS * 60) / BUCKET_MINUTES;
export const OVERFLOW_BUCKET = LAST_BUCKET + 1;
/** A resolution counts as first-contact only if the customer stays quiet this long afterwards. */
export const FCR_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** The longest range one report reads (one Query per day). */
export const MAX_RANGE_DAYS = 92;

export const COUNTERS = [
  'conversations',
  'messages',
  'answered',
  'measured',
  'kept',
  'notices',
  'breaches',
] as const;
export type Counter = (typeof COUNTERS)[number];

/** What one day (or a range) of one channel (or all) counted. `measured`: answered episodes with a promise. */
export type Counts = Record<Counter, number> & {
  /** Acknowledgements not sent, by reason. */
  skipped: Record<string, number>;
  /** Answered episodes by working time to the first reply: bucket → count (see bucketOf). */
  histogram: Record<number, number>;
};

export function emptyCounts(): Counts {
  return {
    conversations: 0,
    messages: 0,
    answered: 0,
    measured: 0,
    kept: 0,
    notices: 0,
    breaches: 0,
    skipped: {},
    histogram: {},
  };
}

function addRecords<K extends string | number>(
  a: Record<K, number>,
  b: Record<K, number>,
): Record<K, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b) as Array<[K, number]>) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

export function addCounts(a: Counts, b: Counts): Counts {
  const sum = emptyCounts();
  for (const counter of COUNTERS) sum[counter] = a[counter] + b[counter];
  sum.skipped = addRecords(a.skipped, b.skipped);
  sum.histogram = addRecords(a.histogram, b.histogram);
  return sum;
}

/** Working minutes between two moments: the overlap of [from, to) with the calendar's working intervals. */
export function workingMinutesBetween(calendar: Calendar, from: Date, to: Date): number {
  if (to.getTime() <= from.getTime()) return 0;
  const ms = calendar
    .intervalsBetween(from, to)
    .reduce(
      (sum, interval) =>
        sum + Math.max(0, Math.min(interval.end, to.getTime()) - Math.max(interval.start, from.getTime())),
      0,
    );
  return ms / 60_000;
}

/** Bucket 0 holds exactly 0; bucket b holds (b-1, b] quarter hours; above 48 h, the overflow bucket. */
export function bucketOf(minutes: number): number {
  if (minutes <= 0) return 0;
  return Math.min(Math.ceil(minutes / BUCKET_MINUTES), OVERFLOW_BUCKET);
}

/**
 * The p-th percentile (0 < p ≤ 1, nearest rank) in working hours, as the upper bound of its
 * bucket (so "0.5" means "within half an hour"); the overflow bucket reads as 48. null: no data.
 */
export function percentileHours(histogram: Record<number, number>, p: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), count] as const)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return (Math.min(bucket, LAST_BUCKET) * BUCKET_MINUTES) / 60;
  }
  return HISTOGRAM_HOURS;
}

/** The business-time-zone date (YYYY-MM-DD) of a moment: the day it is counted on. */
export function businessDate(at: string | Date, timeZone: string): string {
  const moment = typeof at === 'string' ? DateTime.fromISO(at) : DateTime.fromJSDate(at);
  return moment.setZone(timeZone).toISODate() ?? '';
}

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  const end = DateTime.fromISO(to, { zone: 'utc' });
  for (let day = DateTime.fromISO(from, { zone: 'utc' }); day <= end; day = day.plus({ days: 1 })) {
    dates.push(day.toISODate() ?? '');
  }
  return dates;
}

const ReplySentData = z.object({
  channel: ChannelSchema,
  awaitingSince: z.string().nullable(),
  originalReplyBy: z.string().nullable().optional(),
  /** false: nobody was promised anything (absent on events sent before the field: they were). */
  promised: z.boolean().optional(),
  answeredEpisode: z.boolean(),
});

/** The channel an event names in its data, if it names one. */
export function channelOf(event: DomainEvent): Channel | null {
  // A reply is counted under the conversation it answers, whatever channel it went out on
  // (events recorded before `conversationChannel` existed fall back to `channel`).
  const named =
    event.type === 'reply.sent' ? (event.data.conversationChannel ?? event.data.channel) : event.data.channel;
  const parsed = ChannelSchema.safeParse(named);
  return parsed.success ? parsed.data : null;
}

/** A notice.failed / notice.skipped that takes back a notice marked sent: when it was sent. */
function refusedNoticeSentAt(event: DomainEvent): string | null {
  if (event.type !== 'notice.failed' && event.type !== 'notice.skipped') return null;
  const { sentAt } = event.data;
  return typeof sentAt === 'string' && !Number.isNaN(Date.parse(sentAt)) ? sentAt : null;
}

/**
 * When an event is counted (its business day): when it happened, except a refusal of a notice
 * marked sent, which takes it back from the day it was counted on (the day it was sent).
 */
export function countedAt(event: DomainEvent): string {
  return refusedNoticeSentAt(event) ?? event.occurredAt;
}

/**
 * What one event adds to its day's counters, or null when it adds nothing. A reply counts only
 * when it ended a waiting episode (the episode's first reply), measured from the episode's start
 * in working time and against the promise as first stated (a late notice's new promise does not
 * make a late answer count as kept).
 */
export function countsFor(event: DomainEvent, calendar: Calendar): Counts | null {
  const counts = emptyCounts();
  switch (event.type) {
    case 'conversation.opened':
      counts.conversations = 1;
      return counts;
    case 'message.received':
      counts.messages = 1;
      return counts;
    case 'notice.sent':
      counts.notices = 1;
      return counts;
    // The provider refused a notice after it was marked sent (undelivered, the window closed):
    // the customer got none. A count of its own (claimed by its id like any other), so the sum
    // comes out right in whichever order the two events are counted. A notice refused before it
    // was marked sent was never counted, and its event names no sentAt.
    case 'notice.failed':
    case 'notice.skipped':
      if (refusedNoticeSentAt(event) === null) return null;
      counts.notices = -1;
      return counts;
    case 'promise.breached':
      counts.breaches = 1;
      return counts;
    case 'ack.skipped': {
      const reason =
        typeof event.data.reason === 'string' && event.data.reason ? event.data.reason : 'unknown';
      counts.skipped[reason] = 1;
      return counts;
    }
    case 'reply.sent': {
      const data = ReplySentData.safeParse(event.data);
      if (!data.success || !data.data.answeredEpisode || !data.data.awaitingSince) return null;
      const at = new Date(event.occurredAt);
      counts.answered = 1;
      counts.histogram[bucketOf(workingMinutesBetween(calendar, new Date(data.data.awaitingSince), at))] = 1;
      const promised = data.data.promised !== false ? data.data.originalReplyBy : null;
      if (promised) {
        counts.measured = 1;
        counts.kept = at.getTime() <= Date.parse(promised) ? 1 : 0;
      }
      return counts;
    }
    default:
      return null;
  }
}

/** Where a resolution's record lives: the business day it was resolved on, its channel, the conversation. */
export type ResolutionKey = { date: string; channel: Channel; conversationId: string };

/** One resolved conversation, kept on its day for first-contact resolution. */
export type Resolution = ResolutionKey & {
  resolvedAt: string;
  /** Agent replies the conversation got (distinct reply messages). */
  replies: number;
  /** The customer's next conversation, when it opened within the window. */
  followUpAt?: string | undefined;
  /**
   * The conversation's latest reopening noted on the record. After `resolvedAt`, an agent
   * reopened it: it counts when (if) it is resolved again, on that day. Before it, it belongs to
   * an earlier resolution of the same day the record has moved on from.
   */
  reopenedAt?: string | undefined;
};

/** Whether a conversation opened at `openedAt` follows up the one resolved at `resolvedAt`. */
export function isFollowUp(resolvedAt: string, openedAt: string): boolean {
  const gap = Date.parse(openedAt) - Date.parse(resolvedAt);
  return gap > 0 && gap <= FCR_WINDOW_MS;
}

/**
 * Whether an event is the customer coming (back) to us in its conversation: a
 * conversation.opened, unless a message nobody is to answer opened it (their mailbox's
 * out-of-office reply to our answer, a list post, HELP); then the message.received of their
 * first question in it (`firstQuestion`, stop 25), when it came.
 */
export function isCustomerOpening(event: DomainEvent): boolean {
  if (event.type === 'message.received') return event.data.firstQuestion === true;
  if (event.type !== 'conversation.opened') return false;
  const reason = event.data.noAckReason;
  return !promisedNobody(typeof reason === 'string' ? reason : undefined);
}

/** Whether a resolution was reopened after it was made (a reopening of the same record before it does not count). */
export function wasReopened(resolution: Pick<Resolution, 'resolvedAt' | 'reopenedAt'>): boolean {
  return (
    resolution.reopenedAt !== undefined &&
    Date.parse(resolution.reopenedAt) > Date.parse(resolution.resolvedAt)
  );
}

/**
 * When the resolution at `resolvedAt` was reopened, as far as the conversation's bookkeeping
 * tells when it is noted (events come in any order): its latest reopening, if later; else the
 * time of a later resolution noted before it (it cannot have been resolved again unreopened).
 */
export function reopenedSince(
  resolvedAt: string,
  noted: { reopenedAt: string | null; latestResolvedAt: string | null },
): string | undefined {
  const at = Date.parse(resolvedAt);
  if (noted.reopenedAt && Date.parse(noted.reopenedAt) > at) return noted.reopenedAt;
  if (noted.latestResolvedAt && Date.parse(noted.latestResolvedAt) > at) return noted.latestResolvedAt;
  return undefined;
}

export type FcrOutcome = 'first-contact' | 'not-first-contact' | 'pending' | 'superseded';

/**
 * First-contact resolution of one resolved conversation at `now`: one agent reply and no new
 * customer conversation within 7 days. Undecided (pending) while the 7 days run, unless a
 * follow-up or a second reply already decided it.
 */
export function fcrOutcome(resolution: Resolution, now: Date): FcrOutcome {
  if (wasReopened(resolution)) return 'superseded';
  if (resolution.followUpAt || resolution.replies !== 1) return 'not-first-contact';
  return now.getTime() >= Date.parse(resolution.resolvedAt) + FCR_WINDOW_MS ? 'first-contact' : 'pending';
}

export type FcrTally = { firstContact: number; resolved: number; pending: number };

export function tallyResolutions(resolutions: readonly Resolution[], now: Date): FcrTally {
  const tally: FcrTally = { firstContact: 0, resolved: 0, pending: 0 };
  for (const resolution of resolutions) {
    const outcome = fcrOutcome(resolution, now);
    if (outcome === 'pending') tally.pending++;
    if (outcome === 'first-contact' || outcome === 'not-first-contact') tally.resolved++;
    if (outcome === 'first-contact') tally.firstContact++;
  }
  return tally;
}

export type Figures = {
  /** Conversations received (opened). */
  conversations: number;
  /** Customer messages received. */
  messages: number;
  /** Waiting episodes that got their first reply. */
  answered: number;
  /** Of the answered episodes with a promise, those answered by the promise as first stated. */
  promisesKept: { share: number | null; kept: number; measured: number };
  /** Working hours from the episode's first message to the first reply (quarter-hour resolution). */
  firstReplyWorkingHours: { median: number | null; p90: number | null; over48h: number };
  /** Decided resolutions (7 days passed, or already decided) that took one reply and no follow-up. */
  firstContactResolution: { share: number | null } & FcrTally;
  /** Late notices the customers got: sent, less those the provider refused afterwards. */
  noticesSent: number;
  acksSkipped: Record<string, number>;
  breaches: number;
};

const share = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

export function figuresOf(counts: Counts, fcr: FcrTally): Figures {
  return {
    conversations: counts.conversations,
    messages: counts.messages,
    answered: counts.answered,
    promisesKept: {
      share: share(counts.kept, counts.measured),
      kept: counts.kept,
      measured: counts.measured,
    },
    firstReplyWorkingHours: {
      median: percentileHours(counts.histogram, 0.5),
      p90: percentileHours(counts.histogram, 0.9),
      over48h: counts.histogram[OVERFLOW_BUCKET] ?? 0,
    },
    firstContactResolution: { share: share(fcr.firstContact, fcr.resolved), ...fcr },
    noticesSent: counts.notices,
    acksSkipped: counts.skipped,
    breaches: counts.breaches,
  };
}
