import { describe, expect, it } from 'vitest';
import {
  applyAgentReply,
  applyInbound,
  type Conversation,
  type InboundContext,
  replyApplied,
} from '#lib/domain/conversation.ts';
import { inboundSms } from '#test/support/messages.ts';

// Stop 32: a reply applied twice (Meta's report of it and the agent's retry meeting) announced
// reply.sent twice; a reply whose request died before applying it, retried after a later reply,
// was taken for applied and never announced. The conversation lists the replies applied lately.

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

function promiseAt(when: Date): InboundContext['promise'] {
  return {
    replyBy: new Date(when.getTime() + 2 * 60 * MINUTE).toISOString(),
    targetHours: 2,
    capped: false,
    teamAwayUntil: null,
    signer: { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
  };
}

const context = { promiseFor: (when: Date) => promiseAt(when), quietAfterReplyMs: 10 * MINUTE };

function waiting(): Conversation {
  const now = at(0);
  const result = applyInbound(null, inboundSms('m1', now.toISOString(), { text: 'Gdzie paczka?' }), {
    now,
    promise: promiseAt(now),
    noAckReason: null,
    defaultLocale: 'pl',
    newConversationId: 'conv_1',
  });
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${result.kind}`);
  return result.conversation;
}

const reply = (conversation: Conversation, messageId: string, minutes: number) =>
  applyAgentReply(conversation, { messageId, at: at(minutes), agent: 'Anna', channel: 'sms' }, context);

describe('the replies applied to a conversation lately (appliedReplies)', () => {
  it('should change nothing and announce nothing when a reply already applied is applied again', () => {
    // Prepare
    const replied = { ...reply(waiting(), 'r1', 5), outbox: [] };

    // Act
    const again = reply(replied, 'r1', 5);

    // Assess
    expect(again).toBe(replied);
    expect(replyApplied(replied, 'r1', at(5).toISOString())).toBe(true);
  });

  it('should tell a reply not applied from one applied, though a later reply was applied', () => {
    // Prepare: r2 applied; r1, stored a minute before it, never was
    const replied = reply(waiting(), 'r2', 6);

    // Act / Assess
    expect(replyApplied(replied, 'r1', at(5).toISOString())).toBe(false);
    const late = reply(replied, 'r1', 5);
    expect(late.outbox.filter((event) => event.type === 'reply.sent').map((e) => e.data.messageId)).toEqual([
      'r2',
      'r1',
    ]);
  });

  it('should read only the ids it lists, never a name every object answers to', () => {
    // Prepare: r2 applied; the list is a stored map, whose prototype knows `constructor`
    const replied = reply(waiting(), 'r2', 6);

    // Act / Assess: an id spelled like one of Object's own names is no reply applied
    expect(replyApplied(replied, 'constructor', at(7).toISOString())).toBe(false);
    expect(replyApplied(replied, 'toString', at(7).toISOString())).toBe(false);
    const late = reply(replied, 'constructor', 7);
    expect(late.outbox.filter((event) => event.type === 'reply.sent').map((e) => e.data.messageId)).toEqual([
      'r2',
      'constructor',
    ]);
  });

  it('should not tell for a reply older than the list, nor for one dropped from it a day on or past 50', () => {
    // Prepare: a conversation answered before the list began (no appliedReplies), then 51 replies
    const { appliedReplies: _none, ...before } = reply(waiting(), 'r0', 1);
    let conversation: Conversation = before;
    for (let i = 1; i <= 51; i++) conversation = { ...reply(conversation, `r${i}`, 1 + i), outbox: [] };
    const dayOn = reply(conversation, 'late', 1 + 51 + 24 * 60);

    // Assess
    expect(replyApplied(before, 'r0', at(1).toISOString())).toBeNull();
    expect(replyApplied(conversation, 'r0', at(1).toISOString())).toBeNull();
    expect(replyApplied(conversation, 'r1', at(2).toISOString())).toBeNull();
    expect(replyApplied(conversation, 'r2', at(3).toISOString())).toBe(true);
    expect(Object.keys(conversation.appliedReplies?.ids ?? {})).toHaveLength(50);
    expect(replyApplied(dayOn, 'r51', at(52).toISOString())).toBeNull();
    expect(Object.keys(dayOn.appliedReplies?.ids ?? {})).toEqual(['late']);
  });

  it('should not tell once a release before the list applied a later reply (it keeps the list, adds nothing)', () => {
    // Prepare: r1 listed; an older release applies r2 a minute on (lastReplyAt moves, the list stays)
    const listed = reply(waiting(), 'r1', 5);
    const older = { ...listed, lastReplyAt: at(6).toISOString() };

    // Act / Assess: r2, or r3 stored between, may or may not be applied
    expect(replyApplied(older, 'r2', at(6).toISOString())).toBeNull();
    expect(replyApplied(older, 'r1', at(5).toISOString())).toBe(true);
    expect(replyApplied(listed, 'r2', at(6).toISOString())).toBe(false);
  });

  it('should not take a reply an older release applied for unapplied once this release lists a later one', () => {
    // Prepare: r1 listed; an older release applies r2 at 6 (unlisted); this release applies r3 at 7
    const older = { ...reply(waiting(), 'r1', 5), lastReplyAt: at(6).toISOString() };
    const later = reply(older, 'r3', 7);

    // Act / Assess: r2 cannot be told; r3 listed; a reply after r2 not listed is not applied
    expect(replyApplied(later, 'r2', at(6).toISOString())).toBeNull();
    expect(replyApplied(later, 'r3', at(7).toISOString())).toBe(true);
    expect(replyApplied(later, 'r4', at(6.5).toISOString())).toBe(false);
  });

  it('should not tell for a reply dropped from a list begun on a conversation never answered before', () => {
    // Prepare: 51 replies on a conversation whose first reply began the list (since: ever)
    let conversation = waiting();
    for (let i = 1; i <= 51; i++) conversation = { ...reply(conversation, `r${i}`, i), outbox: [] };

    // Assess: r1 dropped, so the list no longer tells; r2 still listed
    expect(replyApplied(conversation, 'r1', at(1).toISOString())).toBeNull();
    expect(replyApplied(conversation, 'r2', at(2).toISOString())).toBe(true);
  });
});
