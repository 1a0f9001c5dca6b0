import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { businessCalendar } from '#lib/domain/calendar.ts';
import type { Channel } from '#lib/domain/channel.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import {
  addCounts,
  businessDate,
  type Counts,
  channelOf,
  countedAt,
  countsFor,
  datesBetween,
  emptyCounts,
  type FcrTally,
  type Figures,
  figuresOf,
  isCustomerOpening,
  isFollowUp,
  type Resolution,
  reopenedSince,
  tallyResolutions,
} from '#lib/domain/service-level.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { StatsStore } from '#lib/ports/stats-store.ts';
import { forEachConcurrently } from './loops.ts';

export type StatsSinkDeps = {
  stats: StatsStore;
  /** Where the channel and contact of an event that names neither are read. */
  conversations: Pick<ConversationStore, 'getConversation'>;
  business: BusinessConfig;
  clock: Clock;
  log: Log;
};

export type CountOutcome = 'counted' | 'duplicate' | 'ignored';

/** Conversations whose events are counted at once within one batch. */
const STATS_CONCURRENCY = 16;

/**
 * The stats consumer of the event fan-out: every delivered event updates its day's summary
 * once, however often it is delivered. Events of one outbox are counted in order.
 */
export function statsSink(deps: StatsSinkDeps): EventSink {
  return {
    async publish(events) {
      await countEvents(deps, events);
    },
  };
}

/** Counts one event; see countEvents. */
export async function countEvent(deps: StatsSinkDeps, event: DomainEvent): Promise<CountOutcome> {
  const [outcome] = await countEvents(deps, [event]);
  return outcome ?? 'ignored';
}

/**
 * What a count is claimed under: the event's id, but a message's once whatever conversation
 * announced it (a message moved to another conversation is announced in each, docs/store.md).
 */
function countMarkerOf(event: DomainEvent): string {
  const messageId = event.data.messageId;
  return event.type === 'message.received' && typeof messageId === 'string'
    ? `message.received:${messageId}`
    : event.id;
}

/**
 * Counts events, each conversation's in order. The resolution bookkeeping is idempotent by
 * itself (sets, not sums); the counters are guarded by a conditional marker per event id (kept
 * 35 days), written before the ADD: a redelivery, even one arriving at the same moment, finds
 * it and adds nothing. The events newly claimed are summed per day and channel and added with
 * one write each (a first message's opened + received events: one ADD, not two). If an ADD
 * fails, the claims it carried and those not yet added are taken back and the publisher's
 * retry counts them. If an event fails before its claim, the others are still added and the
 * error is thrown, so that the batch comes again for it. Only a crash between a claim and its
 * ADD (milliseconds) loses a count. The marker comes first on purpose: counting first would
 * turn every concurrent redelivery into a double count, and a lease (claim, count, mark done)
 * would make concurrent duplicates fail their publish and be sent to every other consumer again.
 */
export async function countEvents(
  deps: StatsSinkDeps,
  events: readonly DomainEvent[],
): Promise<CountOutcome[]> {
  const outcomes: CountOutcome[] = events.map(() => 'ignored');
  const groups = new Map<string, { date: string; channel: Channel; counts: Counts; claimed: string[] }>();
  const calendar = businessCalendar(deps.business);
  const countOne = async (event: DomainEvent): Promise<CountOutcome> => {
    await trackResolutions(deps, event);
    const counts = countsFor(event, calendar);
    const channel = counts
      ? (channelOf(event) ?? (await deps.conversations.getConversation(event.conversationId))?.channel)
      : undefined;
    if (!counts || !channel) {
      if (counts)
        deps.log.warn('event of an unknown conversation not counted', {
          eventId: event.id,
          type: event.type,
        });
      return 'ignored';
    }
    const marker = countMarkerOf(event);
    if (!(await deps.stats.claimEvent(marker, deps.clock.now()))) return 'duplicate';
    const date = businessDate(countedAt(event), deps.business.timeZone);
    const key = `${date}|${channel}`;
    const group = groups.get(key);
    if (group) {
      group.counts = addCounts(group.counts, counts);
      group.claimed.push(marker);
    } else {
      groups.set(key, { date, channel, counts, claimed: [marker] });
    }
    return 'counted';
  };
  // One conversation's events in order; different conversations side by side (a batch is up to
  // 100 events, one after the other they took longer than the queue fills at 100 messages a
  // second). The bookkeeping they share (a contact's, a day's) is written by single-item
  // updates that merge, as it is for two batches counted at once.
  const byConversation = Map.groupBy(
    events.map((event, index) => ({ event, index })),
    ({ event }) => event.conversationId,
  );
  const failures: unknown[] = [];
  await forEachConcurrently([...byConversation.values()], STATS_CONCURRENCY, async (conversation) => {
    for (const { event, index } of conversation) {
      try {
        outcomes[index] = await countOne(event);
      } catch (error) {
        // The rest of this conversation waits for the redelivery, in order.
        failures.push(error);
        return;
      }
    }
  });
  const pending = [...groups.values()];
  while (pending.length > 0) {
    const group = pending[0] as (typeof pending)[number];
    try {
      await deps.stats.addToDay(group.date, group.channel, group.counts);
    } catch (error) {
      const unadded = pending.flatMap((g) => g.claimed);
      await Promise.all(unadded.map((id) => deps.stats.releaseEvent(id).catch(() => undefined)));
      throw error;
    }
    pending.shift();
  }
  // What was counted is added; the queue delivers the batch again for the rest.
  if (failures.length > 0) throw failures[0];
  return outcomes;
}

// First-contact resolution needs to know, per resolved conversation, how many replies it got,
// whether it was reopened after it, and whether the same contact came back within 7 days (a
// message after resolving opens a NEW conversation). Each fact is written only forwards and both
// directions are recorded, so a redelivered event changes nothing and the order the events arrive
// in does not matter: no per-event marker is needed (one claimed before this bookkeeping would
// lose it to a crash between the two; one claimed after would not stop a redelivery).
async function trackResolutions(deps: StatsSinkDeps, event: DomainEvent): Promise<void> {
  const { stats } = deps;
  switch (event.type) {
    case 'reply.sent': {
      if (typeof event.data.messageId !== 'string') return;
      const { replies, resolution } = await stats.addReply(event.conversationId, event.data.messageId);
      if (resolution) await stats.markResolution(resolution, { replies });
      return;
    }
    // The customer came (back): a conversation a question opened, or the first question that
    // joined one their own auto-reply (a list post, a keyword) opened; at its time either way.
    case 'conversation.opened':
    case 'message.received': {
      if (typeof event.data.contactKey !== 'string' || !isCustomerOpening(event)) return;
      const last = await stats.noteContactOpened(event.data.contactKey, event.occurredAt);
      if (
        last &&
        last.conversationId !== event.conversationId &&
        isFollowUp(last.resolvedAt, event.occurredAt)
      )
        await stats.markResolution(last, { followUpAt: event.occurredAt });
      return;
    }
    case 'conversation.resolved': {
      const conversation = await deps.conversations.getConversation(event.conversationId);
      if (!conversation) return;
      const resolvedAt = event.occurredAt;
      // Resolved by itself after the customer's thanks before anyone wrote in it (a bare thanks
      // after the answer the agent resolved): nobody resolved anything, and the customer's next
      // question there follows up the answered conversation.
      const answered = conversation.firstReplyAt !== undefined && conversation.firstReplyAt <= resolvedAt;
      if (event.data.reason === 'thanks' && !answered) return;
      const key = {
        date: businessDate(resolvedAt, deps.business.timeZone),
        channel: conversation.channel,
        conversationId: conversation.id,
      };
      const noted = await stats.noteResolved(conversation.id, { ...key, resolvedAt });
      const lastOpenedAt = await stats.noteContactResolved(conversation.contact.key, { ...key, resolvedAt });
      const followUp = lastOpenedAt !== null && isFollowUp(resolvedAt, lastOpenedAt);
      const { previous } = noted;
      const reopenedAt = reopenedSince(resolvedAt, {
        reopenedAt: noted.reopenedAt,
        latestResolvedAt: previous?.resolvedAt ?? null,
      });
      await stats.putResolution({
        ...key,
        resolvedAt,
        replies: noted.replies,
        ...(followUp ? { followUpAt: lastOpenedAt } : {}),
        ...(reopenedAt ? { reopenedAt } : {}),
      });
      // The resolution before this one, on another day's record, was reopened in between (its
      // reopening may not have been counted yet): it is superseded at the latest by this one.
      if (previous && (previous.date !== key.date || previous.channel !== key.channel))
        await stats.markResolution(previous, { reopenedAt: resolvedAt });
      return;
    }
    case 'conversation.reopened': {
      const resolution = await stats.noteReopened(event.conversationId, event.occurredAt);
      if (resolution) await stats.markResolution(resolution, { reopenedAt: event.occurredAt });
      return;
    }
    default:
      return;
  }
}

export type ServiceLevelQuery = { from: string; to: string; channel?: Channel | undefined };

export type ServiceLevelReport = {
  from: string;
  to: string;
  timeZone: string;
  channel: Channel | null;
  totals: Figures;
  byChannel: Partial<Record<Channel, Figures>>;
  byDay: Array<{ date: string } & Figures>;
};

type Tallied = { counts: Counts; resolutions: Resolution[] };

const emptyTallied = (): Tallied => ({ counts: emptyCounts(), resolutions: [] });

function merge(a: Tallied, b: Tallied): Tallied {
  return { counts: addCounts(a.counts, b.counts), resolutions: [...a.resolutions, ...b.resolutions] };
}

/**
 * The service-level report of a date range (business time zone, both ends included): totals,
 * per channel and per day. First-contact resolution is decided at `now` from the resolution
 * records of each day, so a day's figure settles once its 7 days have passed.
 */
export async function readServiceLevel(
  deps: { stats: StatsStore; business: BusinessConfig; clock: Clock },
  query: ServiceLevelQuery,
): Promise<ServiceLevelReport> {
  const now = deps.clock.now();
  const days = await deps.stats.readDays(datesBetween(query.from, query.to), query.channel);
  const figures = (tallied: Tallied): Figures => {
    const fcr: FcrTally = tallyResolutions(tallied.resolutions, now);
    return figuresOf(tallied.counts, fcr);
  };
  let totals = emptyTallied();
  const byChannel = new Map<Channel, Tallied>();
  const byDay = days.map((day) => {
    let dayTotal = emptyTallied();
    const channels = new Set([
      ...day.channels.map((c) => c.channel),
      ...day.resolutions.map((r) => r.channel),
    ]);
    for (const channel of channels) {
      const tallied: Tallied = {
        counts: day.channels.find((c) => c.channel === channel)?.counts ?? emptyCounts(),
        resolutions: day.resolutions.filter((r) => r.channel === channel),
      };
      dayTotal = merge(dayTotal, tallied);
      byChannel.set(channel, merge(byChannel.get(channel) ?? emptyTallied(), tallied));
    }
    totals = merge(totals, dayTotal);
    return { date: day.date, ...figures(dayTotal) };
  });
  return {
    from: query.from,
    to: query.to,
    timeZone: deps.business.timeZone,
    channel: query.channel ?? null,
    totals: figures(totals),
    byChannel: Object.fromEntries([...byChannel].map(([channel, tallied]) => [channel, figures(tallied)])),
    byDay,
  };
}
