import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import { startWebhookReceiver, type WebhookReceiver } from '#test/support/webhook-receiver.ts';

type Delivery = {
  id: string;
  eventId: string;
  eventType: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
};

// Stop 34, round 2 of the adversarial review of deliveries: after one failed attempt the rest of
// an endpoint's deliveries in the run were deferred, each deferral counted as an attempt. An
// endpoint refusing ONE event (a 422) held back every other event to it until they were marked
// failed without ever being sent; a day-long outage failed the backlog behind the first delivery
// unsent too.
describe('an endpoint that fails, and the deliveries behind the failure', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;

  afterEach(async () => {
    await receiver?.stop();
    await sb?.stop();
  });

  async function start() {
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
  }

  function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_TOKEN}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = body === undefined ? {} : { body: JSON.stringify(body) };
    return Promise.resolve(sb.runtime.app.request(path, { method, headers, ...init }));
  }

  async function subscribe(events: string[]): Promise<string> {
    const response = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; secret: string };
    receiver.secret = created.secret;
    return created.id;
  }

  async function deliveries(id: string): Promise<Delivery[]> {
    const response = await call('GET', `/api/webhooks/${id}/deliveries?limit=100`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Delivery[] }).items;
  }

  /** Every delivery of the subscription, page after page. */
  async function allDeliveries(id: string): Promise<Delivery[]> {
    const all: Delivery[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const response = await call('GET', `/api/webhooks/${id}/deliveries?limit=100${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: Delivery[]; nextCursor: string | null };
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /**
   * Sweeps when every pending delivery is due (a run that finds the endpoint's backlog due
   * together, as after an outage) until nothing is pending (at most `rounds` sweeps).
   */
  async function sweepUntilSettled(id: string, rounds = 60): Promise<Delivery[]> {
    let current = await deliveries(id);
    for (let round = 0; round < rounds; round++) {
      const due = current.flatMap((delivery) => (delivery.nextAttemptAt ? [delivery.nextAttemptAt] : []));
      if (due.length === 0) break;
      sb.clock.set(due.toSorted().at(-1) ?? '');
      await sweep(sb.runtime.sweepDeps);
      current = await deliveries(id);
    }
    return current;
  }

  it('should deliver the other events at once when the endpoint refuses one of them for good (a 422)', async () => {
    // Prepare: the endpoint refuses every conversation.opened, takes the rest.
    await start();
    const id = await subscribe(['conversation.opened', 'message.received']);
    receiver.answerFor = (payload) =>
      (payload as { type?: string }).type === 'conversation.opened' ? 422 : undefined;

    // Act: a customer writes (both events' first attempts), then the sweeps retry.
    await sb.postSms({ From: '+48601234567' });
    const atOnce = await deliveries(id);
    const settled = await sweepUntilSettled(id);

    // Assess: message.received went with the write, though conversation.opened went before it and
    // was refused; the refused one was sent each of its 13 attempts, then failed.
    const received = (list: Delivery[]) => list.find((delivery) => delivery.eventType === 'message.received');
    expect(received(atOnce)).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 200 });
    const opened = settled.find((delivery) => delivery.eventType === 'conversation.opened');
    expect(opened).toMatchObject({ state: 'failed', attempts: 13, lastStatus: 422 });
    expect(receiver.requests.filter((request) => request.status === 422)).toHaveLength(13);
  });

  it('should send a delivery’s last attempt, though a delivery before it failed in the same run', async () => {
    // Prepare: the endpoint is down (503) all along. An SMS's delivery is retried up to its last
    // attempt; then its event is replayed, the copy due before that last attempt.
    await start();
    const id = await subscribe(['message.received']);
    receiver.fallbackStatus = 503;
    const since = new Date(sb.clock.now().getTime() - 1).toISOString();
    await sb.postSms({ From: '+48601234567' });
    let [original] = await deliveries(id);
    while (original && original.attempts < 12) {
      sb.clock.set(original.nextAttemptAt ?? '');
      await sweep(sb.runtime.sweepDeps);
      [original] = await deliveries(id);
    }
    sb.clock.advance(60_000);
    const replayed = await call('POST', `/api/webhooks/${id}/replay`, { since });
    const sentBefore = receiver.requests.length;

    // Act: the sweep at the last attempt's time: the replayed copy goes first and fails.
    sb.clock.set(original?.nextAttemptAt ?? '');
    await sweep(sb.runtime.sweepDeps);

    // Assess: the original's 13th attempt was sent too, not counted unsent behind the copy.
    expect(replayed.status).toBe(202);
    expect(sentBefore).toBe(12);
    const after = await deliveries(id);
    expect(after.find((delivery) => delivery.id === original?.id)).toMatchObject({
      state: 'failed',
      attempts: 13,
      lastStatus: 503,
      lastError: null,
    });
    expect(receiver.requests).toHaveLength(14);
  });

  /**
   * A sweep when an endpoint with a backlog of more than a sweep page (100) answers each delivery
   * `status` after 1.5 s, and another subscription's one retry is due behind that backlog: what
   * that other endpoint answered its delivery in all, and how many the slow one was sent.
   */
  async function sweepBehindSlowEndpoint(
    status: number,
  ): Promise<{ other: number[]; slow: number; slowId: string; before: Delivery[] }> {
    await start();
    const slowId = await subscribe(['conversation.opened', 'message.received']);
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 51; i++) {
      const sid = `SM${String(i).padStart(32, '0')}`;
      await sb.postSms({ From: `+486012${String(i).padStart(5, '0')}`, MessageSid: sid, SmsSid: sid });
    }
    const other = await startWebhookReceiver({ now: () => sb.clock.now() });
    try {
      const created = await call('POST', '/api/webhooks', {
        url: `${other.url}/hooks`,
        events: ['message.received'],
      });
      other.secret = ((await created.json()) as { secret: string }).secret;
      sb.clock.advance(10_000);
      other.respondWith(503);
      const sid = `SM${'9'.repeat(32)}`;
      await sb.postSms({ From: '+48609999999', MessageSid: sid, SmsSid: sid });
      receiver.fallbackStatus = status;
      receiver.delayMs = 1_500;
      const sentBefore = receiver.requests.length;
      const before = await allDeliveries(slowId);
      sb.clock.advance(60_000);
      await sweep(sb.runtime.sweepDeps);
      const retried = other.requests[0]?.headers['webhook-id'];
      const its = other.requests.filter((request) => request.headers['webhook-id'] === retried);
      return {
        other: its.map((request) => request.status),
        slow: receiver.requests.length - sentBefore,
        slowId,
        before,
      };
    } finally {
      await other.stop();
    }
  }

  it('should reach the other subscriptions’ due deliveries though one endpoint refuses each of its own slowly', async () => {
    // Act: the slow endpoint answers each event 422 (a hostile or broken endpoint).
    const { other, slow } = await sweepBehindSlowEndpoint(422);

    // Assess: the other endpoint got its retry in this run; the slow one's backlog was held back
    // after its refusals took a second (each deferral counted, as an endpoint's failure's are).
    expect(other).toEqual([503, 200]);
    expect(slow).toBeLessThanOrEqual(2);
  });

  it('should reach the other subscriptions’ due deliveries though one endpoint accepts each of its own slowly', async () => {
    // Act: the slow endpoint takes each event (200) after 1.5 s.
    const { other, slow, slowId, before } = await sweepBehindSlowEndpoint(200);
    const afterRun = await allDeliveries(slowId);

    // Assess: the other endpoint got its retry in this run; the slow one was sent to too, and
    // what it was not sent in this run is left due as it was: no attempt counted, none failed.
    expect(other).toEqual([503, 200]);
    expect(slow).toBeGreaterThanOrEqual(1);
    expect(afterRun.filter((delivery) => delivery.state === 'delivered')).toHaveLength(slow);
    const was = new Map(before.map((delivery) => [delivery.id, delivery]));
    const untried = afterRun.filter((delivery) => delivery.state !== 'delivered');
    expect(untried).toHaveLength(before.length - slow);
    expect(untried.length).toBeGreaterThan(90);
    for (const delivery of untried) {
      const earlier = was.get(delivery.id);
      expect(delivery).toMatchObject({
        state: 'pending',
        attempts: earlier?.attempts,
        nextAttemptAt: earlier?.nextAttemptAt,
      });
    }

    // Act: the endpoint is quick again; the next runs send the rest.
    receiver.delayMs = 0;
    for (let round = 0; round < 5; round++) await sweep(sb.runtime.sweepDeps);

    // Assess: every one delivered, none lost or failed; each conversation's events went in their
    // order (conversation.opened before its message.received).
    const settled = await allDeliveries(slowId);
    expect(settled).toHaveLength(before.length);
    expect(settled.every((delivery) => delivery.state === 'delivered')).toBe(true);
    const sent = receiver.requests.filter((request) => request.status === 200);
    const typesByConversation = new Map<string, string[]>();
    for (const request of sent) {
      const payload = JSON.parse(request.body) as { type: string; conversationId: string };
      const key = payload.conversationId;
      typesByConversation.set(key, [...(typesByConversation.get(key) ?? []), payload.type]);
    }
    expect(typesByConversation.size).toBe(52);
    for (const types of typesByConversation.values()) {
      expect(types).toEqual(['conversation.opened', 'message.received']);
    }
  });

  it('should spend the whole run on one endpoint slow to accept when no other subscription has deliveries due', async () => {
    // Prepare: a backlog of 12 deliveries (6 conversations) to one endpoint, which then takes
    // each after 1.5 s.
    await start();
    const id = await subscribe(['conversation.opened', 'message.received']);
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 6; i++) {
      const sid = `SM${String(i).padStart(32, '0')}`;
      await sb.postSms({ From: `+486012${String(i).padStart(5, '0')}`, MessageSid: sid, SmsSid: sid });
    }
    receiver.fallbackStatus = 200;
    receiver.delayMs = 1_500;
    const sentBefore = receiver.requests.length;
    sb.clock.advance(60_000);

    // Act
    await sweep(sb.runtime.sweepDeps);

    // Assess: its share used, it got a new one each time the pages ended with time left: the
    // sweeper's 5 s went on it (deliveries started up to its end), not only its 1 s share.
    const sent = receiver.requests.length - sentBefore;
    expect(sent).toBeGreaterThanOrEqual(3);
    const delivered = (await deliveries(id)).filter((delivery) => delivery.state === 'delivered');
    expect(delivered).toHaveLength(sent);
  });
});
