import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyInbound,
  applyReply,
  type Conversation,
  type InboundContext,
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
  | { kind: 'reply'; minute: number }
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

/**
 * Feeds the events through applyInbound and applyReply as the use cases would, asserting the
 * episode invariants after every step. A reply is stamped no earlier than the newest message
 * already applied: a reply stamped before a message it is applied after is the known bug below.
 */
function play(script: readonly Event[]): void {
  let conversation: Conversation | null = null;
  const seen: Message[] = [];
  const acked = new Set<number>();
  for (const event of script) {
    if (event.kind === 'reply') {
      const newest = Math.max(START, ...seen.map((m) => Date.parse(m.createdAt)));
      const at = new Date(Math.max(START + event.minute * MINUTE, newest));
      if (conversation) conversation = applyReply(conversation, at);
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
  }
  // Nobody is left waiting unseen: a message newer than our last reply means an open episode.
  const lastReplyAt = conversation?.lastReplyAt ? Date.parse(conversation.lastReplyAt) : -Infinity;
  if (seen.some((m) => Date.parse(m.createdAt) > lastReplyAt))
    expect(conversation?.awaitingSince).not.toBeNull();
}

describe('conversation episodes', () => {
  it('should hold the episode invariants over any sequence of messages, replies and duplicates', () => {
    fc.assert(
      fc.property(events, (script) => {
        play(script);
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
    conversation = applyReply(conversation, new Date(START));
    const m2 = message('m2', 6);
    conversation = applyInbound(conversation, m2, context(m2.createdAt)).conversation;
    conversation = applyReply(conversation, new Date(START + MINUTE));

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
    const replied = applyReply(opened, new Date(START));

    // Assess
    expect(replied.awaitingSince).toBe(m1.createdAt);
  });
});
