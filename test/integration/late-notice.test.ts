import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReply } from '#lib/domain/conversation.ts';
import { updateConversation } from '#lib/use-cases/conversation-writes.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

describe('the late notice', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  async function only() {
    const conversations = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    expect(conversations.items).toHaveLength(1);
    return conversations.items[0] as (typeof conversations.items)[number];
  }

  it('should send exactly one notice shortly before an unanswered promise and move the promise honestly', async () => {
    // Prepare
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const acknowledged = await only();
    const replyBy = Date.parse(acknowledged.replyBy as string);

    // Act: an hour before the promise nothing is due; 29 minutes before, the notice is.
    sb.clock.set(new Date(replyBy - 60 * 60_000));
    const early = await sweep(sb.runtime.sweepDeps);
    sb.clock.set(new Date(replyBy - 29 * 60_000));
    const due = await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    sb.clock.advance(10 * 60_000);
    const again = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess
    expect(early.notices).toBe(0);
    expect(due.notices).toBe(1);
    expect(again.notices).toBe(0);
    const outbox = await sb.outbox();
    expect(outbox).toHaveLength(2);
    const noticed = await only();
    expect(noticed.notice).toMatchObject({ state: 'sent', episode: 1 });
    expect(noticed.originalReplyBy).toBe(acknowledged.replyBy);
    expect(Date.parse(noticed.replyBy as string)).toBeGreaterThan(replyBy);
    const messages = await sb.runtime.store.listMessages(noticed.id);
    expect(messages.map((m) => m.kind)).toEqual(['message', 'ack', 'notice']);
    expect(outbox[1]?.text).toBe(messages[2]?.text);
  });

  it('should send no notice when an agent replied in time', async () => {
    // Prepare
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const conversation = await only();
    sb.clock.advance(30 * 60_000);
    await updateConversation(sb.runtime.store, conversation.id, (c) => applyReply(c, sb.clock.now()));

    // Act
    sb.clock.set(new Date(Date.parse(conversation.replyBy as string) - 5 * 60_000));
    const result = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess
    expect(result.notices).toBe(0);
    expect(await sb.outbox()).toHaveLength(1);
  });
});
