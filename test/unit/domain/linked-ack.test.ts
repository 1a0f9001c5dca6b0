import { describe, expect, it } from 'vitest';
import type { Conversation } from '#lib/domain/conversation.ts';
import { linkedAckVerdict } from '#lib/domain/linked-ack.ts';

const NOW = new Date('2026-11-27T10:00:00Z');
const SETTINGS = { quietMinutesAfterReply: 10 };

/** A conversation whose episode-1 ack is queued and waits for `waitsFor`'s (only what the verdict reads). */
function waiting(id: string, waitsFor: string): Conversation {
  return {
    id,
    ack: {
      state: 'pending',
      episode: 1,
      requestedAt: '2026-11-27T09:59:00Z',
      attempts: 0,
      after: { conversationId: waitsFor, episode: 1 },
    },
  } as Conversation;
}

describe('linkedAckVerdict', () => {
  // Stop 29: a queued ack that a linking message joins now waits for the other key's (Ack.after).
  // Should two acks ever name each other, each would wait for the other for good: none would go.
  it('should let exactly one of two acks that wait for each other go, the other waiting for it', () => {
    // Prepare
    const first = waiting('conv_a', 'conv_b');
    const second = waiting('conv_b', 'conv_a');
    const verdictOf = (self: Conversation, other: Conversation) => {
      const ack = self.ack as NonNullable<Conversation['ack']>;
      return linkedAckVerdict(
        other,
        { ...ack, after: ack.after as NonNullable<typeof ack.after> },
        false,
        NOW,
        SETTINGS,
        self.id,
      ).kind;
    };

    // Act
    const verdicts = [verdictOf(first, second), verdictOf(second, first)];

    // Assess
    expect(verdicts).toEqual(['send', 'wait']);
  });

  it('should wait for a queued ack that waits for a third one', () => {
    // Act
    const verdict = linkedAckVerdict(
      waiting('conv_b', 'conv_c'),
      { requestedAt: '2026-11-27T09:59:00Z', after: { conversationId: 'conv_b', episode: 1 } },
      false,
      NOW,
      SETTINGS,
      'conv_a',
    );

    // Assess
    expect(verdict).toEqual({ kind: 'wait', retryAt: new Date(NOW.getTime() + 30_000) });
  });

  // Stop 29: a BSUID-only message that finds the link only after writing its episode names the
  // episode the linking message opens on the number's answered conversation, which may not be
  // written yet. Sent at once, it left that one free to go too.
  it.each([
    ['a minute', '2026-11-27T09:59:00Z', 'wait'],
    ['three minutes', '2026-11-27T09:57:00Z', 'send'],
  ])('should wait for an episode not written yet when asked %s ago, then go', (_, requestedAt, kind) => {
    // Prepare: the other conversation's episode 2 was answered; this ack waits for its episode 3
    const other = {
      id: 'conv_b',
      episode: 2,
      ack: { state: 'sent', episode: 2, requestedAt: '2026-11-27T08:00:00Z', attempts: 1 },
    } as Conversation;

    // Act
    const verdict = linkedAckVerdict(
      other,
      { requestedAt, after: { conversationId: 'conv_b', episode: 3 } },
      false,
      NOW,
      { quietMinutesAfterReply: 10 },
      'conv_a',
    );

    // Assess
    expect(verdict.kind).toBe(kind);
  });
});
