import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Calendar } from './calendar.ts';
import { type Channel, ChannelSchema } from './channel.ts';
import type { DomainEvent } from './events.ts';
import { bucketOf, type Counts, emptyCounts, workingMinutesBetween } from './service-level-counts.ts';

/**
 * Service level: what the agents' side achieved, counted per business day and channel from the
 * events as they are delivered (never by reading messages back). A day's figures are a few
 * counters, a histogram of first-reply times and one small record per resolved conversation.
 */

export {
  addCounts,
  BUCKET_MINUTES,
  bucketOf,
  COUNTERS,
  type Counter,
  type Counts,
  emptyCounts,
  FCR_WINDOW_MS,
  HISTOGRAM_HOURS,
  LAST_BUCKET,
  MAX_RANGE_DAYS,
  OVERFLOW_BUCKET,
  percentileHours,
  workingMinutesBetween,
} from './service-level-counts.ts';
export { type Figures, figuresOf } from './service-level-figures.ts';
export {
  type FcrOutcome,
  type FcrTally,
  fcrOutcome,
  isCustomerOpening,
  isFollowUp,
  type Resolution,
  type ResolutionKey,
  reopenedSince,
  tallyResolutions,
  wasReopened,
} from './service-level-resolutions.ts';

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
