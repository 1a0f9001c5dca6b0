import { describe, expect, it } from 'vitest';
import { type AckPolicyInput, noAckReason } from '#lib/domain/ack-policy.ts';
import { applyInbound, type Conversation, type InboundContext } from '#lib/domain/conversation.ts';
import { inboundSms } from '#test/support/messages.ts';

// Time boundaries of the ack policy and of a promise falling due, found untested by a manual
// mutation review (stop 25): each test fails under the mutation named above it.

const PROMISE = {
  replyBy: '2026-11-26T10:00:00.000+01:00',
  targetHours: 12,
  capped: true,
  teamAwayUntil: null,
  signer: { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
} as unknown as InboundContext['promise'];

function context(overrides: Partial<InboundContext> = {}): InboundContext {
  return {
    now: new Date('2026-11-25T09:00:00Z'),
    promise: PROMISE,
    noAckReason: null,
    defaultLocale: 'pl',
    newConversationId: 'conv_1',
    ...overrides,
  };
}

/** Applies `message` and returns the stored conversation (its events delivered). */
function applied(current: Conversation | null, message: ReturnType<typeof inboundSms>, ctx: InboundContext) {
  const result = applyInbound(current, message, ctx);
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${result.kind}`);
  return { ...result.conversation, version: (current?.version ?? 0) + 1, outbox: [] };
}

describe('the ack policy at the end of the quiet time after a reply', () => {
  // Kills: ack-policy.ts `< settings.quietMinutesAfterReply * MINUTE` → `<=`.
  it('should acknowledge a message exactly quietMinutesAfterReply after the reply (the quiet time is over)', () => {
    // Prepare
    const now = new Date('2026-11-25T12:00:00Z');
    const input: AckPolicyInput = {
      contact: null,
      message: { channel: 'sms', kind: 'message' },
      canSendOn: true,
      conversation: { id: 'conv_a', lastReplyAt: new Date(now.getTime() - 10 * 60_000).toISOString() },
      now,
      settings: { quietMinutesAfterReply: 10, minutesBetweenAcks: 60 },
    };

    // Act
    const reason = noAckReason(input);
    const justBefore = noAckReason({ ...input, now: new Date(now.getTime() - 1) });

    // Assess
    expect(reason).toBeNull();
    expect(justBefore).toBe('recently-answered');
  });
});

describe('applyInbound', () => {
  const first = () => applied(null, inboundSms('m1', '2026-11-25T09:00:00.000Z'), context());

  // Kills: conversation/join-episode.ts joinEpisode `Date.parse(touched.replyBy) <= context.now` → `<`.
  it('should count the broken promise and state a new one when the customer calls at the very moment it falls due', () => {
    // Prepare: promised by 2026-11-26 10:00 Warsaw (09:00Z)
    const waiting = first();
    const later = { ...PROMISE, replyBy: '2026-11-26T12:00:00.000+01:00' } as InboundContext['promise'];
    const call = inboundSms('c1', '2026-11-26T09:00:00.000Z', {
      kind: 'call',
      channel: 'voice',
      providerMessageId: 'CA1',
      text: '',
    });

    // Act
    const result = applied(
      waiting,
      call,
      context({ now: new Date(Date.parse(PROMISE.replyBy)), promise: later }),
    );

    // Assess
    expect(result.breachedEpisode).toBe(1);
    expect(result.replyBy).toBe(later.replyBy);
    expect(result.originalReplyBy).toBe(PROMISE.replyBy);
  });
});
