import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStatsStore } from '#lib/adapters/dynamodb-stats-store.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { Figures } from '#lib/domain/service-level.ts';
import { formatReport } from '#lib/local/report-cli.ts';
import { type ServiceLevelReport, statsSink } from '#lib/use-cases/service-level.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

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

  const act = (path: string, body: unknown, token = TEST_API_TOKEN) =>
    sb.runtime.app.request(`/api${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify(body),
    });

  async function conversationOf(contactKey: string): Promise<{ id: string; replyBy: string; originalReplyBy: string | null }> {
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

  async function report(query: string): Promise<ServiceLevelReport> {
    const response = await sb.api(`/api/service-level?${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as ServiceLevelReport;
  }

  /** Two days of SMS and Messenger traffic, answered before and after the promises. */
  async function twoDays() {
    // Wednesday: three customers write, on two channels.
    at('2026-11-25T10:00:00');
    const first = await sms('+48601000001', 'Gdzie jest moja paczka?');
    at('2026-11-25T10:05:00');
    const second = await sms('+48601000002', 'Chcę zmienić adres dostawy');
    at('2026-11-25T10:10:00');
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Czy macie rozmiar M?' })]]));
    await sb.drain();
    const messenger = (await conversationOf('messenger:7214568801234567')).id;

    // 40 minutes to the first answer; the customer answers back at once (no second ack so
    // soon after our reply: skipped), and gets a second answer 15 minutes later.
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

    // Thursday: the second customer's promise comes near unanswered: a late notice moves it,
    // and the answer comes after the promise first stated.
    const waiting = await conversationOf('phone:+48601000002');
    sb.clock.set(new Date(Date.parse(waiting.replyBy) - 29 * MINUTE));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const moved = await conversationOf('phone:+48601000002');
    sb.clock.set(new Date(Date.parse(waiting.replyBy) + 15 * MINUTE));
    await replyTo(second, 'Adres zmieniony.');
    await resolve(second);

    // A new customer on Thursday, answered in 15 minutes.
    at('2026-11-26T09:30:00');
    const fourth = await sms('+48601000004', 'Dzień dobry');
    at('2026-11-26T09:45:00');
    await replyTo(fourth, 'Dzień dobry, w czym możemy pomóc?');
    return { first, second, messenger, fourth, promised: waiting.replyBy, moved: moved.replyBy };
  }

  it('should explore', async () => {
    const ids = await twoDays();
    const r = await report('from=2026-11-25&to=2026-11-26');
    console.log(JSON.stringify(ids, null, 1), JSON.stringify(r, null, 1));
    console.log(formatReport(r).join('\n'));
  });
});
