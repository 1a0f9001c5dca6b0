import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReply } from '#lib/domain/conversation.ts';
import { formatReplyBy } from '#lib/domain/texts/index.ts';
import { replyContext, updateConversation } from '#lib/use-cases/conversation-writes.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { injectFault } from '#test/support/faults.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

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
    const messages = await sb.runtime.store.listMessages(noticed.id, { limit: 1_000 });
    expect(messages.map((m) => m.kind)).toEqual(['message', 'ack', 'notice']);
    expect(outbox[1]?.text).toBe(messages[2]?.text);
  });

  // Found by the audit of stop 32: a question that came within the quiet minutes after our reply
  // gets no ack, so the customer was told no time; its late notice still said "przepraszam, nie
  // zdążę odpisać dziś do 10:00" on WhatsApp (in English "… as I promised"), a promise they never heard.
  it('should not apologise for missing a time nobody told the customer, when their question came in the quiet after our reply', async () => {
    // Prepare: acknowledged at 10:00, answered at 10:30, and at 10:35 a new question (quiet: no ack)
    const whatsapp = { From: 'whatsapp:+48601234567', To: 'whatsapp:+48221234567' };
    await sb.postSms({ ...whatsapp, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await only();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    const replied = await sb.act(`/conversations/${first.id}/replies`, { text: 'Wyszła dziś rano.' });
    expect(replied.status).toBe(201);
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ ...whatsapp, Body: 'A czy mogę zmienić adres dostawy?' });
    await sb.drain();
    const quiet = await only();
    expect(quiet.ack).toMatchObject({ state: 'skipped', reason: 'recently-answered' });
    const textsBefore = (await sb.outbox()).length;

    // Act: nobody answers; the sweeper runs shortly before the untold promise passes
    sb.clock.set(new Date(Date.parse(quiet.replyBy as string) - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: one notice, which states the new time without naming one they never heard
    const noticed = await only();
    const texted = (await sb.outbox()).slice(textsBefore).map((entry) => entry.text);
    expect(noticed.notice).toMatchObject({ state: 'sent' });
    expect(texted).toEqual([
      `Dzień dobry, przepraszam, że to trwa. Odpiszę najpóźniej ${formatReplyBy('pl', { now: sb.clock.now(), replyBy: noticed.replyBy as string, timeZone: 'Europe/Warsaw' })}. Jeśli sprawa jest pilna, zadzwoń do mnie. Dziękuję za cierpliwość!\nAnna Kowalska, tel. 22 123 45 67`,
    ]);
  });

  it('should send no notice to a customer who sent STOP after the acknowledgement', async () => {
    // Prepare: acknowledged, then STOP in the same waiting episode
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const replyBy = Date.parse((await only()).replyBy as string);
    sb.clock.advance(5 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'STOP' });

    // Act: the time a notice would be due
    sb.clock.set(new Date(replyBy - 29 * 60_000));
    const due = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: only the acknowledgement sent before the STOP
    expect(due.notices).toBe(0);
    expect(await sb.outbox()).toHaveLength(1);
    const stopped = await only();
    expect(stopped.optedOut).toBe(true);
    expect(stopped.notice).toBeNull();
  });

  it('should send no notice when an agent replied in time', async () => {
    // Prepare
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const conversation = await only();
    sb.clock.advance(30 * 60_000);
    await updateConversation(sb.runtime.store, conversation.id, (c) =>
      applyReply(c, sb.clock.now(), replyContext(sb.config.business)),
    );

    // Act
    sb.clock.set(new Date(Date.parse(conversation.replyBy as string) - 5 * 60_000));
    const result = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess
    expect(result.notices).toBe(0);
    expect(await sb.outbox()).toHaveLength(1);
  });

  /** `count` customers writing at the same moment: one promise, due for all of them together. */
  async function burst(count: number): Promise<{ replyBy: number; ids: string[] }> {
    for (let i = 0; i < count; i++) {
      expect((await sb.postSms({ From: `+4860150${String(i).padStart(4, '0')}` })).status).toBe(200);
    }
    await sb.drain();
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 500 });
    expect(new Set(items.map((c) => c.replyBy)).size).toBe(1);
    return { replyBy: Date.parse(items[0]?.replyBy as string), ids: items.map((c) => c.id) };
  }

  it('should start every late notice of a burst come due together in one run, page after page', async () => {
    // Prepare: 250 customers, one promise (a weekend's messages all promised for Monday 10:00).
    const { replyBy } = await burst(250);
    sb.clock.set(new Date(replyBy - 29 * 60_000));

    // Act
    const result = await sweep(sb.runtime.sweepDeps);
    const again = await sweep(sb.runtime.sweepDeps);
    const jobs = await sb.drain();

    // Assess: all of them in the first run (one page of 100 was all a run used to take).
    expect(result).toMatchObject({ due: 250, notices: 250, errors: 0 });
    expect(again.notices).toBe(0);
    expect(jobs).toBe(250);
  }, 60_000);

  it('should say so (a metric and a warning) when a run ends with conversations still due', async () => {
    // Prepare
    const { replyBy } = await burst(3);
    sb.clock.set(new Date(replyBy - 29 * 60_000));
    const counted: string[] = [];
    const metrics = { count: (name: string) => void counted.push(name), timing: () => {} };

    // Act: a run with time for one page of one.
    const short = await sweep({ ...sb.runtime.sweepDeps, metrics }, { pageSize: 1, budgetMs: 0 });
    const rest = await sweep({ ...sb.runtime.sweepDeps, metrics });

    // Assess
    expect(short).toMatchObject({ due: 1, notices: 1, behind: true });
    expect(rest).toMatchObject({ due: 2, notices: 2, behind: false });
    expect(counted.filter((name) => name === 'SweepBacklog')).toHaveLength(1);
    expect(sb.log.lines.filter((line) => line.message.includes('ran out of time'))).toHaveLength(1);
  });

  it('should take a conversation that stays due once a run, and go on with the others', async () => {
    // Prepare: the notice of one conversation cannot be written.
    const { replyBy, ids } = await burst(3);
    sb.clock.set(new Date(replyBy - 29 * 60_000));
    const {
      items: [stuck],
    } = await sb.runtime.store.dueForSweep(sb.clock.now(), 1);
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: Number.POSITIVE_INFINITY,
      match: (input) => (input.Item as { pk?: { S?: string } }).pk?.S === `CONV#${stuck?.id}`,
    });

    // Act: pages of one; the stuck conversation comes first (its promise is the same, its id
    // decides).
    const result = await sweep(sb.runtime.sweepDeps, { pageSize: 1, budgetMs: 60_000 });
    fault.remove();
    const next = await sweep(sb.runtime.sweepDeps);

    // Assess: tried once (each page continues after the last one, whatever the index still
    // says), the other two noticed in the same run, the stuck one by the next.
    expect(ids).toContain(stuck?.id);
    expect(fault.fired).toBe(1);
    expect(result).toMatchObject({ due: 3, notices: 2, errors: 1 });
    expect(next).toMatchObject({ due: 1, notices: 1, errors: 0 });
  });
});

describe("the late notice in the agents' API", () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;

  afterEach(async () => {
    await sb.stop();
    await twilio.close();
  });

  type NoticeView = {
    state: string;
    reason?: string;
    sentAt?: string;
    notBefore?: string;
    previousReplyBy?: string;
  } | null;
  async function noticeOf(id: string): Promise<NoticeView> {
    const body = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: { notice?: NoticeView };
    };
    return body.conversation.notice as NoticeView;
  }

  it("should show the episode's notice: none before it, its next try after a failure, then when it went and the time it replaced", async () => {
    // Prepare: an SMS question, acknowledged; at the notice's time Twilio fails every try
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
    });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const { id, replyBy } = await sb.onlyOpenConversation();
    const before = await noticeOf(id);

    // Act: the notice comes due and fails; then Twilio is back and its retry goes
    twilio.failNext(50, { status: 500 });
    sb.clock.set(new Date(Date.parse(replyBy as string) - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const failing = await noticeOf(id);
    const stored = (await sb.onlyOpenConversation()).notice;
    twilio.recover();
    sb.clock.set(new Date(Date.parse(stored?.retryAt as string) + 1_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const sent = await noticeOf(id);

    // Assess
    expect(before).toBeNull();
    expect(stored).toMatchObject({ state: 'pending', retryAt: expect.any(String) });
    expect(failing).toEqual({
      state: 'pending',
      reason: expect.stringContaining('20500'),
      notBefore: stored?.retryAt,
    });
    expect(sent).toEqual({ state: 'sent', sentAt: expect.any(String), previousReplyBy: replyBy });
    expect((await sb.onlyOpenConversation()).replyBy).not.toBe(replyBy);
  });
});
