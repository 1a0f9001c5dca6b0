import { describe, expect, it } from 'vitest';
import { applyInbound, type Conversation, claimAck, settleAck } from '#lib/domain/conversation.ts';
import { inboundSms } from '#test/support/messages.ts';

// Stop 34: an ack.sent announced ahead of its worker's write took the number the claimed version
// would give next, which the customer's next message, written meanwhile, had taken too.

const MINUTE = 60_000;

function received(conversation: Conversation | null, id: string, at: Date): Conversation {
  const message = inboundSms(id, at.toISOString(), { text: 'question', contactKey: 'phone:+48601234567' });
  const result = applyInbound(conversation, message, {
    now: at,
    promise: {
      replyBy: new Date(at.getTime() + 120 * MINUTE).toISOString(),
      targetHours: 2,
      capped: false,
      teamAwayUntil: null,
      signer: { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
    },
    noAckReason: null,
    defaultLocale: 'pl',
    newConversationId: 'conv_1',
  });
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${result.kind}`);
  return result.conversation;
}

describe("an automatic message's event number", () => {
  const start = new Date('2026-11-26T09:00:00.000Z');

  it("should be reserved by the claim, so a message written before the worker's write takes the next one", () => {
    // Prepare: a first message (opened 1, received 2), its ack claimed
    const first = received(null, 'msg_1', start);
    const claimed = claimAck(first, 1, new Date(start.getTime() + 1_000), 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');

    // Act: the customer writes again, then the worker marks the ack sent
    const second = received(claimed.conversation, 'msg_2', new Date(start.getTime() + 2_000));
    const sent = settleAck(second, 1, {
      state: 'sent',
      at: new Date(start.getTime() + 3_000),
      messageId: 'm',
    });

    // Assess: 1, 2, the ack's 3, the second message's 4; the job keeps no number once settled
    expect(claimed.conversation.ack?.sequence).toBe(3);
    expect(sent.outbox.map((event) => [event.type, event.sequence])).toEqual([
      ['conversation.opened', 1],
      ['message.received', 2],
      ['message.received', 4],
      ['ack.sent', 3],
    ]);
    expect(sent.eventSequence).toBe(4);
    expect(sent.ack?.sequence).toBeUndefined();
  });

  it('should stay with a job that backs off, and be taken by its next claim and its outcome, not counted again', () => {
    // Prepare: the ack claimed, its try failed (pending, retry later)
    const first = received(null, 'msg_1', start);
    const claimed = claimAck(first, 1, new Date(start.getTime() + 1_000), 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const later = new Date(start.getTime() + 2 * MINUTE);
    const backingOff = settleAck(claimed.conversation, 1, {
      state: 'pending',
      reason: 'SEND_FAILED',
      retryAt: later,
    });

    // Act: the next claim, then a permanent refusal
    const again = claimAck(backingOff, 1, later, 60_000);
    if (again.kind !== 'claimed') throw new Error('expected claimed');
    const failed = settleAck(again.conversation, 1, {
      state: 'failed',
      reason: 'SEND_FAILED:21211',
      at: later,
    });

    // Assess: one number reserved, taken by ack.failed
    expect(backingOff.ack?.sequence).toBe(3);
    expect(again.conversation.eventSequence).toBe(3);
    expect(failed.outbox.map((event) => [event.type, event.sequence]).at(-1)).toEqual(['ack.failed', 3]);
    expect(failed.eventSequence).toBe(3);
  });

  // A release before stop 34 keeps the number a claim of this one reserved on the job it settles
  // (its Ack is a loose object: `sequence` rides along in the rest) and numbers its event after
  // the others: that number was never taken, and one taken now would come before that event.
  function settledByPreviousRelease(claimed: Conversation, state: 'sent' | 'failed', at: Date): Conversation {
    const job = claimed.ack;
    if (!job) throw new Error('expected an ack');
    const { leaseUntil: _lease, ...rest } = job;
    const sequence = (claimed.eventSequence ?? 0) + 1;
    return {
      ...claimed,
      ack:
        state === 'sent'
          ? { ...rest, state, sentAt: at.toISOString(), messageId: 'm' }
          : { ...rest, state, reason: 'SEND_FAILED', deadLetteredAt: at.toISOString() },
      eventSequence: sequence,
      outbox: [
        ...claimed.outbox,
        {
          id: `evt_previous_${state}`,
          type: state === 'sent' ? 'ack.sent' : 'ack.failed',
          occurredAt: at.toISOString(),
          sequence,
          conversationId: claimed.id,
          data: { episode: 1 },
        },
      ],
    };
  }

  it("should not give a failure reported after the previous release's worker marked the ack sent a number below that sent", () => {
    // Prepare: claimed here (3 reserved), the second message (4), sent by the previous release's worker (5)
    const first = received(null, 'msg_1', start);
    const claimed = claimAck(first, 1, new Date(start.getTime() + 1_000), 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const second = received(claimed.conversation, 'msg_2', new Date(start.getTime() + 2_000));
    const sent = settledByPreviousRelease(second, 'sent', new Date(start.getTime() + 3_000));

    // Act: Twilio reports it undelivered
    const failed = settleAck(sent, 1, {
      state: 'failed',
      reason: 'delivery-undelivered:30003',
      at: new Date(start.getTime() + 4_000),
    });

    // Assess: the failure comes after the sent it takes back (6), never under the stale 3
    expect(failed.outbox.map((event) => [event.type, event.sequence]).slice(-2)).toEqual([
      ['ack.sent', 5],
      ['ack.failed', 6],
    ]);
  });

  it("should give a redriven ack a new number when the previous release's worker failed it, not the one it left unused", () => {
    // Prepare: claimed here (3 reserved), the second message (4), dead-lettered by the previous release (5)
    const first = received(null, 'msg_1', start);
    const claimed = claimAck(first, 1, new Date(start.getTime() + 1_000), 60_000);
    if (claimed.kind !== 'claimed') throw new Error('expected claimed');
    const second = received(claimed.conversation, 'msg_2', new Date(start.getTime() + 2_000));
    const deadLettered = settledByPreviousRelease(second, 'failed', new Date(start.getTime() + 3_000));

    // Act: redriven from the DLQ, claimed and sent here
    const redriveAt = new Date(start.getTime() + 5 * MINUTE);
    const again = claimAck(deadLettered, 1, redriveAt, 60_000, 'ack', { firstDelivery: true });
    if (again.kind !== 'claimed') throw new Error('expected claimed');
    const sent = settleAck(again.conversation, 1, { state: 'sent', at: redriveAt, messageId: 'm' });

    // Assess: the ack.sent comes after the ack.failed it follows (6), not under the stale 3
    expect(sent.outbox.map((event) => [event.type, event.sequence]).slice(-2)).toEqual([
      ['ack.failed', 5],
      ['ack.sent', 6],
    ]);
  });
});
