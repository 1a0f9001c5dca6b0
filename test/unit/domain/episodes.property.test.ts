import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyInbound,
  applyReply,
  type Conversation,
  type InboundContext,
  type ReplyContext,
} from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import { inboundSms } from '#test/support/messages.ts';

const START = Date.parse('2026-11-30T08:00:00.000Z');
const MINUTE = 60_000;

const promise: InboundContext['promise'] = {
  replyBy: '2026-12-01T10:00:00.000+01:00',
  targetHours: 12,
  capped: false,
  teamAwayUntil: null,
  signer: { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
};

type Event =
  | { kind: 'message'; minute: number }
  /** `early`: stamped before messages already applied (its time taken before the provider's call). */
  | { kind: 'reply'; minute: number; early: boolean }
  | { kind: 'duplicate'; pick: number };

/** One contact's traffic over a few days: messages and replies at any minute, in any order, and redeliveries. */
const events = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('message' as const),
        minute: fc.integer({ min: 0, max: 3000 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('reply' as const),
        minute: fc.integer({ min: 0, max: 3000 }),
        early: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  ),
  { minLength: 1, maxLength: 40 },
);

function message(id: string, minute: number): Message {
  return inboundSms(id, new Date(START + minute * MINUTE).toISOString());
}

function context(at: string): InboundContext {
  return { now: new Date(at), promise, noAckReason: null, defaultLocale: 'pl', newConversationId: 'conv_1' };
}

function replyContext(quietMinutes: number): ReplyContext {
  return { promiseFor: () => promise, quietAfterReplyMs: quietMinutes * MINUTE };
}

/**
 * Feeds the events through applyInbound and applyReply as the use cases would, asserting the
 * episode invariants after every step. A reply is stamped at its minute, or no earlier than the
 * newest message already applied; an `early` one may be stamped before messages applied before
 * it (they came while it was being sent: found at stop 24, such a reply ended their episode).
 */
function play(script: readonly Event[], quietMinutes: number): void {
  let conversation: Conversation | null = null;
  const seen: Message[] = [];
  const acked = new Set<number>();
  for (const event of script) {
    if (event.kind === 'reply') {
      const newest = Math.max(START, ...seen.map((m) => Date.parse(m.createdAt)));
      const at = new Date(
        event.early ? START + event.minute * MINUTE : Math.max(START + event.minute * MINUTE, newest),
      );
      if (!conversation) continue;
      const before: Conversation = conversation;
      conversation = applyReply(before, at, replyContext(quietMinutes));
      // A message newer than the reply opens the next episode: at most one ack for it.
      if (conversation.episode !== before.episode) {
        expect(conversation.episode).toBe(before.episode + 1);
        if (conversation.ack?.state === 'pending') {
          expect(acked.has(conversation.episode)).toBe(false);
          acked.add(conversation.episode);
        }
      }
      expectNobodyLeftWaiting(conversation, seen);
      continue;
    }
    const duplicate = event.kind === 'duplicate';
    const next: Message | undefined = duplicate
      ? seen[event.pick % Math.max(seen.length, 1)]
      : message(`m${seen.length + 1}`, event.minute);
    if (!next) continue;
    const before: Conversation | null = conversation;
    const result = applyInbound(before, next, context(next.createdAt));
    const after = result.conversation;

    if (duplicate) expect(after).toEqual(before);
    if (result.kind === 'applied' && result.ackRequested) {
      expect(acked.has(after.episode)).toBe(false);
      acked.add(after.episode);
    }
    const episodeBefore = before?.episode ?? 0;
    if (after.episode !== episodeBefore) {
      expect(after.episode).toBe(episodeBefore + 1);
      expect(before?.awaitingSince ?? null).toBeNull();
      if (before?.lastReplyAt)
        expect(Date.parse(next.createdAt)).toBeGreaterThan(Date.parse(before.lastReplyAt));
    }
    const waiting = before !== null && before.awaitingSince !== null;
    const afterReply = !before?.lastReplyAt || Date.parse(next.createdAt) > Date.parse(before.lastReplyAt);
    if (!duplicate && !waiting && afterReply) expect(after.episode).toBe(episodeBefore + 1);

    if (!duplicate) seen.push(next);
    conversation = after;
    expectNobodyLeftWaiting(conversation, seen);
  }
}

/** Nobody is left waiting unseen: a message newer than our last reply means an open episode. */
function expectNobodyLeftWaiting(conversation: Conversation, seen: readonly Message[]): void {
  const lastReplyAt = conversation.lastReplyAt ? Date.parse(conversation.lastReplyAt) : -Infinity;
  if (seen.some((m) => Date.parse(m.createdAt) > lastReplyAt))
    expect(conversation.awaitingSince).not.toBeNull();
}

describe('conversation episodes', () => {
  it('should hold the episode invariants over any sequence of messages, replies and duplicates', () => {
    fc.assert(
      fc.property(events, fc.constantFrom(0, 10), (script, quietMinutes) => {
        play(script, quietMinutes);
      }),
      fuzzRuns(500),
    );
  });

  // The reply/new-message race: a reply stamped a few ms before a message that was applied
  // first cannot have answered it, so the episode goes on and a retry of the message stays a
  // duplicate (it once re-opened an episode with a second ack).
  it('should ignore a redelivered message after replies stamped before it', () => {
    // Prepare
    const m1 = message('m1', 5);
    let conversation = applyInbound(null, m1, context(m1.createdAt)).conversation;
    conversation = applyReply(conversation, new Date(START), replyContext(10));
    const m2 = message('m2', 6);
    conversation = applyInbound(conversation, m2, context(m2.createdAt)).conversation;
    conversation = applyReply(conversation, new Date(START + MINUTE), replyContext(10));

    // Act
    const redelivered = applyInbound(conversation, m1, context(m1.createdAt));

    // Assess
    expect(redelivered).toEqual({ kind: 'unchanged', conversation });
  });

  it('should keep waiting for a message newer than a reply applied after it', () => {
    // Prepare
    const m1 = message('m1', 5);
    const opened = applyInbound(null, m1, context(m1.createdAt)).conversation;

    // Act
    const replied = applyReply(opened, new Date(START), replyContext(10));

    // Assess
    expect(replied.awaitingSince).toBe(m1.createdAt);
  });

  // Found at stop 24: a reply stamped before a message applied first (it came while the reply
  // was with the provider) ended that message's episode.
  it('should open the next episode for a message newer than a reply applied after it', () => {
    // Prepare: m1 at minute 5 opens the episode; m2 at minute 31 joins it
    const m1 = message('m1', 5);
    const m2 = message('m2', 31);
    let conversation = applyInbound(null, m1, context(m1.createdAt)).conversation;
    conversation = applyInbound(conversation, m2, context(m2.createdAt)).conversation;

    // Act: the reply stamped at minute 30, applied after m2
    const quiet = applyReply(conversation, new Date(START + 30 * MINUTE), replyContext(10));
    const loud = applyReply(conversation, new Date(START + 30 * MINUTE), replyContext(0));

    // Assess: episode 1 answered (its pending ack skipped), episode 2 waits since m2, with a
    // promise; acknowledged only outside the quiet time after a reply
    expect(quiet).toMatchObject({
      episode: 2,
      awaitingSince: m2.createdAt,
      lastReplyAt: new Date(START + 30 * MINUTE).toISOString(),
      replyBy: promise.replyBy,
      ack: { episode: 2, state: 'skipped', reason: 'recently-answered' },
    });
    expect(quiet.outbox.filter((event) => event.type === 'ack.skipped').map((event) => event.data)).toEqual([
      { episode: 1, reason: 'answered' },
      { episode: 2, reason: 'recently-answered' },
    ]);
    expect(loud.ack).toMatchObject({ episode: 2, state: 'pending', requestedAt: m2.createdAt });
    expect(applyInbound(quiet, m2, context(m2.createdAt)).kind).toBe('unchanged');
  });
});
