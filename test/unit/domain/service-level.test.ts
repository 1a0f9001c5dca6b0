import { describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { businessCalendar } from '#lib/domain/calendar.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import {
  addCounts,
  bucketOf,
  businessDate,
  type Counts,
  countedAt,
  countsFor,
  datesBetween,
  emptyCounts,
  FCR_WINDOW_MS,
  fcrOutcome,
  figuresOf,
  isCustomerOpening,
  isFollowUp,
  OVERFLOW_BUCKET,
  percentileHours,
  type Resolution,
  reopenedSince,
  tallyResolutions,
  workingMinutesBetween,
} from '#lib/domain/service-level.ts';
import type { StatsStore } from '#lib/ports/stats-store.ts';
import { countEvent, countEvents, type StatsSinkDeps } from '#lib/use-cases/service-level.ts';
import { TestClock } from '#test/support/clock.ts';
import { memoryLog } from '#test/support/silent-log.ts';

const calendar = businessCalendar(DEFAULT_BUSINESS_CONFIG);

function event(type: DomainEvent['type'], data: Record<string, unknown>, occurredAt: string): DomainEvent {
  return { id: `evt_${type}_${occurredAt}`, type, occurredAt, conversationId: 'conv_1', data };
}

function reply(at: string, awaitingSince: string, originalReplyBy: string | null, answeredEpisode = true) {
  return event(
    'reply.sent',
    { messageId: 'msg_r', channel: 'sms', awaitingSince, originalReplyBy, answeredEpisode, firstReply: true },
    at,
  );
}

function resolution(overrides: Partial<Resolution> = {}): Resolution {
  return {
    date: '2026-11-25',
    channel: 'sms',
    conversationId: 'conv_1',
    resolvedAt: '2026-11-25T12:00:00.000Z',
    replies: 1,
    ...overrides,
  };
}

describe('the first-reply histogram', () => {
  it('should put working minutes into quarter-hour buckets, exact zero apart, and overflow past 48 h', () => {
    // Prepare
    const minutes = [0, 0.5, 15, 15.01, 60, 48 * 60, 48 * 60 + 1, 500 * 60];

    // Act
    const buckets = minutes.map(bucketOf);

    // Assess
    expect(buckets).toEqual([0, 1, 1, 2, 4, 192, OVERFLOW_BUCKET, OVERFLOW_BUCKET]);
  });

  it('should read the median and p90 by nearest rank as the upper bound of their bucket', () => {
    // Prepare: ten answers: 1 within 15 min, 5 within an hour, 3 within two hours, 1 in 3 hours.
    const histogram = { 1: 1, 4: 5, 8: 3, 12: 1 };

    // Act
    const median = percentileHours(histogram, 0.5);
    const p90 = percentileHours(histogram, 0.9);
    const max = percentileHours(histogram, 1);

    // Assess
    expect([median, p90, max]).toEqual([1, 2, 3]);
  });

  it('should report no percentile without data, and 48 h for the overflow bucket', () => {
    // Act / Assess
    expect(percentileHours({}, 0.5)).toBeNull();
    expect(percentileHours({ 3: 0 }, 0.5)).toBeNull();
    expect(percentileHours({ [OVERFLOW_BUCKET]: 2, 2: 1 }, 0.9)).toBe(48);
  });

  it('should add summaries counter by counter, reason by reason, bucket by bucket', () => {
    // Prepare
    const a: Counts = { ...emptyCounts(), messages: 2, skipped: { 'opted-out': 1 }, histogram: { 4: 1 } };
    const b: Counts = {
      ...emptyCounts(),
      messages: 1,
      skipped: { 'opted-out': 2, x: 1 },
      histogram: { 4: 2, 5: 1 },
    };

    // Act
    const sum = addCounts(a, b);

    // Assess
    expect(sum).toMatchObject({ messages: 3, skipped: { 'opted-out': 3, x: 1 }, histogram: { 4: 3, 5: 1 } });
  });
});

describe('working time to the first reply', () => {
  it('should count only opening hours: Friday 16:00 to Monday 10:00 in Warsaw is two working hours', () => {
    // Prepare
    const from = new Date('2026-11-27T16:00:00+01:00');
    const to = new Date('2026-11-30T10:00:00+01:00');

    // Act
    const minutes = workingMinutesBetween(calendar, from, to);

    // Assess
    expect(minutes).toBe(120);
    expect(workingMinutesBetween(calendar, to, from)).toBe(0);
    expect(
      workingMinutesBetween(
        calendar,
        new Date('2026-11-28T10:00:00+01:00'),
        new Date('2026-11-28T18:00:00+01:00'),
      ),
    ).toBe(0);
  });

  it('should count a reply by the promise first stated as kept, and a later one as not, even after a late notice moved it', () => {
    // Prepare
    const since = '2026-11-25T09:00:00.000Z';
    const inTime = reply('2026-11-25T10:30:00.000Z', since, '2026-11-25T11:00:00.000Z');
    const late = reply('2026-11-25T11:30:00.000Z', since, '2026-11-25T11:00:00.000Z');

    // Act
    const kept = countsFor(inTime, calendar);
    const missed = countsFor(late, calendar);

    // Assess
    expect(kept).toMatchObject({ answered: 1, measured: 1, kept: 1, histogram: { 6: 1 } });
    expect(missed).toMatchObject({ answered: 1, measured: 1, kept: 0, histogram: { 10: 1 } });
  });

  it('should count the answer to an episode nobody was promised anything in as answered, not as a promise', () => {
    // Prepare: reply.sent says so (an episode HELP or an auto-reply began); events sent before
    // the field existed say nothing and count as promised.
    const since = '2026-11-25T09:00:00.000Z';
    const late = reply('2026-11-25T11:30:00.000Z', since, '2026-11-25T11:00:00.000Z');
    const unpromised = { ...late, data: { ...late.data, promised: false } };
    const promised = { ...late, data: { ...late.data, promised: true } };

    // Act / Assess
    expect(countsFor(unpromised, calendar)).toMatchObject({ answered: 1, measured: 0, kept: 0 });
    expect(countsFor(promised, calendar)).toMatchObject({ answered: 1, measured: 1, kept: 0 });
  });

  it('should count a reply that did not end a waiting episode as nothing', () => {
    // Act
    const counts = countsFor(
      reply('2026-11-25T10:30:00.000Z', '2026-11-25T09:00:00.000Z', null, false),
      calendar,
    );

    // Assess
    expect(counts).toBeNull();
  });

  it('should count skipped acks by reason, and ignore events with no figure', () => {
    // Act
    const skipped = countsFor(
      event('ack.skipped', { episode: 1, reason: 'opted-out' }, '2026-11-25T09:00:00Z'),
      calendar,
    );
    const assigned = countsFor(
      event('conversation.assigned', { assignee: 'anna' }, '2026-11-25T09:00:00Z'),
      calendar,
    );

    // Assess
    expect(skipped?.skipped).toEqual({ 'opted-out': 1 });
    expect(assigned).toBeNull();
  });

  // Found at stop 25: a notice refused after it was marked sent still counted as sent.
  it('should take back, on the day it was sent, a notice refused after it was marked sent, and count no refusal of one never sent', () => {
    // Prepare
    const refused = event(
      'notice.failed',
      { episode: 1, reason: 'delivery-undelivered:30007', sentAt: '2026-11-25T22:50:00.000Z' },
      '2026-11-25T23:10:00.000Z',
    );
    const neverSent = event('notice.skipped', { episode: 1, reason: 'answered' }, '2026-11-25T09:00:00Z');

    // Act
    const taken = countsFor(refused, calendar);
    const none = countsFor(neverSent, calendar);

    // Assess: 22:50 UTC is the 25th in Warsaw, 23:10 already the 26th
    expect(taken?.notices).toBe(-1);
    expect(businessDate(countedAt(refused), 'Europe/Warsaw')).toBe('2026-11-25');
    expect(none).toBeNull();
  });

  it('should count a moment on the business day of the business time zone', () => {
    // Act / Assess: 23:30 UTC on the 24th is already the 25th in Warsaw.
    expect(businessDate('2026-11-24T23:30:00.000Z', 'Europe/Warsaw')).toBe('2026-11-25');
    expect(datesBetween('2026-10-30', '2026-11-02')).toEqual([
      '2026-10-30',
      '2026-10-31',
      '2026-11-01',
      '2026-11-02',
    ]);
  });
});

describe('first-contact resolution', () => {
  const resolvedAt = Date.parse('2026-11-25T12:00:00.000Z');
  const afterWindow = new Date(resolvedAt + FCR_WINDOW_MS);

  it('should count one reply and seven quiet days as first contact', () => {
    // Act / Assess
    expect(fcrOutcome(resolution(), afterWindow)).toBe('first-contact');
  });

  it('should keep a resolution pending while its seven days run', () => {
    // Act / Assess
    expect(fcrOutcome(resolution(), new Date(afterWindow.getTime() - 1))).toBe('pending');
  });

  it('should not count two replies, no reply, or a customer back within seven days', () => {
    // Act / Assess
    expect(fcrOutcome(resolution({ replies: 2 }), afterWindow)).toBe('not-first-contact');
    expect(fcrOutcome(resolution({ replies: 0 }), afterWindow)).toBe('not-first-contact');
    expect(fcrOutcome(resolution({ followUpAt: '2026-11-26T08:00:00.000Z' }), afterWindow)).toBe(
      'not-first-contact',
    );
    // Decided at once: no need to wait for the window.
    expect(fcrOutcome(resolution({ replies: 2 }), new Date(resolvedAt))).toBe('not-first-contact');
  });

  it('should treat a conversation opened within seven days after the resolution as a follow-up, and not later ones', () => {
    // Act / Assess
    expect(isFollowUp('2026-11-25T12:00:00.000Z', '2026-12-02T12:00:00.000Z')).toBe(true);
    expect(isFollowUp('2026-11-25T12:00:00.000Z', '2026-12-02T12:00:00.001Z')).toBe(false);
    expect(isFollowUp('2026-11-25T12:00:00.000Z', '2026-11-25T11:00:00.000Z')).toBe(false);
  });

  it('should count a resolution whose record notes only a reopening before it (resolved again the same day)', () => {
    // Act / Assess
    expect(fcrOutcome(resolution({ reopenedAt: '2026-11-25T11:55:00.000Z' }), afterWindow)).toBe(
      'first-contact',
    );
    expect(fcrOutcome(resolution({ reopenedAt: '2026-11-25T12:05:00.000Z' }), afterWindow)).toBe(
      'superseded',
    );
  });

  it('should tell a resolution reopened since from what the bookkeeping held, in whatever order it learnt it', () => {
    // Prepare
    const at = '2026-11-25T12:00:00.000Z';
    const earlier = '2026-11-25T11:00:00.000Z';
    const later = '2026-11-25T13:00:00.000Z';

    // Act / Assess: a reopening after it, or a resolution after it (there was one in between).
    expect(reopenedSince(at, { reopenedAt: later, latestResolvedAt: earlier })).toBe(later);
    expect(reopenedSince(at, { reopenedAt: earlier, latestResolvedAt: later })).toBe(later);
    expect(reopenedSince(at, { reopenedAt: earlier, latestResolvedAt: at })).toBeUndefined();
    expect(reopenedSince(at, { reopenedAt: null, latestResolvedAt: null })).toBeUndefined();
  });

  it('should not take a conversation an auto-reply or a keyword opened for the customer coming back', () => {
    // Prepare
    const opened = (noAckReason: string | null | undefined) =>
      event('conversation.opened', { contactKey: 'phone:+48601234567', channel: 'sms', noAckReason }, at0);
    const at0 = '2026-11-25T13:00:00.000Z';

    // Act / Assess: a situation (opted out, just answered) is still the customer writing.
    expect(isCustomerOpening(opened('auto-submitted'))).toBe(false);
    expect(isCustomerOpening(opened('keyword:help'))).toBe(false);
    expect(isCustomerOpening(opened(null))).toBe(true);
    expect(isCustomerOpening(opened(undefined))).toBe(true);
    expect(isCustomerOpening(opened('opted-out'))).toBe(true);
    expect(isCustomerOpening(opened('recently-answered'))).toBe(true);
  });

  it('should leave a reopened resolution out (it counts when resolved again) and tally the rest', () => {
    // Prepare
    const resolutions = [
      resolution(),
      resolution({ replies: 3 }),
      resolution({ reopenedAt: '2026-11-25T13:00:00.000Z' }),
      resolution({ resolvedAt: new Date(afterWindow.getTime() - 60_000).toISOString() }),
    ];

    // Act
    const tally = tallyResolutions(resolutions, afterWindow);
    const figures = figuresOf(emptyCounts(), tally);

    // Assess
    expect(tally).toEqual({ firstContact: 1, resolved: 2, pending: 1 });
    expect(figures.firstContactResolution.share).toBe(0.5);
  });
});

/** A StatsStore in memory: the port's contract for the claim, enough to test the counting rules. */
function memoryStats(options: { failAdds?: number } = {}) {
  const markers = new Set<string>();
  const days = new Map<string, Counts>();
  const adds: string[] = [];
  let failures = options.failAdds ?? 0;
  const store: StatsStore = {
    async claimEvent(id) {
      if (markers.has(id)) return false;
      markers.add(id);
      return true;
    },
    async releaseEvent(id) {
      markers.delete(id);
    },
    async addToDay(date, channel, counts) {
      if (failures-- > 0) throw new Error('DynamoDB is down');
      const key = `${date}/${channel}`;
      adds.push(key);
      days.set(key, addCounts(days.get(key) ?? emptyCounts(), counts));
    },
    addReply: async () => ({ replies: 1, resolution: null }),
    noteResolved: async () => ({ replies: 1, previous: null, reopenedAt: null }),
    noteReopened: async () => null,
    noteContactOpened: async () => null,
    noteContactResolved: async () => null,
    putResolution: async () => {},
    markResolution: async () => {},
    readDays: async () => [],
  };
  return { store, markers, days, adds };
}

describe('counting delivered events', () => {
  function deps(stats: StatsStore): StatsSinkDeps {
    return {
      stats,
      conversations: { getConversation: async () => null },
      business: DEFAULT_BUSINESS_CONFIG,
      clock: new TestClock('2026-11-25T10:00:00Z'),
      log: memoryLog(),
    };
  }
  const received = event(
    'message.received',
    { messageId: 'msg_1', channel: 'sms', kind: 'message' },
    '2026-11-25T09:00:00Z',
  );

  it('should count an event once however often it is delivered', async () => {
    // Prepare
    const { store, days } = memoryStats();

    // Act
    const outcomes = [await countEvent(deps(store), received), await countEvent(deps(store), received)];

    // Assess
    expect(outcomes).toEqual(['counted', 'duplicate']);
    expect(days.get('2026-11-25/sms')?.messages).toBe(1);
  });

  it('should take back its claim when counting failed, so the redelivery counts the event', async () => {
    // Prepare
    const { store, days } = memoryStats({ failAdds: 1 });

    // Act
    const failed = countEvent(deps(store), received);
    await expect(failed).rejects.toThrow('DynamoDB is down');
    const retried = await countEvent(deps(store), received);

    // Assess
    expect(retried).toBe('counted');
    expect(days.get('2026-11-25/sms')?.messages).toBe(1);
  });

  it('should add the events of one delivery with one write per day and channel', async () => {
    // Prepare: a first SMS's two events, an email's on the same day, an SMS of the next day
    const { store, days, adds } = memoryStats();
    const opened = event(
      'conversation.opened',
      { channel: 'sms', contactKey: 'phone:+48601234567' },
      '2026-11-25T09:00:00Z',
    );
    const email = event(
      'message.received',
      { messageId: 'msg_2', channel: 'email', kind: 'message' },
      '2026-11-25T09:05:00Z',
    );
    const tomorrow = event(
      'message.received',
      { messageId: 'msg_3', channel: 'sms', kind: 'message' },
      '2026-11-26T09:00:00Z',
    );

    // Act
    const outcomes = await countEvents(deps(store), [opened, received, email, received, tomorrow]);

    // Assess
    expect(outcomes).toEqual(['counted', 'counted', 'counted', 'duplicate', 'counted']);
    expect(adds).toEqual(['2026-11-25/sms', '2026-11-25/email', '2026-11-26/sms']);
    expect(days.get('2026-11-25/sms')?.messages).toBe(1);
    expect(days.get('2026-11-25/sms')?.conversations).toBe(1);
    expect(days.get('2026-11-25/email')?.messages).toBe(1);
    expect(days.get('2026-11-26/sms')?.messages).toBe(1);
  });

  it('should take back every claim not yet added when an add fails, and count each once on the retry', async () => {
    // Prepare: the second of two adds fails
    const { store, days, markers } = memoryStats();
    const email = event(
      'message.received',
      { messageId: 'msg_2', channel: 'email', kind: 'message' },
      '2026-11-25T09:05:00Z',
    );
    let calls = 0;
    const addToDay = store.addToDay.bind(store);
    store.addToDay = async (...args) => {
      if (++calls === 2) throw new Error('DynamoDB is down');
      return addToDay(...args);
    };

    // Act
    await expect(countEvents(deps(store), [received, email])).rejects.toThrow('DynamoDB is down');
    const held = [...markers];
    const retried = await countEvents(deps(store), [received, email]);

    // Assess
    // (a message's count is claimed under its message id, whatever event announced it)
    expect(held).toEqual([`message.received:${received.data.messageId}`]);
    expect(retried).toEqual(['duplicate', 'counted']);
    expect(days.get('2026-11-25/sms')?.messages).toBe(1);
    expect(days.get('2026-11-25/email')?.messages).toBe(1);
  });

  it('should not count an event whose conversation and channel are unknown', async () => {
    // Prepare
    const { store, days } = memoryStats();

    // Act
    const outcome = await countEvent(
      deps(store),
      event('notice.sent', { episode: 1 }, '2026-11-25T09:00:00Z'),
    );

    // Assess
    expect(outcome).toBe('ignored');
    expect(days.size).toBe(0);
  });
});
