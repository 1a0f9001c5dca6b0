import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

describe('the promise, end to end', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should answer a Friday-evening message with Monday and the person on duty, then one late notice', async () => {
    // Prepare: Friday 27 November 2026, 19:10 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-27T19:10:00+01:00') });

    // Act
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, czy mogę zmienić adres dostawy?' });
    await sb.drain();
    const [ack] = await sb.outbox();
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 1 });
    const replyBy = Date.parse(items[0]?.replyBy as string);
    for (let minutes = 0; minutes < 4 * 24 * 60; minutes += 15) {
      sb.clock.set(new Date(Date.parse('2026-11-27T19:10:00+01:00') + minutes * 60_000));
      await sweep(sb.runtime.sweepDeps);
      await sb.drain();
    }

    // Assess
    expect(ack?.text).toMatch(/w poniedziałek/);
    expect(ack?.text).toContain('Anna Kowalska');
    expect(new Date(replyBy).getUTCDay()).toBe(1);
    const outbox = await sb.outbox();
    const notices = (await sb.runtime.store.listMessages(items[0]?.id as string, { limit: 1_000 })).filter(
      (m) => m.kind === 'notice',
    );
    expect(notices).toHaveLength(1);
    expect(outbox).toHaveLength(2);
    expect(outbox[1]?.text).toContain('Anna Kowalska');
  });
});
