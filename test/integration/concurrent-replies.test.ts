import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A review of this stop's appliedReplies (adversarial, stop 32): two replies written at the same
// moment to one waiting customer are each sent, each announced once, and the episode answered once.

const MOBILE = '+48601234567';

describe('two replies to one waiting customer at the same moment', () => {
  let sb: TestSwitchboard;
  afterEach(async () => {
    await sb?.stop();
  });

  it('should send both, announce each once and count the episode answered once', async () => {
    // Prepare: a question, acknowledged
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const acks = (await sb.outbox()).length;

    // Act: two agents answer at once
    sb.clock.set('2026-11-25T10:15:00+01:00');
    const answers = await Promise.all([
      sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' }),
      sb.act(`/conversations/${id}/replies`, { text: 'Numer przesyłki: 123456.' }),
    ]);
    await sb.drain();

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
    expect((await sb.outbox()).slice(acks)).toHaveLength(2);
    const sent = (await sb.events()).filter((event) => event.type === 'reply.sent');
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((event) => event.data.messageId)).size).toBe(2);
    expect(sent.filter((event) => event.data.answeredEpisode === true)).toHaveLength(1);
    await sb.feedStats();
    const report = (await (await sb.api('/api/service-level?from=2026-11-25&to=2026-11-25')).json()) as {
      totals: { answered: number; firstReplyWorkingHours: { median: number | null } };
    };
    expect(report.totals.answered).toBe(1);
    expect(report.totals.firstReplyWorkingHours.median).toBe(0.25);
    expect(await sb.onlyOpenConversation()).toMatchObject({ awaitingSince: null });
  });
});
