import { describe, expect, it } from 'vitest';
import {
  ackNoLongerNeeded,
  ackRetryAt,
  applyInbound,
  applyReply,
  awaitingOf,
  type Conversation,
  claimAck,
  customerWaiting,
  hasUndeliveredEvents,
  type InboundContext,
  lastInboundAt,
  MAX_EPISODE_MESSAGE_IDS,
  MAX_OUTBOX_EVENTS,
  markAckEnqueued,
  nextSweepAt,
  noticeDueAt,
  promiseOwed,
  resolveConversation,
  sendChannelOf,
  settleAck,
  spillOutbox,
} from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import { inboundSms } from '#test/support/messages.ts';

const promise = {
  replyBy: '2026-11-26T10:00:00.000+01:00',
  targetHours: 12,
  capped: true,
  teamAwayUntil: null,
  signer: { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
} as unknown as InboundContext['promise'];

const message = inboundSms;

function context(overrides: Partial<InboundContext> = {}): InboundContext {
  return {
    now: new Date('2026-11-25T09:00:00Z'),
    promise,
    noAckReason: null,
    defaultLocale: 'pl',
    newConversationId: 'conv_1',
    ...overrides,
  };
}

function opened(): Conversation {
  const result = applyInbound(null, message('m1', '2026-11-25T09:00:00.000Z'), context());
  if (result.kind !== 'applied') throw new Error('expected applied');
  // As stored once the publisher delivered its events.
  return { ...result.conversation, version: 1, outbox: [] };
}

describe('applyInbound', () => {
  it.each([
    ['keyword:help', 'pending'],
    ['list-id', 'pending'],
    ['recently-answered', 'skipped'],
    ['opted-out', 'skipped'],
  ])('should acknowledge a message joining an episode skipped for %s: %s', (reason, state) => {
    // Prepare: the episode opened by a message not to be answered
    const first = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: reason }),
    );
    if (first.kind !== 'applied') throw new Error('expected applied');

    // Act: the customer's own message a minute later, which the policy would answer
    const next = applyInbound(
      { ...first.conversation, version: 1, outbox: [] },
      message('m2', '2026-11-25T09:01:00.000Z'),
      context({ now: new Date('2026-11-25T09:01:00Z') }),
    );

    // Assess: once (a third message asks for nothing more)
    if (next.kind !== 'applied') throw new Error('expected applied');
    expect(next.conversation.ack).toMatchObject({ state, episode: 1 });
    expect(next.ackRequested).toBe(state === 'pending');
    const third = applyInbound(
      { ...next.conversation, version: 2, outbox: [] },
      message('m3', '2026-11-25T09:02:00.000Z'),
      context({ now: new Date('2026-11-25T09:02:00Z') }),
    );
    expect(third.kind === 'applied' && third.ackRequested).toBe(false);
  });

  it('should put the opening, the message and the skipped ack in the outbox, with stable ids', () => {
    // Act
    const first = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: 'opted-out' }),
    );
    const again = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: 'opted-out' }),
    );

    // Assess
    if (first.kind !== 'applied' || again.kind !== 'applied') throw new Error('expected applied');
    expect(first.conversation.outbox.map((event) => event.type)).toEqual([
      'conversation.opened',
      'message.received',
      'ack.skipped',
    ]);
    expect(first.conversation.outbox.map((event) => event.id)).toEqual(
      again.conversation.outbox.map((event) => event.id),
    );
  });

  it('should open a conversation with a pending ack and the promise for its first message', () => {
    // Act
    const result = applyInbound(null, message('m1', '2026-11-25T09:00:00.000Z'), context());

    // Assess
    expect(result).toMatchObject({ kind: 'applied', ackRequested: true, opened: true });
    if (result.kind !== 'applied') return;
    expect(result.conversation).toMatchObject({
      id: 'conv_1',
      status: 'open',
      episode: 1,
      replyBy: promise.replyBy,
      awaitingSince: '2026-11-25T09:00:00.000Z',
      ack: { state: 'pending', episode: 1, attempts: 0 },
      route: { channel: 'sms', customer: '+48601234567', business: '+48221234567' },
    });
  });

  it('should record the reason instead of a pending ack when the policy says no', () => {
    // Act
    const result = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: 'opted-out' }),
    );

    // Assess
    expect(result).toMatchObject({ kind: 'applied', ackRequested: false });
    if (result.kind === 'applied')
      expect(result.conversation.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
  });

  it('should join a second message to the waiting episode without a second ack', () => {
    // Act
    const result = applyInbound(
      opened(),
      message('m2', '2026-11-25T09:05:00.000Z', { channel: 'whatsapp' }),
      context(),
    );

    // Assess
    expect(result).toMatchObject({ kind: 'applied', ackRequested: false, opened: false });
    if (result.kind !== 'applied') return;
    expect(result.conversation.episode).toBe(1);
    expect(result.conversation.episodeMessageIds).toEqual(['m1', 'm2']);
    expect(result.conversation.contact.channels).toEqual(['sms', 'whatsapp']);
    expect(result.conversation.lastMessageAt).toBe('2026-11-25T09:05:00.000Z');
  });

  it("should remember only the episode's last 500 message ids, so that a flood cannot grow the item", () => {
    // Prepare: nobody answers while 1,000 messages arrive, a second apart.
    const at = (n: number) => new Date(Date.parse('2026-11-25T09:00:00.000Z') + n * 1_000).toISOString();
    let conversation = opened();
    const firstEvent = applyInbound(null, message('m1', at(1)), context());
    for (let n = 2; n <= 1_000; n++) {
      const result = applyInbound(conversation, message(`m${n}`, at(n)), context());
      if (result.kind !== 'applied') throw new Error(`m${n} was not applied`);
      conversation = { ...result.conversation, outbox: [] };
    }

    // Act: a provider retries the newest message, and then the very first one.
    const newest = applyInbound(conversation, message('m1000', at(1_000)), context());
    const oldest = applyInbound(conversation, message('m1', at(1)), context());

    // Assess
    expect(conversation.episodeMessageIds).toHaveLength(MAX_EPISODE_MESSAGE_IDS);
    expect(conversation.episodeMessageIds.at(-1)).toBe('m1000');
    expect(JSON.stringify(conversation).length).toBeLessThan(32 * 1024);
    expect(newest.kind).toBe('unchanged');
    // Too old to be remembered: applied again, but nothing that matters moves. Same episode, no
    // second ack, the latest activity kept, and its event has the id of the first delivery's.
    expect(oldest).toMatchObject({ kind: 'applied', ackRequested: false });
    if (oldest.kind !== 'applied' || firstEvent.kind !== 'applied') return;
    expect(oldest.conversation.episode).toBe(conversation.episode);
    expect(oldest.conversation.lastMessageAt).toBe(at(1_000));
    const receivedId = (c: Conversation) => c.outbox.find((event) => event.type === 'message.received')?.id;
    expect(receivedId(oldest.conversation)).toBe(receivedId(firstEvent.conversation));
  });

  it('should change nothing when the same message is applied again', () => {
    // Act
    const result = applyInbound(opened(), message('m1', '2026-11-25T09:00:00.000Z'), context());

    // Assess
    expect(result.kind).toBe('unchanged');
  });

  it('should start a new episode with a new ack after our reply; a message received before it is only announced', () => {
    // Prepare: an agent replied at 10:00.
    const answered: Conversation = {
      ...opened(),
      awaitingSince: null,
      lastReplyAt: '2026-11-25T10:00:00.000Z',
    };

    // Act
    const before = applyInbound(answered, message('m0', '2026-11-25T09:59:59.999Z'), context());
    const after = applyInbound(answered, message('m3', '2026-11-25T10:00:00.001Z'), context());

    const announcedAgain =
      before.kind === 'applied'
        ? applyInbound(before.conversation, message('m0', '2026-11-25T09:59:59.999Z'), context())
        : before;

    // Assess: the earlier message is answered by the reply (same episode, no ack, nothing else
    // moves) but downstream tools hear of it, once
    expect(before).toMatchObject({ kind: 'applied', ackRequested: false });
    if (before.kind === 'applied') {
      expect(before.conversation.episode).toBe(answered.episode);
      expect(before.conversation.awaitingSince).toBeNull();
      expect(before.conversation.lastMessageAt).toBe(answered.lastMessageAt);
      expect(before.conversation.outbox.map((event) => [event.type, event.data.messageId])).toEqual([
        ['message.received', 'm0'],
      ]);
    }
    expect(announcedAgain.kind).toBe('unchanged');
    expect(after).toMatchObject({ kind: 'applied', ackRequested: true });
    if (after.kind === 'applied')
      expect(after.conversation.ack).toMatchObject({ state: 'pending', episode: 2 });
  });

  it('should report a resolved conversation as closed for a message never applied to it', () => {
    // Prepare
    const resolved: Conversation = { ...opened(), status: 'resolved', awaitingSince: null };

    // Act
    const fresh = applyInbound(resolved, message('m9', '2026-11-25T11:00:00.000Z'), context());
    const applied = applyInbound(resolved, message('m1', '2026-11-25T09:00:00.000Z'), context());

    // Assess
    expect(fresh.kind).toBe('closed');
    expect(applied.kind).toBe('unchanged');
  });
});

// A conversation's language was fixed by its first message, even a photo that told none.
// Found by a review of the customer-facing texts at stop 23.
describe('the language of a conversation', () => {
  it('should take the language of the first message that tells it, when the conversation opened with none', () => {
    // Prepare: a photo opens the conversation in the default language
    const photo = opened();

    // Act: the customer goes on in English, then thanks in Polish
    const english = applyInbound(
      photo,
      message('m2', '2026-11-25T09:01:00.000Z', { text: 'This parcel arrived damaged, can I get a refund?' }),
      context({ detectedLocale: 'en' }),
    );
    if (english.kind !== 'applied') throw new Error('expected applied');
    const thanks = applyInbound(
      english.conversation,
      message('m3', '2026-11-25T09:02:00.000Z', { text: 'Dzięki!' }),
      context({ detectedLocale: 'pl' }),
    );

    // Assess: English from the first clear message on; a word in another language changes nothing
    expect(photo).toMatchObject({ locale: 'pl' });
    expect(photo.localeDetected).toBe(false);
    expect(english.conversation).toMatchObject({ locale: 'en', localeDetected: true });
    expect(thanks.kind === 'applied' && thanks.conversation.locale).toBe('en');
  });

  it('should keep the language the opening message told, and ignore a message that tells none', () => {
    // Prepare
    const first = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ detectedLocale: 'pl' }),
    );
    if (first.kind !== 'applied') throw new Error('expected applied');

    // Act
    const english = applyInbound(
      first.conversation,
      message('m2', '2026-11-25T09:01:00.000Z', { text: 'thanks' }),
      context({ detectedLocale: 'en' }),
    );
    const silent = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z', { text: '' }),
      context({ defaultLocale: 'en', detectedLocale: null }),
    );

    // Assess
    expect(first.conversation).toMatchObject({ locale: 'pl', localeDetected: true });
    expect(english.kind === 'applied' && english.conversation.locale).toBe('pl');
    expect(silent.kind === 'applied' && silent.conversation).toMatchObject({ locale: 'en' });
    expect(silent.kind === 'applied' && silent.conversation.localeDetected).toBe(false);
  });

  it('should keep the language of a conversation stored before localeDetected existed', () => {
    // Prepare: found at stop 23 (review d2): such a conversation's locale came from its first message
    const first = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ detectedLocale: 'pl' }),
    );
    if (first.kind !== 'applied') throw new Error('expected applied');
    const { localeDetected: _new, ...previousRelease } = first.conversation;

    // Act
    const thanks = applyInbound(
      previousRelease,
      message('m2', '2026-11-25T09:01:00.000Z', { text: 'Thanks!' }),
      context({ detectedLocale: 'en' }),
    );

    // Assess
    expect(thanks.kind === 'applied' && thanks.conversation.locale).toBe('pl');
  });
});

describe('consent in a conversation', () => {
  it('should skip the pending acknowledgement on STOP, stop notices, and allow them again after START', () => {
    // Prepare: an episode with its ack pending
    const waiting = opened();

    // Act
    const stopped = applyInbound(
      waiting,
      message('m2', '2026-11-25T09:05:00.000Z'),
      context({ consent: 'opt-out' }),
    );
    if (stopped.kind !== 'applied') throw new Error('expected applied');
    const acknowledged = { ...stopped.conversation, ack: { ...waiting.ack, state: 'sent' } } as Conversation;
    const started = applyInbound(
      stopped.conversation,
      message('m3', '2026-11-25T09:10:00.000Z'),
      context({ consent: 'opt-in' }),
    );
    if (started.kind !== 'applied') throw new Error('expected applied');

    // Assess
    expect(stopped.conversation.optedOut).toBe(true);
    expect(stopped.conversation.ack).toMatchObject({ state: 'skipped', reason: 'opted-out', episode: 1 });
    expect(stopped.conversation.outbox.map((event) => event.type)).toContain('ack.skipped');
    expect(ackNoLongerNeeded(stopped.conversation, 1)).toBe('opted-out');
    expect(noticeDueAt(acknowledged, 30 * 60_000)).toBeNull();
    expect(noticeDueAt({ ...acknowledged, optedOut: false }, 30 * 60_000)).not.toBeNull();
    expect(started.conversation.optedOut).toBe(false);
    expect(ackNoLongerNeeded(started.conversation, 1)).toBeNull();
  });
});

describe('lastInboundAt', () => {
  it("should be the customer's newest message on any channel, and null before any", () => {
    // Prepare: SMS at 09:00, WhatsApp at 09:05, SMS again at 09:02 (applied last)
    const apply = (conversation: Conversation, next: Message) => {
      const result = applyInbound(conversation, next, context());
      if (result.kind !== 'applied') throw new Error('expected applied');
      return result.conversation;
    };
    const both = apply(opened(), message('m2', '2026-11-25T09:05:00.000Z', { channel: 'whatsapp' }));
    const late = apply(both, message('m3', '2026-11-25T09:02:00.000Z'));

    // Act + Assess
    expect(lastInboundAt(opened())).toBe('2026-11-25T09:00:00.000Z');
    expect(lastInboundAt(late)).toBe('2026-11-25T09:05:00.000Z');
    expect(lastInboundAt({ ...opened(), inboundAt: {} })).toBeNull();
  });
});

describe('the ack lifecycle', () => {
  const now = new Date('2026-11-25T09:00:10Z');

  it('should claim a pending ack with a lease and count the attempt', () => {
    // Act
    const result = claimAck(opened(), 1, now, 60_000);

    // Assess
    expect(result.kind).toBe('claimed');
    if (result.kind === 'claimed') {
      expect(result.conversation.ack).toMatchObject({
        state: 'sending',
        attempts: 1,
        leaseUntil: '2026-11-25T09:01:10.000Z',
      });
    }
  });

  it('should refuse a live lease, allow an expired one, and ignore other episodes and finished acks', () => {
    // Prepare
    const claimed = claimAck(opened(), 1, now, 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const sent = settleAck(claimed.conversation, 1, { state: 'sent', at: now, messageId: 'ack1' });

    // Act + Assess
    expect(claimAck(claimed.conversation, 1, new Date('2026-11-25T09:00:30Z'), 60_000)).toEqual({
      kind: 'skip',
      reason: 'leased',
    });
    expect(claimAck(claimed.conversation, 1, new Date('2026-11-25T09:02:00Z'), 60_000).kind).toBe('claimed');
    expect(claimAck(opened(), 2, now, 60_000)).toEqual({ kind: 'skip', reason: 'stale' });
    expect(claimAck(sent, 1, now, 60_000)).toEqual({ kind: 'skip', reason: 'done' });
  });

  it('should back off a failed try: not claimed, nor swept, before its wait; the waits double, with up to 25 % jitter', () => {
    // Prepare
    const claimed = claimAck(opened(), 1, now, 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const retryAt = ackRetryAt(now, 1, 0.5);
    const failed = settleAck(claimed.conversation, 1, { state: 'pending', reason: 'SEND_FAILED', retryAt });

    // Act + Assess
    expect(retryAt.getTime() - now.getTime()).toBe(67_500);
    expect([1, 2, 3, 4, 5, 9].map((n) => ackRetryAt(now, n, 0).getTime() - now.getTime())).toEqual([
      60_000, 120_000, 240_000, 480_000, 480_000, 480_000,
    ]);
    expect(ackRetryAt(now, 4, 0.999).getTime() - now.getTime()).toBeLessThan(600_000);
    expect(failed.ack).toMatchObject({ state: 'pending', attempts: 1, retryAt: retryAt.toISOString() });
    expect(failed.ack?.leaseUntil).toBeUndefined();
    expect(claimAck(failed, 1, new Date(now.getTime() + 30_000), 60_000)).toEqual({
      kind: 'skip',
      reason: 'not-yet',
    });
    expect(claimAck(failed, 1, retryAt, 60_000).kind).toBe('claimed');
    expect(nextSweepAt(failed, 60_000)).toBe(retryAt.toISOString());
    const sent = settleAck(failed, 1, { state: 'sent', at: retryAt, messageId: 'ack1' });
    expect(sent.ack?.retryAt).toBeUndefined();
  });

  it('should mark sent without a lease, and leave other episodes alone', () => {
    // Prepare
    const claimed = claimAck(opened(), 1, now, 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');

    // Act
    const sent = settleAck(claimed.conversation, 1, { state: 'sent', at: now, messageId: 'ack1' });
    const other = settleAck(claimed.conversation, 2, { state: 'failed', reason: 'x', at: now });

    // Assess
    expect(sent.ack).toMatchObject({ state: 'sent', sentAt: now.toISOString(), messageId: 'ack1' });
    expect(sent.ack?.leaseUntil).toBeUndefined();
    expect(other).toBe(claimed.conversation);
  });

  it("should keep an ack failed when the worker's sent comes after the provider's undelivered", () => {
    // Prepare: claimed, then reported undelivered before the worker marked it sent
    const claimed = claimAck(opened(), 1, now, 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const failed = settleAck(claimed.conversation, 1, {
      state: 'failed',
      reason: 'delivery-undelivered',
      at: now,
    });

    // Act
    const late = settleAck(failed, 1, { state: 'sent', at: now, messageId: 'ack1' });

    // Assess
    expect(late).toBe(failed);
    expect(late.ack).toMatchObject({ state: 'failed', reason: 'delivery-undelivered' });
  });

  it('should say the ack is no longer needed once the episode was answered or the conversation resolved', () => {
    // Prepare
    const conversation = opened();

    // Act + Assess
    expect(ackNoLongerNeeded(conversation, 1)).toBeNull();
    expect(ackNoLongerNeeded({ ...conversation, awaitingSince: null }, 1)).toBe('answered');
    expect(ackNoLongerNeeded({ ...conversation, status: 'resolved' }, 1)).toBe('resolved');
  });

  it('should schedule the sweeper after the grace period, after a requeue, and after a lease; never for a finished ack', () => {
    // Prepare
    const pending = opened();
    const requeued = markAckEnqueued(pending, 1, new Date('2026-11-25T09:10:00Z'));
    const claimed = claimAck(pending, 1, now, 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');

    // Act + Assess
    expect(nextSweepAt(pending, 60_000)).toBe('2026-11-25T09:01:00.000Z');
    expect(nextSweepAt(requeued, 60_000)).toBe('2026-11-25T09:11:00.000Z');
    expect(nextSweepAt(claimed.conversation, 60_000)).toBe('2026-11-25T09:01:10.000Z');
    // A finished ack leaves only its event to deliver; once delivered, nothing is due.
    const skipped = settleAck(pending, 1, { state: 'skipped', reason: 'answered', at: now });
    expect(nextSweepAt(skipped, 60_000)).toBe('2026-11-25T09:01:10.000Z');
    expect(nextSweepAt({ ...skipped, outbox: [], awaitingSince: null }, 60_000)).toBeNull();
  });
});

describe('the late notice', () => {
  it('should be due before the promise after a sent ack, or an ack skipped only to stay quiet', async () => {
    // Prepare
    const { noticeDueAt } = await import('#lib/domain/conversation.ts');
    const base = {
      ...opened(),
      ack: { state: 'sent', episode: 1, requestedAt: '2026-11-25T09:00:00.000Z', attempts: 1 },
    } as Conversation;
    const skipped = (reason: string) =>
      ({ ...base, ack: { ...base.ack, state: 'skipped', reason } }) as Conversation;

    // Act + Assess
    expect(noticeDueAt(base, 30 * 60_000)).toBe('2026-11-26T08:30:00.000Z');
    expect(noticeDueAt(skipped('recently-answered'), 30 * 60_000)).toBe('2026-11-26T08:30:00.000Z');
    expect(noticeDueAt(skipped('opted-out'), 30 * 60_000)).toBeNull();
    expect(noticeDueAt(skipped('auto-submitted'), 30 * 60_000)).toBeNull();
    expect(noticeDueAt({ ...base, awaitingSince: null }, 30 * 60_000)).toBeNull();
  });
});

describe('the outbox while the event bus is down', () => {
  /** A conversation nobody answers while `count` messages arrive a second apart and no event is delivered. */
  function piledUp(count: number): Conversation {
    const at = (n: number) => new Date(Date.parse('2026-11-25T09:00:00.000Z') + n * 1_000).toISOString();
    let conversation: Conversation | null = null;
    for (let n = 1; n <= count; n++) {
      const result = applyInbound(conversation, message(`m${n}`, at(n)), context());
      if (result.kind !== 'applied') throw new Error(`m${n} was not applied`);
      conversation = { ...result.conversation, version: n };
    }
    if (!conversation) throw new Error('no messages');
    return conversation;
  }

  it('should keep up to 200 events on the item and move the oldest aside past that, in order', () => {
    // Prepare: conversation.opened and 200 message.received events
    const full = piledUp(199);
    const over = piledUp(200);

    // Act
    const kept = spillOutbox(full);
    const spilt = spillOutbox(over);

    // Assess: 201 events are too many; the newest 50 stay, the spill names the newest moved
    expect(full.outbox).toHaveLength(MAX_OUTBOX_EVENTS);
    expect(kept).toEqual({ conversation: full, spilled: [] });
    expect(spilt.spilled).toEqual(over.outbox.slice(0, 151));
    expect(spilt.conversation.outbox).toEqual(over.outbox.slice(151));
    expect(spilt.conversation.outboxSpill).toBe(over.outbox[150]?.id);
    expect(spilt.spilled[0]?.type).toBe('conversation.opened');
    expect(hasUndeliveredEvents(spilt.conversation)).toBe(true);
    expect(JSON.stringify(full.outbox).length).toBeLessThan(80 * 1024);
  });

  it('should bring the sweeper back for spilled events even when the outbox on the item is empty', () => {
    // Prepare: the outbox on the item was delivered, the events aside were not (a lost race)
    const conversation: Conversation = { ...opened(), awaitingSince: null, ack: null, outboxSpill: 'evt_x' };

    // Act + Assess: due at once, or when the failed delivery's wait is over
    expect(hasUndeliveredEvents(conversation)).toBe(true);
    expect(nextSweepAt(conversation, 60_000)).toBe('1970-01-01T00:00:00.000Z');
    const retry = { ...conversation, outboxRetryAt: '2026-11-25T10:00:00.000Z' };
    expect(nextSweepAt(retry, 60_000)).toBe('2026-11-25T10:00:00.000Z');
    expect(nextSweepAt({ ...conversation, outboxSpill: undefined }, 60_000)).toBeNull();
  });
});

// Found at stop 24: a pending ack an agent's reply or resolve made unnecessary was not announced.
describe('resolveConversation', () => {
  it('should skip a pending ack with ack.skipped, and leave one a worker is sending to that worker', () => {
    // Prepare
    const pending = opened();
    const sending: Conversation = {
      ...pending,
      ack: {
        ...(pending.ack as NonNullable<Conversation['ack']>),
        state: 'sending',
        leaseUntil: '2026-11-25T09:01:00.000Z',
      },
    };
    const at = new Date('2026-11-25T09:00:30Z');

    // Act
    const fromPending = resolveConversation(pending, at, 'Anna');
    const fromSending = resolveConversation(sending, at, 'Anna');

    // Assess: the sending one is settled by its worker (sent), or by the next claim (skipped)
    expect(fromPending.ack).toMatchObject({ state: 'skipped', reason: 'resolved' });
    expect(fromPending.outbox.map((event) => [event.type, event.data.reason])).toEqual([
      ['ack.skipped', 'resolved'],
      ['conversation.resolved', undefined],
    ]);
    expect(fromSending.ack).toEqual(sending.ack);
    expect(fromSending.outbox.map((event) => event.type)).toEqual(['conversation.resolved']);
    expect(ackNoLongerNeeded(fromSending, 1)).toBe('resolved');
  });
});

// Found at stop 24: the episode a message sent while a reply was with the provider opened took
// only the quiet time or the conversation's STOP as its reason, never the message's own.
describe('the episode a message newer than a reply opens', () => {
  const replyContext = { promiseFor: () => promise, quietAfterReplyMs: 10 * 60_000 };
  const replyAt = new Date('2026-11-25T10:30:00.000Z');

  it.each<[string, Array<[string, InboundContext['noAckReason']]>, string]>([
    ['HELP', [['keyword:help', 'keyword:help']], 'keyword:help'],
    [
      'a message from a contact who opted out in an earlier conversation',
      [['Pytanie', 'opted-out']],
      'opted-out',
    ],
    ['a question', [['Pytanie', null]], 'recently-answered'],
    [
      'a question a minute after HELP',
      [
        ['HELP', 'keyword:help'],
        ['Pytanie', null],
      ],
      'recently-answered',
    ],
    [
      'a question just after our last ack elsewhere',
      [['Pytanie', 'recently-acknowledged']],
      'recently-answered',
    ],
  ])('should skip the ack of the episode %s opens as the policy would have', (_case, sent, reason) => {
    // Prepare: the acknowledged episode, then the messages sent while the reply was on its way
    let conversation = opened();
    sent.forEach(([text, noAckReason], index) => {
      const at = new Date(replyAt.getTime() + (index + 1) * 1_000);
      const result = applyInbound(
        conversation,
        { ...message(`m${index + 2}`, at.toISOString()), text },
        context({ now: at, noAckReason }),
      );
      if (result.kind !== 'applied') throw new Error('expected applied');
      conversation = result.conversation;
    });

    // Act
    const replied = applyReply(conversation, replyAt, replyContext);

    // Assess
    expect(replied).toMatchObject({ episode: 2, ack: { episode: 2, state: 'skipped', reason } });
  });
});

// Found at stop 24: a follow-up on a resolved conversation was refused for an open one only the
// customer's out-of-office reply had opened, in which nobody waits.
describe('customerWaiting', () => {
  it.each<[string, InboundContext['noAckReason'], boolean]>([
    ['a question (acknowledged)', null, true],
    ['a question from a contact who opted out', 'opted-out', true],
    ['a question just after our reply (quiet time)', 'recently-answered', true],
    ['an out-of-office reply', 'auto-submitted', false],
    ['HELP', 'keyword:help', false],
    // Found at stop 25 (a mutation review): our own number writing to itself counted as a
    // customer waiting, listed among them and breached.
    ['our own number writing to itself', 'own-number', false],
  ])('should say whether a customer waits in an episode begun by %s', (_case, reason, waiting) => {
    // Prepare
    const result = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: reason }),
    );
    if (result.kind !== 'applied') throw new Error('expected applied');

    // Act, Assess
    expect(customerWaiting(result.conversation)).toBe(waiting);
  });

  it('should owe nobody a reply, and list nobody as waiting, when our own number wrote to itself', () => {
    // Prepare
    const result = applyInbound(
      null,
      message('m1', '2026-11-25T09:00:00.000Z'),
      context({ noAckReason: 'own-number' }),
    );
    if (result.kind !== 'applied') throw new Error('expected applied');

    // Act, Assess
    expect(promiseOwed(result.conversation)).toBe(false);
    expect(awaitingOf(result.conversation)).toBe('no-reply-needed');
  });

  // Found at stop 25: a question that joined an episode an auto-reply began but could not be
  // acknowledged (the customer had opted out meanwhile) left it as one nobody waits in.
  it.each<[string, InboundContext['noAckReason'], boolean]>([
    ['a question from a contact who opted out meanwhile', 'opted-out', true],
    ['a question just after our reply (quiet time)', 'recently-answered', true],
    ['a question (acknowledged late)', null, true],
    ['a second out-of-office reply', 'auto-submitted', false],
  ])(
    'should say a customer waits once %s joins an episode an out-of-office reply began',
    (_case, reason, waiting) => {
      // Prepare
      const begun = applyInbound(
        null,
        message('m1', '2026-11-25T09:00:00.000Z'),
        context({ noAckReason: 'auto-submitted' }),
      );
      if (begun.kind !== 'applied') throw new Error('expected applied');

      // Act
      const joined = applyInbound(
        begun.conversation,
        message('m2', '2026-11-25T09:05:00.000Z'),
        context({ now: new Date('2026-11-25T09:05:00Z'), noAckReason: reason }),
      );
      if (joined.kind !== 'applied') throw new Error('expected applied');

      // Assess
      expect(customerWaiting(begun.conversation)).toBe(false);
      expect(customerWaiting(joined.conversation)).toBe(waiting);
    },
  );

  // Found at stop 25: the service level never heard of the customer's question joining a
  // conversation their own out-of-office reply opened (the customer coming back).
  it("should mark the customer's first question in a conversation an auto-reply opened, once", () => {
    // Prepare
    const firstQuestions = (conversation: Conversation) =>
      conversation.outbox.filter((event) => event.type === 'message.received' && event.data.firstQuestion);
    const apply = (current: Conversation | null, id: string, minute: number, noAckReason: string | null) => {
      const at = `2026-11-25T09:0${minute}:00.000Z`;
      const result = applyInbound(current, message(id, at), context({ now: new Date(at), noAckReason }));
      if (result.kind !== 'applied') throw new Error('expected applied');
      return result.conversation;
    };
    const byAutoReply = apply(null, 'm1', 0, 'auto-submitted');
    const byQuestion = apply(null, 'm1', 0, null);

    // Act
    const asked = apply(apply(byAutoReply, 'm2', 1, 'auto-submitted'), 'm3', 2, null);
    const askedAgain = apply(asked, 'm4', 3, null);
    const followedUp = apply(byQuestion, 'm2', 1, null);

    // Assess
    expect(firstQuestions(asked).map((event) => event.data)).toEqual([
      expect.objectContaining({ messageId: 'm3', firstQuestion: true, contactKey: byAutoReply.contact.key }),
    ]);
    expect(firstQuestions(askedAgain)).toHaveLength(1);
    expect(firstQuestions(followedUp)).toEqual([]);
  });

  // Found at stop 25 (a review of this stop's changes): a question the worker recorded late into
  // the episode the customer's later STOP began was older than the episode's start, so the
  // episode read as one nobody waits in; applied in order, the customer waited.
  it('should say a customer waits whichever order their question and a later STOP are applied in', () => {
    // Prepare
    const question = message('m1', '2026-11-25T09:00:00.000Z');
    const stop = { ...message('m2', '2026-11-25T09:00:30.000Z'), text: 'STOP' };
    const apply = (current: Conversation | null, next: Message, noAckReason: string) => {
      const result = applyInbound(
        current,
        next,
        context({
          now: new Date('2026-11-25T09:01:30Z'),
          noAckReason,
          consent: noAckReason === 'keyword:stop' ? 'opt-out' : undefined,
        }),
      );
      if (result.kind !== 'applied') throw new Error('expected applied');
      return result.conversation;
    };

    // Act
    const inOrder = apply(apply(null, question, 'opted-out'), stop, 'keyword:stop');
    const late = apply(apply(null, stop, 'keyword:stop'), question, 'opted-out');

    // Assess
    expect(awaitingOf(inOrder)).toBe('reply');
    expect(awaitingOf(late)).toBe('reply');
  });

  it('should say a customer waits in the episode a reply leaves open when their question came after HELP', () => {
    // Prepare: HELP by SMS, then a question on WhatsApp, both while the reply was with the provider
    const replyAt = new Date('2026-11-25T10:30:00.000Z');
    const replyContext = { promiseFor: () => promise, quietAfterReplyMs: 0 };
    const apply = (current: Conversation, next: Message, noAckReason: string | null) => {
      const result = applyInbound(current, next, context({ now: new Date(next.createdAt), noAckReason }));
      if (result.kind !== 'applied') throw new Error('expected applied');
      return result.conversation;
    };
    const help = apply(
      opened(),
      { ...message('m2', '2026-11-25T10:30:01.000Z'), text: 'HELP' },
      'keyword:help',
    );
    const asked = apply(help, { ...message('m3', '2026-11-25T10:30:02.000Z'), channel: 'whatsapp' }, null);

    // Act
    const onlyHelp = applyReply(help, replyAt, replyContext);
    const withQuestion = applyReply(asked, replyAt, replyContext);

    // Assess: the episode HELP opens waits for a person once the question is in it, and the
    // question is acknowledged, as it would be joining HELP's episode after the reply (stop 32:
    // HELP's reason no longer speaks for an episode a question after the reply is in)
    expect(onlyHelp).toMatchObject({ episode: 2, ack: { state: 'skipped', reason: 'keyword:help' } });
    expect(awaitingOf(onlyHelp)).toBe('no-reply-needed');
    expect(withQuestion).toMatchObject({ episode: 2, ack: { state: 'pending' } });
    expect(awaitingOf(withQuestion)).toBe('reply');
  });

  it('should say nobody waits in an answered or a resolved conversation', () => {
    // Prepare
    const conversation = opened();

    // Act, Assess
    expect(customerWaiting({ ...conversation, awaitingSince: null })).toBe(false);
    expect(customerWaiting(resolveConversation(conversation, new Date('2026-11-25T09:30:00Z'), 'Anna'))).toBe(
      false,
    );
  });
});

describe('sendChannelOf', () => {
  it.each([
    ['sms', '+48601234567', 'sms'],
    ['voice', '+48601234567', 'sms'],
    ['voice', 'client:jan', null],
    ['voice', 'sip:jan.kowalski@pbx.example.com', null],
    ['voice', 'anonymous', null],
  ] as const)('should send a %s route to %j on %s', (channel, customer, expected) => {
    // Prepare, Act
    const sendChannel = sendChannelOf({ channel, customer });

    // Assess
    expect(sendChannel).toBe(expected);
  });

  // Found at stop 24: a call stored before withheld callers were recorded as "anonymous" keeps
  // the carrier's keypad placeholder as its route, and it looks like an E.164 number.
  it.each(['+266696687', '+7378742833', '+86282452253'])(
    'should give no SMS route to a call whose caller is the withheld placeholder %s',
    (customer) => {
      // Prepare, Act
      const sendChannel = sendChannelOf({ channel: 'voice', customer });

      // Assess
      expect(sendChannel).toBeNull();
    },
  );
});
