import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { afterCall, countCalls } from '#test/support/faults.ts';
import { messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import {
  startHangingEndpoint,
  startWebhookReceiver,
  type WebhookReceiver,
} from '#test/support/webhook-receiver.ts';

type Created = {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  createdAt: string;
};
type Delivery = {
  id: string;
  eventId: string;
  eventType: string;
  replayId: string | null;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
};
type Event = { id: string; type: string; conversationId: string; sequence?: number };

describe('outbound webhooks (the agents’ side)', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;

  async function start() {
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
  }

  let teardown: Array<() => Promise<void>> = [];
  const onTeardown = (stop: () => Promise<void>) => teardown.push(stop);

  afterEach(async () => {
    for (const stop of teardown) await stop();
    teardown = [];
    await receiver?.stop();
    await sb?.stop();
  });

  function call(method: string, path: string, body?: unknown, token = TEST_API_TOKEN): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) };
    return Promise.resolve(sb.runtime.app.request(path, { method, headers, ...init }));
  }

  async function subscribe(events: string[] = ['*']): Promise<Created> {
    const response = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Created;
    receiver.secret = created.secret;
    return created;
  }

  async function deliveries(id: string): Promise<Delivery[]> {
    const response = await call('GET', `/api/webhooks/${id}/deliveries?limit=100`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Delivery[] }).items;
  }

  async function storedItem(deliveryId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await sb.backends.dynamodb.send(
      new GetItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `WHDELIVERY#${deliveryId}`, sk: 'WHDELIVERY' }),
      }),
    );
    return Item ? unmarshall(Item) : undefined;
  }

  const received = () => receiver.requests.map((request) => request.payload as Event);

  it('should deliver an SMS’s opened, received and ack events, signed per Standard Webhooks', async () => {
    // Prepare
    await start();
    const webhook = await subscribe();

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess
    expect(webhook).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-z]{26}$/),
      url: `${receiver.url}/hooks`,
      events: ['*'],
      description: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: sb.clock.now().toISOString(),
    });
    expect(receiver.requests.map((request) => request.verified)).toEqual([true, true, true]);
    expect(received().map((event) => event.type)).toEqual([
      'conversation.opened',
      'message.received',
      'ack.sent',
    ]);
    expect(received().map((event) => event.sequence)).toEqual([1, 2, 3]);
    const events = await sb.events();
    expect(received().map((event) => event.id)).toEqual(events.map((event) => event.id));
    for (const request of receiver.requests) {
      expect(request.path).toBe('/hooks');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toBe((request.payload as Event).id);
      expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(sb.clock.now().getTime() / 1000)));
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    const log = await deliveries(webhook.id);
    expect(log).toHaveLength(3);
    expect(log.every((d) => d.state === 'delivered' && d.attempts === 1 && d.lastStatus === 200)).toBe(true);
    expect(log.every((d) => d.nextAttemptAt === null)).toBe(true);
  });

  // Stop 24, a review of events: delivery items had no TTL, so the log grew by one item per
  // event and subscription for ever.
  it('should keep a settled delivery in the log for 30 days (TTL), and a pending one until it settles', async () => {
    // Prepare
    await start();
    const webhook = await subscribe(['message.received']);
    receiver.respondWith(503);
    const expiry = async () => {
      const [delivery] = await deliveries(webhook.id);
      const { Item } = await sb.backends.dynamodb.send(
        new GetItemCommand({
          TableName: sb.backends.tableName,
          Key: marshall({ pk: `WHDELIVERY#${delivery?.id}`, sk: 'WHDELIVERY' }),
        }),
      );
      return Item ? unmarshall(Item).expiresAt : 'missing';
    };

    // Act: the endpoint fails the first attempt, then takes the retry
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const pending = await expiry();
    sb.clock.advance(60_000);
    await sweep(sb.runtime.sweepDeps);
    const settled = await expiry();

    // Assess
    const now = Math.floor(sb.clock.now().getTime() / 1000);
    expect(pending).toBeUndefined();
    expect((await deliveries(webhook.id))[0]?.state).toBe('delivered');
    expect(settled).toBeGreaterThanOrEqual(now + 30 * 86_400);
    expect(settled).toBeLessThanOrEqual(now + 30 * 86_400 + 1);
  });

  it('should retry a failing endpoint after the backoff, never follow a redirect, and deliver once with the same id', async () => {
    // Prepare
    await start();
    const webhook = await subscribe(['message.received']);
    receiver.respondWith(302);

    // Act
    await sb.postSms({ From: '+48601234567' });
    // The ack worker's claim removes the events the webhook delivered (no clearing write of its own).
    await sb.drain();
    const [first] = await deliveries(webhook.id);
    const conversationId = received()[0]?.conversationId ?? '';
    const conversation = await sb.runtime.store.getConversation(conversationId);
    await sweep(sb.runtime.sweepDeps);
    const beforeBackoff = receiver.requests.length;
    sb.clock.advance(38_000);
    await sweep(sb.runtime.sweepDeps);
    sb.clock.advance(6 * 3_600_000);
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect(conversation?.outbox).toEqual([]);
    expect(first).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastStatus: 302,
      eventType: 'message.received',
    });
    const due = Date.parse(first?.nextAttemptAt ?? '') - (sb.clock.now().getTime() - 38_000 - 6 * 3_600_000);
    expect(due).toBeGreaterThanOrEqual(30_000);
    expect(due).toBeLessThanOrEqual(37_500);
    expect(beforeBackoff).toBe(1);
    expect(receiver.requests.map((request) => [request.path, request.status])).toEqual([
      ['/hooks', 302],
      ['/hooks', 200],
    ]);
    const [a, b] = receiver.requests;
    expect(b?.headers['webhook-id']).toBe(a?.headers['webhook-id']);
    expect(Number(b?.headers['webhook-timestamp']) - Number(a?.headers['webhook-timestamp'])).toBe(38);
    expect(b?.verified).toBe(true);
    expect(await deliveries(webhook.id)).toEqual([
      expect.objectContaining({ state: 'delivered', attempts: 2, lastStatus: 200, nextAttemptAt: null }),
    ]);
  });

  // Stop 34, an adversarial review of deliveries: a 429 or 503's Retry-After was ignored (the
  // next attempt came after the usual 30 s), though Standard Webhooks says to take it into
  // account when scheduling the next attempt.
  it('should wait as long as a 429 Retry-After asks, with the deliveries deferred behind it', async () => {
    // Prepare: the endpoint answers the first of an SMS's two events 429, retry in 10 minutes.
    await start();
    const webhook = await subscribe(['conversation.opened', 'message.received']);
    receiver.respondWith({ status: 429, headers: { 'retry-after': '600' } });
    const startedAt = sb.clock.now().getTime();

    // Act: a sweep 5 minutes later, then one 11 minutes later.
    await sb.postSms({ From: '+48601234567' });
    const waiting = await deliveries(webhook.id);
    sb.clock.advance(5 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    const early = receiver.requests.length;
    sb.clock.advance(6 * 60_000);
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect(waiting).toHaveLength(2);
    for (const delivery of waiting) {
      expect(delivery.state).toBe('pending');
      expect(Date.parse(delivery.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(startedAt + 600_000);
    }
    expect(early).toBe(1);
    expect(receiver.requests.map((request) => request.status)).toEqual([429, 200, 200]);
    expect((await deliveries(webhook.id)).map((delivery) => delivery.state)).toEqual([
      'delivered',
      'delivered',
    ]);
  });

  it('should send nothing to an endpoint before its Retry-After, also events that happen meanwhile', async () => {
    // Prepare: the endpoint answers the first delivery 503, retry in 10 minutes.
    await start();
    await subscribe(['message.received']);
    receiver.respondWith({ status: 503, headers: { 'retry-after': '600' } });
    await sb.postSms({ From: '+48601234567' });

    // Act: another customer writes a minute later; sweeps at 5 and at 11 minutes.
    sb.clock.advance(60_000);
    await sb.postSms({ From: '+48601234568' });
    const meanwhile = receiver.requests.length;
    sb.clock.advance(4 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    const early = receiver.requests.length;
    sb.clock.advance(6 * 60_000);
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect([meanwhile, early]).toEqual([1, 1]);
    expect(receiver.requests.map((request) => request.status)).toEqual([503, 200, 200]);
  });

  it("should deliver a backlog in each conversation's order, though the events of one write share their time", async () => {
    // Prepare: the endpoint is down while six customers write: each first message's write makes
    // conversation.opened and message.received at the same moment; both first attempts fail and
    // each delivery is deferred with its own jitter.
    await start();
    await subscribe(['conversation.opened', 'message.received']);
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 6; i++) await sb.postSms({ From: `+4860126${String(i).padStart(4, '0')}` });
    const firstAttempts = receiver.requests.length;

    // Act: the endpoint is back; one sweeper run well after every deferred attempt is due.
    receiver.fallbackStatus = 200;
    sb.clock.advance(3 * 3_600_000);
    await sweep(sb.runtime.sweepDeps);

    // Assess: per conversation, opened (1) before received (2)
    const delivered = receiver.requests.slice(firstAttempts).map((request) => request.payload as Event);
    expect(delivered).toHaveLength(12);
    for (const [, own] of Map.groupBy(delivered, (event) => event.conversationId))
      expect(own.map((event) => [event.type, event.sequence])).toEqual([
        ['conversation.opened', 1],
        ['message.received', 2],
      ]);
  });

  it('should send a backlog larger than a page in one run, and try a down endpoint once a run', async () => {
    // Prepare: the endpoint is down while 120 customers write; every first attempt fails.
    await start();
    await subscribe(['message.received']);
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 120; i++) await sb.postSms({ From: `+4860125${String(i).padStart(4, '0')}` });
    const firstAttempts = receiver.requests.length;

    // Act: a run while it is still down, then one after it came back.
    sb.clock.advance(3_600_000);
    await sweep(sb.runtime.sweepDeps);
    const whileDown = receiver.requests.length - firstAttempts;
    receiver.fallbackStatus = 200;
    sb.clock.advance(3 * 3_600_000);
    await sweep(sb.runtime.sweepDeps);

    // Assess: one request while down (the rest deferred with it, across pages); the whole
    // backlog in the next run, not one page of 100 a minute.
    expect(firstAttempts).toBe(120);
    expect(whileDown).toBe(1);
    const delivered = receiver.requests.filter((request) => request.status === 200);
    expect(new Set(delivered.map((request) => request.headers['webhook-id'])).size).toBe(120);
  }, 60_000);

  it('should keep retrying for more than a day, then mark the delivery failed', async () => {
    // Prepare
    await start();
    const webhook = await subscribe(['conversation.opened']);
    receiver.fallbackStatus = 503;
    await sb.postSms({ From: '+48601234567' });
    const startedAt = sb.clock.now().getTime();

    // Act
    let [delivery] = await deliveries(webhook.id);
    for (let round = 0; round < 20 && delivery?.state === 'pending'; round++) {
      sb.clock.set(delivery.nextAttemptAt ?? '');
      await sweep(sb.runtime.sweepDeps);
      [delivery] = await deliveries(webhook.id);
    }

    // Assess
    expect(delivery).toMatchObject({ state: 'failed', attempts: 13, lastStatus: 503, nextAttemptAt: null });
    expect(receiver.requests).toHaveLength(13);
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    const lastAttempt = Number(receiver.requests.at(-1)?.headers['webhook-timestamp']) * 1000;
    expect(lastAttempt - startedAt).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(lastAttempt - startedAt).toBeLessThanOrEqual(36 * 3_600_000);
  });

  it('should disable the subscription when the endpoint answers 410 Gone', async () => {
    // Prepare
    await start();
    const webhook = await subscribe(['conversation.opened']);
    receiver.respondWith(410);

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.postSms({ From: '+48601234999' });
    sb.clock.advance(3_600_000);
    await sweep(sb.runtime.sweepDeps);
    const shown = (await (await call('GET', `/api/webhooks/${webhook.id}`)).json()) as Record<
      string,
      unknown
    >;

    // Assess
    expect(receiver.requests.map((request) => request.status)).toEqual([410]);
    expect(shown).toMatchObject({ id: webhook.id, disabledReason: 'gone', disabledAt: expect.any(String) });
    expect(await deliveries(webhook.id)).toEqual([
      expect.objectContaining({ state: 'failed', attempts: 1, lastStatus: 410 }),
    ]);
  });

  it('should send nothing more to an endpoint in the sweeper run in which it answered 410 Gone', async () => {
    // Prepare: the endpoint is down while 101 customers write (more due deliveries than one page
    // of the sweeper's 100), then it is retired and answers 410 Gone.
    await start();
    const webhook = await subscribe(['conversation.opened']);
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 101; i++) await sb.postSms({ From: `+4860125${String(i).padStart(4, '0')}` });
    const whileDown = receiver.requests.length;
    receiver.fallbackStatus = 410;

    // Act: one sweeper run once every retry is due.
    sb.clock.advance(3_600_000);
    await sweep(sb.runtime.sweepDeps);
    const shown = (await (await call('GET', `/api/webhooks/${webhook.id}`)).json()) as Record<
      string,
      unknown
    >;

    // Assess: the first 410 disabled the subscription for the rest of the run, its next page too.
    expect(whileDown).toBe(101);
    expect(shown).toMatchObject({ disabledReason: 'gone' });
    expect(receiver.requests.slice(whileDown).map((request) => request.status)).toEqual([410]);
  }, 60_000);

  it('should keep a provider’s webhook inside the HTTP function’s 10 s when a subscriber hangs', async () => {
    // Prepare: one subscription whose endpoint accepts connections and never answers.
    await start();
    const endpoint = await startHangingEndpoint();
    onTeardown(endpoint.stop);
    expect((await call('POST', '/api/webhooks', { url: endpoint.url, events: ['*'] })).status).toBe(201);

    // Act: one Messenger batch with four messages of one customer (stored one after another).
    const batch = messagingEnvelope([[1, 2, 3, 4].map((n) => messagingTextEvent(n))]);
    const startedAt = performance.now();
    const response = await sb.postMeta(batch);
    const elapsed = performance.now() - startedAt;
    // ...and the next webhook, a request of its own with a fresh budget
    const nextStartedAt = performance.now();
    const next = await sb.postSms({ From: '+48601234567' });
    const nextElapsed = performance.now() - nextStartedAt;

    // Assess: the first write's attempt timed out and the process remembers the endpoint, so
    // the other writes, and the next request's, left their deliveries to the sweeper instead of
    // waiting 3 s each.
    expect(response.status).toBe(200);
    expect(endpoint.connections()).toBe(1);
    expect(elapsed).toBeLessThan(10_000);
    expect(next.status).toBe(200);
    expect(nextElapsed).toBeLessThan(2_000);
  }, 40_000);

  it('should leave to the sweeper the first attempts a request has no time left for', async () => {
    // Prepare: an endpoint that answers, but takes 1.3 s each time.
    await start();
    const webhook = await subscribe(['message.received']);
    receiver.delayMs = 1_300;

    // Act: one Messenger batch with four messages of one customer, then a sweeper run.
    const batch = messagingEnvelope([[1, 2, 3, 4].map((n) => messagingTextEvent(n))]);
    const startedAt = performance.now();
    const response = await sb.postMeta(batch);
    const elapsed = performance.now() - startedAt;
    const sentInline = receiver.requests.length;
    receiver.delayMs = 0;
    await sweep(sb.runtime.sweepDeps);

    // Assess: the request spent its 3 s on two attempts and left the other two, untouched, to
    // the sweeper, which delivered them: each message once.
    expect(response.status).toBe(200);
    expect(sentInline).toBe(2);
    expect(elapsed).toBeLessThan(3_500);
    expect(await deliveries(webhook.id)).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ state: 'delivered', attempts: 1 })),
    );
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(4);
  }, 30_000);

  it('should stop delivering after DELETE, which is idempotent', async () => {
    // Prepare
    await start();
    const webhook = await subscribe();

    // Act
    const deleted = await call('DELETE', `/api/webhooks/${webhook.id}`);
    const again = await call('DELETE', `/api/webhooks/${webhook.id}`);
    await sb.postSms({ From: '+48601234567' });
    const listed = (await (await call('GET', '/api/webhooks')).json()) as {
      items: Array<Record<string, unknown>>;
    };

    // Assess
    expect([deleted.status, again.status]).toEqual([204, 204]);
    expect(receiver.requests).toEqual([]);
    expect(listed.items).toEqual([expect.objectContaining({ id: webhook.id, disabledReason: 'deleted' })]);
  });

  it('should replay every event since a time as new deliveries with the same webhook-ids', async () => {
    // Prepare
    await start();
    const webhook = await subscribe();
    const since = sb.clock.now();
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    sb.clock.advance(60_000);

    // Act
    const response = await call('POST', `/api/webhooks/${webhook.id}/replay`, { since: since.toISOString() });
    const accepted = await response.json();
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect(response.status).toBe(202);
    expect(accepted).toEqual({ replayId: expect.stringMatching(/^rpl_/), deliveries: 3 });
    const ids = receiver.requests.map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(6);
    // Events of the same millisecond may come in another order on a replay.
    expect(ids.slice(3).toSorted()).toEqual(ids.slice(0, 3).toSorted());
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    const log = await deliveries(webhook.id);
    expect(log.filter((d) => d.replayId !== null && d.state === 'delivered')).toHaveLength(3);
    expect(log.filter((d) => d.replayId === null && d.state === 'delivered')).toHaveLength(3);
  });

  it('should never show the secret again or write it to a log line', async () => {
    // Prepare
    await start();
    const webhook = await subscribe();
    await sb.postSms({ From: '+48601234567' });
    receiver.respondWith(500);
    await sb.postSms({ From: '+48601234999' });

    // Act
    const texts = await Promise.all(
      ['/api/webhooks', `/api/webhooks/${webhook.id}`, `/api/webhooks/${webhook.id}/deliveries`].map(
        async (path) => (await call('GET', path)).text(),
      ),
    );

    // Assess
    const key = webhook.secret.slice('whsec_'.length);
    for (const text of texts) {
      expect(text).not.toContain(key);
      expect(text).not.toContain('secret');
    }
    expect(JSON.stringify(sb.log.lines)).not.toContain(key);
    expect(sb.log.lines.some((line) => line.message === 'webhook delivery will be retried')).toBe(true);
  });

  it('should answer 403 to a key without the admin scope and 404 to an unknown webhook', async () => {
    // Prepare
    await start();
    const keyResponse = await call('POST', '/api/admin/keys', { name: 'Reader', scopes: ['read', 'reply'] });
    const { token } = (await keyResponse.json()) as { token: string };

    // Act
    const statuses = await Promise.all([
      call('GET', '/api/webhooks', undefined, token),
      call('POST', '/api/webhooks', { url: 'https://example.com/hook', events: ['*'] }, token),
      call('GET', `/api/webhooks/wh_${'0'.repeat(26)}/deliveries`, undefined, token),
      call('GET', `/api/webhooks/wh_${'0'.repeat(26)}`),
      call('GET', '/api/webhooks/nope'),
      call('DELETE', `/api/webhooks/wh_${'0'.repeat(26)}`),
      call('POST', `/api/webhooks/wh_${'0'.repeat(26)}/replay`, { since: '2026-11-25T00:00:00Z' }),
    ]).then((responses) => responses.map((response) => response.status));

    // Assess
    expect(statuses).toEqual([403, 403, 403, 404, 404, 404, 404]);
  });

  it.each([
    ['an ftp URL', { url: 'ftp://example.com/hook', events: ['*'] }],
    ['http to a remote host', { url: 'http://example.com/hook', events: ['*'] }],
    ['a relative URL', { url: '/hook', events: ['*'] }],
    ['credentials in the URL', { url: 'https://user:pass@example.com/hook', events: ['*'] }],
    ['an unknown event type', { url: 'https://example.com/hook', events: ['message.deleted'] }],
    ['no event types', { url: 'https://example.com/hook', events: [] }],
    ['a wildcard among types', { url: 'https://example.com/hook', events: ['*', 'ack.sent'] }],
    ['a repeated type', { url: 'https://example.com/hook', events: ['ack.sent', 'ack.sent'] }],
    ['an unknown field', { url: 'https://example.com/hook', events: ['*'], secret: 'mine' }],
    ['a body that is not JSON', '{"url":'],
  ])('should refuse a webhook with %s with 400', async (_name, body) => {
    // Prepare
    await start();

    // Act
    const response = await call('POST', '/api/webhooks', body);

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
  });

  it('should refuse a replay without a valid past since with 400, and one of a disabled webhook with 409', async () => {
    // Prepare
    await start();
    const webhook = await subscribe();
    const replay = (body: unknown) => call('POST', `/api/webhooks/${webhook.id}/replay`, body);

    // Act
    const missing = await replay({});
    const notADate = await replay({ since: 'yesterday' });
    const future = await replay({ since: new Date(sb.clock.now().getTime() + 60_000).toISOString() });
    await call('DELETE', `/api/webhooks/${webhook.id}`);
    const disabled = await replay({ since: sb.clock.now().toISOString() });

    // Assess
    expect([missing.status, notADate.status, future.status, disabled.status]).toEqual([400, 400, 400, 409]);
  });

  it('should page the delivery log newest first and refuse a foreign cursor', async () => {
    // Prepare
    await start();
    const webhook = await subscribe(['conversation.opened']);
    for (const from of ['+48601234501', '+48601234502', '+48601234503']) {
      await sb.postSms({ From: from });
      sb.clock.advance(1_000);
    }

    // Act
    const first = (await (await call('GET', `/api/webhooks/${webhook.id}/deliveries?limit=2`)).json()) as {
      items: Delivery[];
      nextCursor: string | null;
    };
    const second = (await (
      await call('GET', `/api/webhooks/${webhook.id}/deliveries?limit=2&cursor=${first.nextCursor}`)
    ).json()) as { items: Delivery[]; nextCursor: string | null };
    const foreign = await call('GET', `/api/webhooks/${webhook.id}/deliveries?cursor=eyJwayI6IngifQ`);

    // Assess
    const order = received().map((event) => event.id);
    expect([...first.items, ...second.items].map((d) => d.eventId)).toEqual(order.toReversed());
    expect(second.items).toHaveLength(1);
    expect(foreign.status).toBe(400);
  });

  // Found at stop 24 by a review of this stop's changes: the TTL, the replay and the memory of
  // failing endpoints each missed a case.
  it('should give a TTL to a delivery that failed without an attempt (abandoned after its endpoint answered 410 Gone)', async () => {
    // Prepare: one subscription hearing everything; its endpoint has been retired.
    await start();
    const webhook = await subscribe(['*']);
    receiver.respondWith(410);

    // Act: one SMS: its write publishes conversation.opened and message.received together; the
    // first answers 410, the second is abandoned unsent (the subscription is gone).
    await sb.postSms({ From: '+48601234567' });
    const log = await deliveries(webhook.id);
    const items = await Promise.all(log.map((delivery) => storedItem(delivery.id)));

    // Assess: both settled as failed; each leaves the log 30 days after it settled (the
    // abandoned one, never attempted, from its creation).
    expect(receiver.requests).toHaveLength(1);
    expect(log.map((delivery) => [delivery.state, delivery.attempts]).toSorted()).toEqual([
      ['failed', 0],
      ['failed', 1],
    ]);
    expect(items.map((item) => typeof item?.expiresAt)).toEqual(['number', 'number']);
  });

  it('should replay an event whose delivery is still in the log as a replay copy after its original expired (TTL)', async () => {
    // Prepare: an event delivered on day 0 and replayed on day 20 (the copy is delivered too).
    await start();
    const webhook = await subscribe(['message.received']);
    const since = sb.clock.now();
    await sb.postSms({ From: '+48601234567' });
    const [original] = await deliveries(webhook.id);
    expect(original?.state).toBe('delivered');
    sb.clock.advance(20 * 86_400_000);
    const first = await call('POST', `/api/webhooks/${webhook.id}/replay`, { since: since.toISOString() });
    expect(await first.json()).toMatchObject({ deliveries: 1 });
    await sweep(sb.runtime.sweepDeps);
    // Day 31: DynamoDB's TTL removed the original (settled day 0), the copy (settled day 20)
    // stays in the log until day 50.
    sb.clock.advance(11 * 86_400_000);
    const expiresAt = (await storedItem(original?.id as string))?.expiresAt as number;
    expect(expiresAt * 1000).toBeLessThan(sb.clock.now().getTime());
    await sb.backends.dynamodb.send(
      new DeleteItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `WHDELIVERY#${original?.id}`, sk: 'WHDELIVERY' }),
      }),
    );
    const inLog = await deliveries(webhook.id);

    // Act: an admin replays the same period again (its event is still in the delivery log).
    const again = await call('POST', `/api/webhooks/${webhook.id}/replay`, { since: since.toISOString() });

    // Assess: the event is still in the log (as the copy), so the replay sends it again.
    expect(inLog).toEqual([expect.objectContaining({ eventId: original?.eventId, state: 'delivered' })]);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ deliveries: 1 });
  });

  it('should not remember a healthy endpoint as failing when only the request’s leftover budget cut its attempt short', async () => {
    // Prepare: an endpoint that always answers 200, in 1.7 s (well inside the 3 s budget and
    // the sweeper's 5 s).
    await start();
    await subscribe(['message.received']);
    receiver.delayMs = 1_700;

    // A Messenger batch of two messages: the first attempt takes 1.7 s; the second is started
    // with the 1.3 s left of the request's budget and times out.
    const batch = messagingEnvelope([[1, 2].map((n) => messagingTextEvent(n))]);
    expect((await sb.postMeta(batch)).status).toBe(200);
    const afterBatch = receiver.requests.length;

    // Act: a new request (its own 3 s budget) a few seconds later: another customer's SMS.
    sb.clock.advance(5_000);
    const response = await sb.postSms({ From: '+48601234567' });
    const inline = receiver.requests.length - afterBatch;

    // Assess: the new event should be tried at once (the endpoint never failed on its own),
    // not left for the sweeper because of a timeout our own budget imposed.
    expect(response.status).toBe(200);
    expect(afterBatch).toBe(2);
    expect(inline).toBe(1);
  }, 30_000);
  // Found at stop 25: an endpoint whose first attempt failed slowly was left to the sweeper for
  // 60 s, even after the sweeper had delivered to it again.
  it('should try a recovered endpoint first again as soon as a delivery to it succeeds, not a minute after it failed slowly', async () => {
    // Prepare: the endpoint answers too late for the first attempt (3.5 s, over the 3 s
    // budget); it then recovers, and the sweeper's retry (due 30 to 37.5 s later) delivers
    await start();
    const webhook = await subscribe(['message.received']);
    receiver.delayMs = 3_500;
    await sb.postSms({ From: '+48601234567' });
    const pausedUntil = async () => {
      const { Item } = await sb.backends.dynamodb.send(
        new GetItemCommand({
          TableName: sb.backends.tableName,
          Key: marshall({ pk: `WEBHOOK#${webhook.id}`, sk: 'WEBHOOK' }),
        }),
      );
      return Item ? unmarshall(Item).firstAttemptsPausedUntil : 'missing';
    };
    // In the table, not one process's memory: the sweeper on Lambda runs in another
    const paused = await pausedUntil();
    receiver.delayMs = 0;
    sb.clock.advance(40_000);
    await sweep(sb.runtime.sweepDeps);
    const [retried] = await deliveries(webhook.id);
    const resumed = await pausedUntil();

    // Act: another customer writes 45 s after the failure
    sb.clock.advance(5_000);
    await sb.postSms({ From: '+48601234568' });

    // Assess: the new event was tried at once, inside its request, and delivered
    const [fresh] = await deliveries(webhook.id);
    expect(paused).toBe(new Date(sb.clock.now().getTime() - 45_000 + 60_000).toISOString());
    expect(resumed).toBeUndefined();
    expect(retried).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(fresh?.id).not.toBe(retried?.id);
    expect(fresh).toMatchObject({ state: 'delivered', attempts: 1 });
  }, 30_000);

  // Found at stop 25 by a review of this stop's changes: a sweeper that read the subscription
  // before another process paused it delivered, and left the pause to run its minute.
  describe('a first-attempt pause set while a delivery to the endpoint is under way', () => {
    const subscriptionKey = (id: string) => marshall({ pk: `WEBHOOK#${id}`, sk: 'WEBHOOK' });
    const isSubscription = (id: string) => (input: Record<string, unknown>) =>
      (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S === `WEBHOOK#${id}`;
    const isDelivery = (input: Record<string, unknown>) =>
      (input.Item as { pk?: { S?: string } } | undefined)?.pk?.S?.startsWith('WHDELIVERY#') ?? false;

    async function pausedUntil(id: string): Promise<unknown> {
      const { Item } = await sb.backends.dynamodb.send(
        new GetItemCommand({ TableName: sb.backends.tableName, Key: subscriptionKey(id) }),
      );
      return Item ? unmarshall(Item).firstAttemptsPausedUntil : 'missing';
    }

    /** Another process's slow failure: it pauses the subscription's first attempts for a minute. */
    function pauseElsewhere(id: string): Promise<void> {
      return sb.backends.dynamodb
        .send(
          new UpdateItemCommand({
            TableName: sb.backends.tableName,
            Key: subscriptionKey(id),
            UpdateExpression: 'SET firstAttemptsPausedUntil = :until',
            ExpressionAttributeValues: marshall({
              ':until': new Date(sb.clock.now().getTime() + 60_000).toISOString(),
            }),
          }),
        )
        .then(() => undefined);
    }

    /** A delivery left due for the sweeper: its first attempt got a quick 503. */
    async function dueRetry(): Promise<Created> {
      await start();
      const webhook = await subscribe(['message.received']);
      receiver.respondWith(503);
      await sb.postSms({ From: '+48601234567' });
      sb.clock.advance(40_000);
      return webhook;
    }

    it('should end a pause set before the successful attempt began, though the sweeper read the subscription before it', async () => {
      // Prepare: the pause is written right after the sweeper read the subscription
      const webhook = await dueRetry();
      const meanwhile = afterCall(
        sb.backends.dynamodb,
        { command: 'GetItemCommand', match: isSubscription(webhook.id) },
        () => pauseElsewhere(webhook.id),
      );

      // Act
      await sweep(sb.runtime.sweepDeps);
      meanwhile.remove();

      // Assess
      const [retried] = await deliveries(webhook.id);
      expect(meanwhile.fired).toBe(true);
      expect(retried).toMatchObject({ state: 'delivered', attempts: 2 });
      expect(await pausedUntil(webhook.id)).toBeUndefined();
    });

    it('should keep a pause set after the successful attempt began', async () => {
      // Prepare: the pause is written a second after the sweeper claimed its attempt
      const webhook = await dueRetry();
      const meanwhile = afterCall(
        sb.backends.dynamodb,
        { command: 'PutItemCommand', match: isDelivery },
        async () => {
          sb.clock.advance(1_000);
          await pauseElsewhere(webhook.id);
        },
      );

      // Act
      await sweep(sb.runtime.sweepDeps);
      meanwhile.remove();

      // Assess: that slow failure is newer than what the success proves
      const [retried] = await deliveries(webhook.id);
      expect(meanwhile.fired).toBe(true);
      expect(retried).toMatchObject({ state: 'delivered', attempts: 2 });
      expect(await pausedUntil(webhook.id)).toBe(new Date(sb.clock.now().getTime() + 60_000).toISOString());
    });
  });

  // Found at stop 25: deliveries stored before stop 24 have no expiresAt, so the TTL never
  // removes them. The sweeper gives them one, a page at a time, once.
  describe('deliveries stored before the log had a TTL', () => {
    /** Stores every delivery of the subscription as a release before stop 24 did: without expiresAt. */
    async function withoutExpiry(ids: readonly string[]): Promise<void> {
      for (const id of ids) {
        await sb.backends.dynamodb.send(
          new UpdateItemCommand({
            TableName: sb.backends.tableName,
            Key: marshall({ pk: `WHDELIVERY#${id}`, sk: 'WHDELIVERY' }),
            UpdateExpression: 'REMOVE expiresAt',
          }),
        );
      }
    }

    it('should give each settled one its expiry from when it settled in the next sweep run, and leave a pending one until it settles', async () => {
      // Prepare: three events delivered, then one whose endpoint failed (still pending); all
      // four stored without expiresAt
      await start();
      const webhook = await subscribe(['*']);
      await sb.postSms({ From: '+48601234567' });
      await sb.drain();
      const settledAt = Math.ceil(sb.clock.now().getTime() / 1000);
      sb.clock.advance(86_400_000);
      receiver.respondWith(503);
      await sb.postSms({ From: '+48601234567', Body: 'Halo?' });
      const log = await deliveries(webhook.id);
      await withoutExpiry(log.map((delivery) => delivery.id));

      // Act
      await sweep(sb.runtime.sweepDeps, { webhookBudgetMs: 0 });

      // Assess
      const items = await Promise.all(log.map((delivery) => storedItem(delivery.id)));
      const expiries = items.map((item) => [item?.state, item?.expiresAt]);
      expect(expiries.toSorted()).toEqual([
        ['delivered', settledAt + 30 * 86_400],
        ['delivered', settledAt + 30 * 86_400],
        ['delivered', settledAt + 30 * 86_400],
        ['pending', undefined],
      ]);
    });

    it('should work through the log a bounded page at a time, resume where it stopped, and cost nothing once done', async () => {
      // Prepare: two subscriptions, eight deliveries between them, stored without expiresAt
      await start();
      const first = await subscribe(['*']);
      const second = await subscribe(['message.received']);
      await sb.postSms({ From: '+48601234567' });
      await sb.drain();
      await sb.postSms({ From: '+48601234568' });
      await sb.drain();
      const log = [...(await deliveries(first.id)), ...(await deliveries(second.id))];
      await withoutExpiry(log.map((delivery) => delivery.id));
      const shards = new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      });
      // A new store for each run: a fresh Lambda after each, which knows only what the table holds
      const run = () =>
        new DynamoDbWebhookStore({
          client: sb.backends.dynamodb,
          tableName: sb.backends.tableName,
          shards,
        }).backfillDeliveryExpiry(sb.clock.now(), { pageSize: 3, pages: 1 });
      const updates = countCalls(sb.backends.dynamodb, 'UpdateItemCommand');

      // Act
      const runs = [];
      for (let i = 0; i < 10; i++) {
        runs.push(await run());
        if (runs.at(-1)?.done) break;
      }
      const writes = updates.count;
      const store = new DynamoDbWebhookStore({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        shards,
      });
      await store.backfillDeliveryExpiry(sb.clock.now(), { pageSize: 3, pages: 1 });
      const calls = countCalls(sb.backends.dynamodb, 'GetItemCommand');
      const queries = countCalls(sb.backends.dynamodb, 'QueryCommand');
      const again = await store.backfillDeliveryExpiry(sb.clock.now(), { pageSize: 3, pages: 1 });
      updates.remove();
      calls.remove();
      queries.remove();

      // Assess: at most a page of three a run, every delivery given its expiry once, then done
      // for good: the same process asks the table nothing more
      expect(log).toHaveLength(8);
      expect(runs.every((r) => r.updated <= 3)).toBe(true);
      expect(runs.reduce((sum, r) => sum + r.updated, 0)).toBe(8);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(runs.at(-1)?.done).toBe(true);
      expect(writes).toBe(8);
      const items = await Promise.all(log.map((delivery) => storedItem(delivery.id)));
      expect(items.every((item) => typeof item?.expiresAt === 'number')).toBe(true);
      expect(again).toEqual({ updated: 0, done: true });
      expect(calls.count + queries.count).toBe(0);
    });

    // Found at stop 25 by a review of this stop's changes: every delivery read was given a
    // conditional write, those that had expiresAt too, each refused write still costing one.
    it('should spend no write on a delivery that already has its expiry', async () => {
      // Prepare: deliveries written by this release (with expiresAt), one of them stripped
      await start();
      const webhook = await subscribe(['*']);
      await sb.postSms({ From: '+48601234567' });
      await sb.drain();
      const log = await deliveries(webhook.id);
      const [stripped] = log;
      await withoutExpiry(stripped ? [stripped.id] : []);
      const updates = countCalls(sb.backends.dynamodb, 'UpdateItemCommand');

      // Act
      const store = new DynamoDbWebhookStore({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        shards: new ShardCount({
          client: sb.backends.dynamodb,
          tableName: sb.backends.tableName,
          configured: sb.config.aws.indexShards,
        }),
      });
      const run = await store.backfillDeliveryExpiry(sb.clock.now());
      updates.remove();

      // Assess: one write, for the one that lacked it
      expect(log.length).toBeGreaterThan(1);
      expect(run).toEqual({ updated: 1, done: true });
      expect(updates.count).toBe(1);
      expect(typeof (await storedItem(stripped?.id ?? ''))?.expiresAt).toBe('number');
    });
  });
});
