import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Where this stop's promise rules meet paths they were first not carried into (found by a
// second review of the stop's own changes): a held-up ack found stored by the claim after the
// last attempt, a customer who opted out in an earlier conversation, and a real question in an
// episode a keyword began that cannot be acknowledged either.

const MOBILE = '+48601234567';

describe('a held-up ack whose last allowed worker died after storing it', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should keep the promise the held-up ack stated when the claim finds it stored after the last attempt', async () => {
    // Prepare: an SMS on Wednesday 10:00 (promise Thursday 10:00). From Thursday 11:00 on, four
    // workers die after claiming the ack, before sending (an outage); the fifth, the last one
    // allowed (maxAttempts 5), sends it with a fresh promise, stores it and dies before marking
    // it sent
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie paczka?' });
    sb.clock.set('2026-11-26T11:00:00+01:00');
    for (let dead = 1; dead <= 4; dead++) {
      // The worker's look for an earlier send of the ack (GetItem MSG#…) never comes back.
      const fault = injectFault(sb.backends.dynamodb, {
        command: 'GetItemCommand',
        when: 'before',
        match: pkStartsWith('MSG#'),
      });
      await sb.drain();
      fault.remove();
      expect(fault.fired).toBe(1);
      sb.clock.advance(2 * 60_000);
      await sweep(sb.runtime.sweepDeps);
    }
    expect(await sb.outbox()).toHaveLength(0);
    let conversationPuts = 0;
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: (input) => pkStartsWith('CONV#')(input) && ++conversationPuts === 2,
    });
    await sb.drain();
    fault.remove();
    expect(fault.fired).toBe(1);
    const [ack] = await sb.outbox();
    // The ack stated a fresh promise (Thursday 11:08 + 24 h), not Thursday 10:00 gone by.
    expect(ack?.text).not.toContain('10:00');
    const before = await sb.onlyOpenConversation();
    expect(before.ack).toMatchObject({ state: 'sending', attempts: 5 });

    // Act: the lease runs out, the sweeper queues the job again; the claim finds every attempt
    // used and the message stored, and records it sent
    sb.clock.advance(2 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the ack is sent once, and the conversation holds the promise it stated (ahead),
    // as when any other worker finishes a dead one's send; so no "we are late for Thursday
    // 10:00" notice follows a few minutes after the customer was told a time a day ahead
    expect(await sb.outbox()).toHaveLength(1);
    const settled = await sb.onlyOpenConversation();
    expect(settled.ack).toMatchObject({ state: 'sent' });
    sb.clock.advance(60_000);
    const swept = await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    expect(swept.notices).toBe(0);
    expect(await sb.outbox()).toHaveLength(1);
    expect(Date.parse(settled.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
  });
});

describe('breaches of promises nobody made, in a later conversation', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should not count a breach for a customer who opted out before the conversation began', async () => {
    // Prepare: a number texts STOP (conversation A: opted out, no ack); an agent resolves A;
    // a day later the same number writes a question without START: a new conversation B,
    // where nothing may be sent to them (the contact is opted out: no ack, no notice, and
    // Twilio itself blocks every message to the number until START)
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601999888', Body: 'STOP' });
    await sb.drain();
    const [stopped] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    expect(stopped?.optedOut).toBe(true);
    expect((await sb.act(`/conversations/${stopped?.id}/resolve`, {})).status).toBe(200);
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: '+48601999888', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    const later = await sb.onlyOpenConversation();
    expect(later.id).not.toBe(stopped?.id);
    expect(later.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });

    // Act: two days later the sweeper runs
    sb.clock.set('2026-11-28T12:00:00+01:00');
    const swept = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: as for the customer whose only message was STOP (promise-edges.test.ts): nobody
    // was promised anything and nobody may write to them, so no breach is counted
    const breaches = (await sb.events()).filter((event) => event.type === 'promise.breached');
    expect(swept.breaches).toBe(0);
    expect(breaches).toHaveLength(0);
  });
});

describe('an episode a keyword began, then the customer asked a real question', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it("should count the breach when the customer's own question in an episode HELP began goes unanswered past the promise", async () => {
    // Prepare: a question on Wednesday 10:00, acknowledged; an agent answers at 10:30; the
    // customer texts HELP at 10:31 (a new episode, not acknowledged: keyword:help) and their
    // real follow-up at 10:33, not acknowledged either (an agent answered minutes ago)
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    expect(
      (await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Sprawdzam, chwileczkę.' })).status,
    ).toBe(201);
    sb.clock.set('2026-11-25T10:31:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'HELP' });
    sb.clock.set('2026-11-25T10:33:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Paczka nadal nie dotarła, proszę o pilną pomoc' });
    await sb.drain();
    const waiting = await sb.onlyOpenConversation();
    expect(waiting.episode).toBe(2);
    expect(waiting.awaitingSince).not.toBeNull();
    expect(waiting.replyBy).not.toBeNull();

    // Act: nobody answers; two days later the sweeper runs
    sb.clock.set('2026-11-27T12:00:00+01:00');
    const swept = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the customer's own question waited past the promise unanswered: a breach (as it
    // is for the same follow-up without the HELP before it, and as it was before the rule
    // "no breach for an episode only a message not to be answered opened")
    const breaches = (await sb.events()).filter((event) => event.type === 'promise.breached');
    expect(swept.breaches).toBe(1);
    expect(breaches).toHaveLength(1);
  });
});
