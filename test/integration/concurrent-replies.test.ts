import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { replyApplied } from '#lib/domain/conversation.ts';
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

// Stop 33 (events): during a rolling deploy a release before stop 32 applies replies without
// listing them. One stored before the last listed reply (a slow send) moved nothing the list could
// see, not even lastReplyAt: its retry on this release was told "not applied" and announced
// reply.sent a second time, under its id and a new number.
describe('a reply an older release applied during a rolling deploy', () => {
  let sb: TestSwitchboard;
  afterEach(async () => {
    await sb?.stop();
  });

  it('should not take a reply stored before the last listed one for unapplied once an older release wrote the conversation', async () => {
    // Prepare: a question, acknowledged; this release applies an agent's reply at 10:15
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:15:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła.' })).status).toBe(201);

    // Act: an older release applies a reply stored at 10:14 (a slower send): lastReplyAt stays,
    // its reply.sent went out and was cleared; only the item's version moves
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONV#${id}`, sk: 'CONV' }),
        UpdateExpression: 'SET version = version + :one',
        ExpressionAttributeValues: marshall({ ':one': 1 }),
      }),
    );
    const afterOlder = await sb.onlyOpenConversation();
    const stored = new Date('2026-11-25T10:14:00+01:00').toISOString();

    // Assess: the list can no longer tell (its retry then goes by lastReplyAt: applied); a reply
    // this release applies next is listed again, and the older one still not taken for unapplied
    expect(replyApplied(afterOlder, 'msg_older_release', stored)).toBeNull();
    sb.clock.set('2026-11-25T10:20:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Numer: 123.' })).status).toBe(201);
    const later = await sb.onlyOpenConversation();
    expect(replyApplied(later, 'msg_older_release', stored)).toBeNull();
    const [newest] = (await sb.events()).filter((e) => e.type === 'reply.sent').slice(-1);
    expect(replyApplied(later, newest?.data.messageId as string, newest?.occurredAt as string)).toBe(true);
  });
});
