import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// The promise at its edges: a caller already waiting past the promise never hears a time gone
// by, a call's answer is measured under voice (its promise) though it goes out by SMS, and a
// customer whose only message was STOP breaches no promise. Found by a review of the promise
// and the service level at stop 22.

describe('the promise a caller hears', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('should never write a time gone by in an ack held up past its promise, and keep the first promise for measuring', async () => {
    // Prepare: an SMS on Wednesday 10:00 (promised Thursday 10:00); the worker is held up (an
    // outage) until Thursday 11:00
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    const [waiting] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    expect(waiting?.replyBy).toBe('2026-11-26T10:00:00.000+01:00');
    sb.clock.set('2026-11-26T11:00:00+01:00');

    // Act
    await sb.drain();

    // Assess: the ack states a time still ahead, which is now the episode's promise
    const [ack] = await sb.outbox();
    expect(ack?.text).not.toContain('10:00');
    const [after] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    expect(after?.ack).toMatchObject({ state: 'sent' });
    expect(Date.parse(after?.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
    expect(after?.originalReplyBy).toBe('2026-11-26T10:00:00.000+01:00');
  });

  it('should never speak a reply-by time that has already passed when a waiting customer calls', async () => {
    // Prepare: an SMS, acknowledged; the late notice moves the promise; that one passes too
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const [first] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    const firstReplyBy = Date.parse(first?.replyBy as string);
    sb.clock.set(new Date(firstReplyBy - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const [noticed] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    expect(noticed?.replyBy).toBe('2026-11-27T09:30:00.000+01:00');
    const movedReplyBy = Date.parse(noticed?.replyBy as string);
    sb.clock.set(new Date(movedReplyBy + 4 * 60 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Act: the same customer calls, still waiting, four hours after the (moved) promise
    const call = await sb.postTwilio('voice', 'voice-incoming');
    const twiml = await call.text();

    // Assess: at Friday 13:30 the greeting must not promise a call back "today by 9:30"
    expect(call.status).toBe(200);
    // (a promise kept from now: open until 17:00 today, back Monday 9:00 with the call back)
    expect(twiml).toContain('oddzwoni');
    expect(twiml).not.toContain('9:30');
    // and what the caller heard is the episode's promise now, the first kept for measuring
    const after = await sb.onlyOpenConversation();
    expect(Date.parse(after.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
    expect(after.originalReplyBy).toBe(first?.replyBy);
    expect(twiml).toContain('w poniedziałek o 9:00');
  });
});

describe('the service level of a call', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('should count a call answered in time under the voice channel, whose promise it was', async () => {
    // Prepare: a call (promised with the voice target), answered half an hour later (by SMS, the only way back)
    await sb.postTwilio('voice', 'voice-incoming');
    await sb.drain();
    const listed = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
    const conversation = listed.items[0];
    expect(conversation?.channel).toBe('voice');
    sb.clock.set('2026-11-25T10:30:00+01:00');
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Oddzwaniam SMS-em.' });
    expect(reply.status).toBe(201);

    // Act
    await sb.feedStats();
    const response = await sb.api('/api/service-level?from=2026-11-25&to=2026-11-25');
    const report = (await response.json()) as {
      byChannel: Record<
        string,
        { conversations: number; answered: number; promisesKept: { measured: number } }
      >;
    };

    // Assess: one voice conversation, answered and measured on voice; nothing on sms
    expect(report.byChannel.voice).toMatchObject({
      conversations: 1,
      answered: 1,
      promisesKept: { measured: 1 },
    });
    expect(report.byChannel.sms?.answered ?? 0).toBe(0);
  });
});

describe('breaches of promises nobody made', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('should not count a breached promise for a customer whose only message was STOP', async () => {
    // Prepare: a new number texts STOP: no ack (keyword:stop), the customer opted out
    await sb.postSms({ From: '+48601999888', Body: 'STOP' });
    await sb.drain();
    const [stopped] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    expect(stopped?.optedOut).toBe(true);
    expect(stopped?.ack).toMatchObject({ state: 'skipped', reason: 'keyword:stop' });

    // Act: two days later the sweeper runs
    sb.clock.set('2026-11-27T12:00:00+01:00');
    const swept = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: nobody was promised anything and nobody may write to them: no breach, no alarm
    const breaches = (await sb.events()).filter((event) => event.type === 'promise.breached');
    expect(swept.breaches).toBe(0);
    expect(breaches).toHaveLength(0);
  });
});
