import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStatsStore } from '#lib/adapters/dynamodb-stats-store.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { Figures } from '#lib/domain/service-level.ts';
import { formatReport } from '#lib/local/report-cli.ts';
import { type ServiceLevelReport, statsSink } from '#lib/use-cases/service-level.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { mailgunMail } from '#test/support/email.ts';
import { signMailgun } from '#test/support/mailgun-factory.ts';
import { messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('the service level', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw (opening hours 9–17, 12 working hours promised).
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  const at = (local: string) => sb.clock.set(`${local}+01:00`);

  const act = (path: string, body: unknown) => sb.act(path, body);

  async function conversationOf(
    contactKey: string,
  ): Promise<{ id: string; replyBy: string; originalReplyBy: string | null }> {
    const response = await sb.api(`/api/contacts/${encodeURIComponent(contactKey)}`);
    const { conversations } = (await response.json()) as {
      conversations: Array<{ id: string; status: string; replyBy: string; originalReplyBy: string | null }>;
    };
    const conversation = conversations[0];
    if (!conversation) throw new Error(`no conversation for ${contactKey}`);
    return conversation;
  }

  async function sms(from: string, body: string): Promise<string> {
    expect((await sb.postSms({ From: from, Body: body })).status).toBe(200);
    await sb.drain();
    return (await conversationOf(`phone:${from}`)).id;
  }

  async function replyTo(id: string, text: string) {
    expect((await act(`/conversations/${id}/replies`, { text })).status).toBe(201);
  }

  async function resolve(id: string) {
    expect((await act(`/conversations/${id}/resolve`, {})).status).toBeLessThan(300);
  }

  async function reopen(id: string) {
    expect((await act(`/conversations/${id}/reopen`, {})).status).toBeLessThan(300);
  }

  /** The stats consumer as the queue runs it: events given to it are delivered (again). */
  function statsFeed() {
    return statsSink({
      stats: new DynamoDbStatsStore({ client: sb.backends.dynamodb, tableName: sb.config.aws.tableName }),
      conversations: sb.runtime.store,
      business: sb.config.business,
      clock: sb.clock,
      log: sb.log,
    });
  }

  async function report(query: string): Promise<ServiceLevelReport> {
    // The stats feed runs after the fact (on AWS a rule and a queue, a few seconds behind).
    await sb.feedStats();
    const response = await sb.api(`/api/service-level?${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as ServiceLevelReport;
  }

  /**
   * Two days of SMS and Messenger traffic. Wednesday: four customers (one on Messenger), one
   * answered twice and resolved, one whose second message got no ack (we had just answered).
   * Thursday: a late notice, an answer after the promise first stated, a customer back after
   * their resolution, a promise breached.
   */
  async function twoDays() {
    at('2026-11-25T10:00:00');
    const first = await sms('+48601000001', 'Gdzie jest moja paczka?');
    at('2026-11-25T10:05:00');
    const second = await sms('+48601000002', 'Chcę zmienić adres dostawy');
    at('2026-11-25T10:10:00');
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Czy macie rozmiar M?' })]]));
    await sb.drain();
    const messenger = (await conversationOf('messenger:7214568801234567')).id;
    at('2026-11-25T10:40:00');
    await replyTo(first, 'Paczka wyszła dziś rano.');
    at('2026-11-25T10:45:00');
    await sms('+48601000001', 'A kiedy dotrze?');
    at('2026-11-25T11:00:00');
    await replyTo(first, 'Jutro przed południem.');
    at('2026-11-25T11:05:00');
    await resolve(first);
    at('2026-11-25T11:30:00');
    await replyTo(messenger, 'Tak, rozmiar M jest dostępny.');
    await resolve(messenger);
    at('2026-11-25T16:30:00');
    const unanswered = await sms('+48601000005', 'Halo?');

    at('2026-11-26T09:10:00');
    const fourth = await sms('+48601000004', 'Dzień dobry');
    at('2026-11-26T09:25:00');
    await replyTo(fourth, 'Dzień dobry, w czym możemy pomóc?');
    const waiting = await conversationOf('phone:+48601000002');
    sb.clock.set(new Date(Date.parse(waiting.replyBy) - 29 * MINUTE));
    expect((await sweep(sb.runtime.sweepDeps)).notices).toBe(1);
    await sb.drain();
    sb.clock.set(new Date(Date.parse(waiting.replyBy) + 15 * MINUTE));
    await replyTo(second, 'Adres zmieniony.');
    await resolve(second);
    at('2026-11-26T11:00:00');
    await sms('+48601000002', 'Jeszcze jedno pytanie');
    const breached = await conversationOf('phone:+48601000005');
    sb.clock.set(new Date(Date.parse(breached.replyBy) + 15 * MINUTE));
    expect((await sweep(sb.runtime.sweepDeps)).breaches).toBe(1);
    return { first, second, messenger, fourth, unanswered, promised: waiting.replyBy };
  }

  const zeroFcr = { share: null, firstContact: 0, resolved: 0, pending: 0 };

  it('should report conversations, answers, promises, working hours, notices, skipped acks and breaches per channel and per day', async () => {
    // Prepare
    const { promised } = await twoDays();

    // Act
    const result = await report('from=2026-11-25&to=2026-11-26');

    // Assess
    expect(promised).toBe('2026-11-26T10:00:00.000+01:00');
    expect(result).toMatchObject({
      from: '2026-11-25',
      to: '2026-11-26',
      timeZone: 'Europe/Warsaw',
      channel: null,
    });
    expect(result.totals).toEqual({
      conversations: 6,
      messages: 7,
      answered: 5,
      promisesKept: { share: 0.8, kept: 4, measured: 5 },
      firstReplyWorkingHours: { median: 0.75, p90: 8.25, over48h: 0 },
      firstContactResolution: { share: 0, firstContact: 0, resolved: 2, pending: 1 },
      noticesSent: 1,
      acksSkipped: { 'recently-answered': 1 },
      breaches: 1,
    } satisfies Figures);
    expect(Object.keys(result.byChannel).sort()).toEqual(['messenger', 'sms']);
    expect(result.byChannel.messenger).toMatchObject({
      conversations: 1,
      messages: 1,
      answered: 1,
      promisesKept: { share: 1, kept: 1, measured: 1 },
      firstReplyWorkingHours: { median: 1.5, p90: 1.5 },
      firstContactResolution: { share: null, firstContact: 0, resolved: 0, pending: 1 },
    });
    expect(result.byChannel.sms).toMatchObject({
      conversations: 5,
      messages: 6,
      answered: 4,
      promisesKept: { share: 0.75, kept: 3, measured: 4 },
      firstReplyWorkingHours: { median: 0.25, p90: 8.25 },
      noticesSent: 1,
      acksSkipped: { 'recently-answered': 1 },
      breaches: 1,
    });
    const [wednesday, thursday] = result.byDay;
    expect(result.byDay).toHaveLength(2);
    expect(wednesday).toEqual({
      date: '2026-11-25',
      conversations: 4,
      messages: 5,
      answered: 3,
      promisesKept: { share: 1, kept: 3, measured: 3 },
      // 15 min, 40 min and 80 min of working time to the first reply.
      firstReplyWorkingHours: { median: 0.75, p90: 1.5, over48h: 0 },
      firstContactResolution: { share: 0, firstContact: 0, resolved: 1, pending: 1 },
      noticesSent: 0,
      acksSkipped: { 'recently-answered': 1 },
      breaches: 0,
    });
    expect(thursday).toEqual({
      date: '2026-11-26',
      conversations: 2,
      messages: 2,
      answered: 2,
      promisesKept: { share: 0.5, kept: 1, measured: 2 },
      // 15 min, and Wednesday 10:05 to Thursday 10:15 (8 h 10 min of opening hours).
      firstReplyWorkingHours: { median: 0.25, p90: 8.25, over48h: 0 },
      // Resolved after one reply, but the customer was back within the hour.
      firstContactResolution: { share: 0, firstContact: 0, resolved: 1, pending: 0 },
      noticesSent: 1,
      acksSkipped: {},
      breaches: 1,
    });
  });

  it('should settle first-contact resolution once seven quiet days have passed', async () => {
    // Prepare
    await twoDays();

    // Act: a week after the Messenger conversation was resolved with one reply.
    sb.clock.set('2026-12-03T12:00:00+01:00');
    const result = await report('from=2026-11-25&to=2026-11-26');

    // Assess
    expect(result.totals.firstContactResolution).toEqual({
      share: 0.3333,
      firstContact: 1,
      resolved: 3,
      pending: 0,
    });
    expect(result.byChannel.messenger?.firstContactResolution).toEqual({
      share: 1,
      firstContact: 1,
      resolved: 1,
      pending: 0,
    });
    expect(result.byDay[0]?.firstContactResolution.share).toBe(0.5);
    expect(result.byDay[1]?.firstContactResolution.share).toBe(0);
  });

  it('should not count a redelivered event twice', async () => {
    // Prepare
    await twoDays();
    const before = await report('from=2026-11-25&to=2026-11-26');
    const delivered = (await sb.events()) as DomainEvent[];
    const again = statsFeed();

    // Act: every event delivered once more, in order, then the whole lot again at once.
    for (const event of delivered) await again.publish([event]);
    await again.publish(delivered);
    const after = await report('from=2026-11-25&to=2026-11-26');

    // Assess
    expect(delivered.length).toBeGreaterThan(20);
    expect(after).toEqual(before);
  });

  it('should claim an event for counting once, however many deliveries race for it, and give a failed count back', async () => {
    // Prepare
    const stats = new DynamoDbStatsStore({
      client: sb.backends.dynamodb,
      tableName: sb.config.aws.tableName,
    });
    const now = new Date('2026-11-25T10:00:00Z');

    // Act
    const racing = await Promise.all(Array.from({ length: 5 }, () => stats.claimEvent('evt_a', now)));
    const later = await stats.claimEvent('evt_a', new Date(now.getTime() + DAY));
    await stats.releaseEvent('evt_a');
    const afterRelease = await stats.claimEvent('evt_a', now);

    // Assess
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect([later, afterRelease]).toEqual([false, true]);
  });

  it('should report one channel only when asked, with every day of the range', async () => {
    // Prepare
    await twoDays();

    // Act
    const result = await report('from=2026-11-24&to=2026-11-27&channel=messenger');

    // Assess
    expect(result.channel).toBe('messenger');
    expect(Object.keys(result.byChannel)).toEqual(['messenger']);
    expect(result.totals).toMatchObject({
      conversations: 1,
      messages: 1,
      answered: 1,
      noticesSent: 0,
      breaches: 0,
    });
    expect(result.byDay.map((day) => [day.date, day.conversations])).toEqual([
      ['2026-11-24', 0],
      ['2026-11-25', 1],
      ['2026-11-26', 0],
      ['2026-11-27', 0],
    ]);
    expect(result.byDay[0]?.firstContactResolution).toEqual(zeroFcr);
    expect(result.byDay[0]?.firstReplyWorkingHours).toEqual({ median: null, p90: null, over48h: 0 });
  });

  it('should let a read-only key read it, and refuse a caller without a key or without the read scope', async () => {
    // Prepare
    const created = async (scopes: string[]) =>
      ((await (await act('/admin/keys', { name: `Reports ${scopes}`, scopes })).json()) as { token: string })
        .token;
    const readOnly = await created(['read']);
    const replyOnly = await created(['reply']);
    const get = (headers: Record<string, string>) =>
      sb.runtime.app.request('/api/service-level?from=2026-11-01&to=2026-11-30', { headers });

    // Act
    const withReadKey = await get({ authorization: `Bearer ${readOnly}` });
    const withoutKey = await get({});
    const withoutScope = await get({ authorization: `Bearer ${replyOnly}` });

    // Assess
    expect(withReadKey.status).toBe(200);
    expect(((await withReadKey.json()) as ServiceLevelReport).byDay).toHaveLength(30);
    expect(withoutKey.status).toBe(401);
    expect(withoutScope.status).toBe(403);
  });

  it('should answer 400 to a range it cannot read', async () => {
    // Act
    const statuses = await Promise.all(
      [
        'from=2026-11-30&to=2026-11-01',
        'from=2026-01-01&to=2026-04-03',
        'from=2026-02-30&to=2026-03-01',
        'from=2026-11-01',
        'from=2026-11-01&to=2026-11-30&channel=fax',
        'from=2026-11-01&to=2026-11-30&limit=5',
        'from=01.11.2026&to=30.11.2026',
      ].map(async (query) => (await sb.api(`/api/service-level?${query}`)).status),
    );

    // Assess
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400]);
    // 92 days, both ends included, is the most one report reads.
    expect((await sb.api('/api/service-level?from=2026-01-01&to=2026-04-02')).status).toBe(200);
  });

  it('should print the same figures as a table in the terminal', async () => {
    // Prepare
    await twoDays();
    const result = await report('from=2026-11-25&to=2026-11-26');

    // Act
    const lines = formatReport(result);

    // Assess
    expect(lines[0]).toBe('Service level 2026-11-25 – 2026-11-26 (Europe/Warsaw)');
    expect(lines.find((line) => line.startsWith('Promises kept'))).toMatch(
      /80% \(4\/5\)\s+100% \(1\/1\)\s+75% \(3\/4\)$/,
    );
    expect(lines.find((line) => line.startsWith('Acks skipped'))).toContain('recently-answered 1');
    expect(lines.find((line) => line.startsWith('2026-11-26'))).toMatch(
      /^2026-11-26\s+2\s+2\s+2\s+50%\s+0\.25 h\s+8\.25 h\s+0%\s+1\s+0\s+1$/,
    );
  });

  // Found at stop 24: first-contact resolution counted a conversation reopened and resolved again
  // the same day as never resolved, let a redelivered reopening undo the resolution after it, and
  // took the customer's out-of-office reply to our answer for the customer coming back.
  describe('first-contact resolution of reopened conversations and auto-replies', () => {
    const oneReplyResolved = { share: 1, firstContact: 1, resolved: 1, pending: 0 };

    it('should count a conversation resolved, reopened and resolved again on the same day once it is resolved for good', async () => {
      // Prepare: one question, one answer, resolved; the agent reopens it by mistake and
      // resolves it again a few minutes later, all on Wednesday.
      const id = await sms('+48601000011', 'Gdzie jest moja paczka?');
      at('2026-11-25T10:30:00');
      await replyTo(id, 'Paczka wyszła dziś rano.');
      at('2026-11-25T10:35:00');
      await resolve(id);
      at('2026-11-25T10:40:00');
      await reopen(id);
      at('2026-11-25T10:45:00');
      await resolve(id);

      // Act: eight quiet days later.
      sb.clock.set('2026-12-03T12:00:00+01:00');
      const result = await report('from=2026-11-25&to=2026-11-25');

      // Assess: the resolution that stands counts (one reply, nobody came back).
      expect(result.totals.firstContactResolution).toEqual(oneReplyResolved);
    });

    it('should not let a redelivered conversation.reopened event undo the resolution that came after it', async () => {
      // Prepare: resolved on Wednesday, reopened and resolved again on Thursday, counted.
      const id = await sms('+48601000012', 'Gdzie jest moja paczka?');
      at('2026-11-25T10:30:00');
      await replyTo(id, 'Paczka wyszła dziś rano.');
      at('2026-11-25T10:35:00');
      await resolve(id);
      at('2026-11-26T10:00:00');
      await reopen(id);
      at('2026-11-26T10:05:00');
      await resolve(id);
      sb.clock.set('2026-12-04T12:00:00+01:00');
      const before = await report('from=2026-11-25&to=2026-11-26');
      const reopened = ((await sb.events()) as DomainEvent[]).filter(
        (event) => event.type === 'conversation.reopened',
      );

      // Act: the stats queue delivers the reopening again (SQS is at least once, and unordered).
      await statsFeed().publish(reopened);
      const after = await report('from=2026-11-25&to=2026-11-26');

      // Assess
      expect(reopened).toHaveLength(1);
      expect(before.totals.firstContactResolution).toMatchObject({ resolved: 1 });
      expect(after.totals.firstContactResolution).toEqual(before.totals.firstContactResolution);
    });

    it('should count the resolution that stands whatever order the resolutions and reopenings arrive in', async () => {
      // Prepare: resolved on Wednesday, reopened and resolved again on Thursday, then on Friday
      // reopened and resolved twice more within minutes; the stats feed has counted nothing yet.
      const id = await sms('+48601000016', 'Gdzie jest moja paczka?');
      at('2026-11-25T10:30:00');
      await replyTo(id, 'Paczka wyszła dziś rano.');
      const moves: Array<[string, (id: string) => Promise<void>]> = [
        ['2026-11-25T10:35:00', resolve],
        ['2026-11-26T10:00:00', reopen],
        ['2026-11-26T10:05:00', resolve],
        ['2026-11-27T10:00:00', reopen],
        ['2026-11-27T10:05:00', resolve],
        ['2026-11-27T10:10:00', reopen],
        ['2026-11-27T10:15:00', resolve],
      ];
      for (const [when, move] of moves) {
        at(when);
        await move(id);
      }
      const events = (await sb.events()) as DomainEvent[];
      const resolutions = events.filter((event) => event.type.startsWith('conversation.re'));

      // Act: the stats queue delivers the replies first, then the resolutions and reopenings
      // newest first, then the whole lot again in order.
      sb.clock.set('2026-12-05T12:00:00+01:00');
      await statsFeed().publish(events.filter((event) => !event.type.startsWith('conversation.re')));
      for (const event of resolutions.toReversed()) await statsFeed().publish([event]);
      const reversed = await sb.api('/api/service-level?from=2026-11-25&to=2026-11-27');
      const inOrder = await report('from=2026-11-25&to=2026-11-27');

      // Assess: Friday's last resolution counts, once; the three before it were reopened.
      expect(resolutions).toHaveLength(7);
      const byDay = ((await reversed.json()) as ServiceLevelReport).byDay.map(
        (day) => day.firstContactResolution,
      );
      expect(byDay).toEqual([zeroFcr, zeroFcr, oneReplyResolved]);
      expect(inOrder.byDay.map((day) => day.firstContactResolution)).toEqual(byDay);
    });

    it('should keep out a resolution reopened since when an earlier reopening of the same day is delivered again', async () => {
      // Prepare: resolved on Wednesday; on Thursday reopened, resolved, and reopened again (the
      // customer still waits); counted.
      const id = await sms('+48601000017', 'Gdzie jest moja paczka?');
      at('2026-11-25T10:30:00');
      await replyTo(id, 'Paczka wyszła dziś rano.');
      const moves: Array<[string, (id: string) => Promise<void>]> = [
        ['2026-11-25T10:35:00', resolve],
        ['2026-11-26T10:00:00', reopen],
        ['2026-11-26T10:05:00', resolve],
        ['2026-11-26T10:10:00', reopen],
      ];
      for (const [when, move] of moves) {
        at(when);
        await move(id);
      }
      sb.clock.set('2026-12-04T12:00:00+01:00');
      const before = await report('from=2026-11-25&to=2026-11-26');
      const [firstReopening] = ((await sb.events()) as DomainEvent[]).filter(
        (event) => event.type === 'conversation.reopened',
      );

      // Act
      await statsFeed().publish(firstReopening ? [firstReopening] : []);
      const after = await report('from=2026-11-25&to=2026-11-26');

      // Assess: nothing resolved stands; the redelivery changes nothing.
      expect(before.totals.firstContactResolution).toEqual(zeroFcr);
      expect(after.totals.firstContactResolution).toEqual(zeroFcr);
    });

    it("should not count the customer's out-of-office auto-reply to our answer as the customer coming back", async () => {
      // Prepare: a mail at 10:00, answered by email at 10:30 and resolved; a minute later the
      // customer's mailbox answers our reply automatically (Auto-Submitted: auto-replied, RFC
      // 3834): recorded in a new conversation, never acknowledged, since nobody wrote it.
      const mail = { from: 'Jan Nowak <jan.nowak@example.com>', subject: 'Faktura za zamówienie 1234' };
      const signedNow = () => ({ timestamp: Math.floor(sb.clock.now().getTime() / 1000) });
      expect((await sb.postMailgun(signMailgun(mailgunMail(mail), signedNow()))).status).toBe(200);
      await sb.drain();
      const [question] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
      const id = question?.id as string;
      at('2026-11-25T10:30:00');
      await replyTo(id, 'Faktura jest w załączniku.');
      at('2026-11-25T10:31:00');
      await resolve(id);
      at('2026-11-25T10:32:00');
      const outOfOffice = mailgunMail({
        ...mail,
        subject: 'Automatyczna odpowiedź: Re: Faktura za zamówienie 1234',
        body: 'Jestem na urlopie do 30 listopada.',
        extraHeaders: [['Auto-Submitted', 'auto-replied']],
      });
      expect((await sb.postMailgun(signMailgun(outOfOffice, signedNow()))).status).toBe(200);
      await sb.drain();
      const [auto] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
      expect(auto?.id).not.toBe(id);
      expect(auto?.ack).toMatchObject({ state: 'skipped', reason: 'auto-submitted' });

      // Act: eight days later.
      sb.clock.set('2026-12-03T12:00:00+01:00');
      const result = await report('from=2026-11-25&to=2026-11-25');

      // Assess: one reply and the customer never wrote again: resolved at first contact.
      expect(result.totals.firstContactResolution).toEqual(oneReplyResolved);
    });

    // Found at stop 25: the customer's own question that joined the conversation their
    // out-of-office reply had opened was not seen as them coming back.
    describe('a question joining the conversation their own auto-reply opened', () => {
      const mail = { from: 'Jan Nowak <jan.nowak@example.com>', subject: 'Faktura za zamówienie 1234' };
      const signedNow = () => ({ timestamp: Math.floor(sb.clock.now().getTime() / 1000) });
      const notFirstContact = { share: 0, firstContact: 0, resolved: 1, pending: 0 };

      /**
       * A mail at 10:00, answered at 10:30 and resolved at 10:31; at 10:32 the customer's
       * mailbox answers our reply automatically, which opens a new conversation that promised
       * nobody anything; two days later the customer writes themselves. Returns the first id.
       */
      async function answeredThenAutoReplyThenQuestion(): Promise<string> {
        expect((await sb.postMailgun(signMailgun(mailgunMail(mail), signedNow()))).status).toBe(200);
        await sb.drain();
        const [question] = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
        const id = question?.id as string;
        at('2026-11-25T10:30:00');
        await replyTo(id, 'Faktura jest w załączniku.');
        at('2026-11-25T10:31:00');
        await resolve(id);
        at('2026-11-25T10:32:00');
        const outOfOffice = mailgunMail({
          ...mail,
          subject: 'Automatyczna odpowiedź: Re: Faktura za zamówienie 1234',
          body: 'Jestem na urlopie do 30 listopada.',
          extraHeaders: [['Auto-Submitted', 'auto-replied']],
        });
        expect((await sb.postMailgun(signMailgun(outOfOffice, signedNow()))).status).toBe(200);
        await sb.drain();
        at('2026-11-27T11:00:00');
        const again = mailgunMail({
          ...mail,
          subject: 'Re: Faktura za zamówienie 1234',
          body: 'W załączniku nie ma faktury, tylko potwierdzenie zamówienia.',
        });
        expect((await sb.postMailgun(signMailgun(again, signedNow()))).status).toBe(200);
        await sb.drain();
        return id;
      }

      it('should count the customer as coming back within the 7 days', async () => {
        // Prepare
        const id = await answeredThenAutoReplyThenQuestion();
        const open = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;

        // Act: eight days after the resolution.
        sb.clock.set('2026-12-03T12:00:00+01:00');
        const result = await report('from=2026-11-25&to=2026-11-25');

        // Assess: the question joined the auto-reply's conversation (acknowledged late), and
        // the customer came back within 7 days: not resolved at first contact.
        expect(open).toHaveLength(1);
        expect(open[0]?.id).not.toBe(id);
        expect(open[0]?.ack).toMatchObject({ state: 'sent' });
        expect(result.totals.firstContactResolution).toEqual(notFirstContact);
      });

      it('should count it whatever order the stats feed gets the question and the resolution in', async () => {
        // Prepare
        await answeredThenAutoReplyThenQuestion();
        const events = (await sb.events()) as DomainEvent[];
        const question = events.filter((event) => event.data.firstQuestion === true);

        // Act: the question's events first, the resolution last, then everything again.
        sb.clock.set('2026-12-03T12:00:00+01:00');
        const feed = statsFeed();
        await feed.publish(events.filter((event) => event.type !== 'conversation.resolved'));
        await feed.publish(events.filter((event) => event.type === 'conversation.resolved'));
        const reversed = await sb.api('/api/service-level?from=2026-11-25&to=2026-11-25');
        const again = await report('from=2026-11-25&to=2026-11-25');

        // Assess: one question marked, one follow-up either way.
        expect(question).toHaveLength(1);
        const figures = ((await reversed.json()) as ServiceLevelReport).totals.firstContactResolution;
        expect(figures).toEqual(notFirstContact);
        expect(again.totals.firstContactResolution).toEqual(notFirstContact);
      });
    });
  });

  // Found at stop 24: an episode nobody was promised anything in (HELP, an auto-reply, a list
  // post) counted as a promise not kept when answered after its internal reply-by time.
  it('should not count as a promise not kept the answer to an episode nobody was promised anything in', async () => {
    // Prepare: a number texts HELP (a keyword: no acknowledgement, no promise told, and no
    // breach counted for it). An agent answers it on Friday, after the internal reply-by time.
    const id = await sms('+48601000014', 'HELP');
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'keyword:help' });
    sb.clock.set(new Date(Date.parse(conversation?.replyBy as string) + 60 * MINUTE));
    expect((await sweep(sb.runtime.sweepDeps)).breaches).toBe(0);
    at('2026-11-27T12:00:00');
    await replyTo(id, 'Dzień dobry, w czym możemy pomóc?');

    // Act
    const result = await report('from=2026-11-25&to=2026-11-27');

    // Assess: answered, but no promise was stated, so none was kept or broken.
    expect(result.totals.answered).toBe(1);
    expect(result.totals.breaches).toBe(0);
    expect(result.totals.promisesKept).toEqual({ share: null, kept: 0, measured: 0 });
  });

  // Found at stop 25: a late notice the carrier reported undelivered after it was marked sent
  // (notice.failed; the promise it stated given back) still counted among the notices sent.
  it('should not count among the notices sent a late notice refused after it was marked sent, in whichever order the events come', async () => {
    // Prepare: a question on Wednesday 10:00, acknowledged; its late notice goes half an hour
    // before the promise, and the carrier reports it undelivered two minutes later
    const id = await sms('+48601000015', 'Gdzie jest moja paczka?');
    const acknowledged = await conversationOf('phone:+48601000015');
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy) - 29 * MINUTE));
    expect((await sweep(sb.runtime.sweepDeps)).notices).toBe(1);
    await sb.drain();
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId: string | null }>;
    };
    const notice = messages.find((m) => m.kind === 'notice');
    sb.clock.advance(2 * MINUTE);
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: notice?.providerMessageId as string,
    });
    expect(status.status).toBe(200);
    expect(await sb.runtime.store.getConversation(id)).toMatchObject({ notice: { state: 'failed' } });
    const events = (await sb.events()) as DomainEvent[];
    const sent = events.filter((e) => e.type === 'notice.sent');
    const refused = events.filter((e) => e.type === 'notice.failed');
    expect([sent.length, refused.length]).toEqual([1, 1]);

    // Act: the stats consumer gets the refusal first (another batch, a retry), then the
    // notice.sent, then both again
    await statsFeed().publish(refused);
    await statsFeed().publish(sent);
    await statsFeed().publish([...sent, ...refused]);
    const result = await report('from=2026-11-25&to=2026-11-26');

    // Assess: the customer got no notice; the day it was sent counts none
    expect(result.totals.noticesSent).toBe(0);
    expect(result.byDay.map((day) => day.noticesSent)).toEqual([0, 0]);
  });
});
