import { afterEach, describe, expect, it } from 'vitest';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { MAX_ENABLED_WEBHOOKS } from '#lib/domain/webhook.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { type CountingMetrics, countingMetrics } from '#test/support/counting-metrics.ts';
import { afterCall, countCalls } from '#test/support/faults.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import { startWebhookReceiver, type WebhookReceiver } from '#test/support/webhook-receiver.ts';

// An endpoint failing for days was tried for ever: every event's 13 attempts over a day and a
// half, again and again, with nothing to tell the admin but the delivery log. Now a subscription
// whose endpoint accepted nothing for 5 days is disabled ('failing'), and PATCH enables it again.

const DAY = 86_400_000;
type View = { id: string; disabledAt: string | null; disabledReason: string | null };

describe('a webhook endpoint failing for days', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let metrics: CountingMetrics;
  let phone = 601_000_000;

  afterEach(async () => {
    await receiver?.stop();
    await sb?.stop();
  });

  async function start() {
    metrics = countingMetrics();
    sb = await startTestSwitchboard({ metrics });
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
  }

  function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_TOKEN}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) };
    return Promise.resolve(sb.runtime.app.request(path, { method, headers, ...init }));
  }

  async function subscribe(): Promise<string> {
    const response = await call('POST', '/api/webhooks', {
      url: `${receiver.url}/hooks`,
      events: ['conversation.opened'],
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; secret: string };
    receiver.secret = created.secret;
    return created.id;
  }

  async function shown(id: string): Promise<View> {
    const response = await call('GET', `/api/webhooks/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as View;
  }

  /** A new customer's first message: one conversation.opened event, its first attempt made at once. */
  const newCustomer = () => sb.postSms({ From: `+48${phone++}` });

  const disablings = () => sb.log.lines.filter((line) => line.message.includes('subscription disabled'));

  it('should disable it after 5 days with no delivery accepted, once, and send it nothing more', async () => {
    // Prepare: an endpoint answering 503 to everything, an event a day.
    await start();
    const id = await subscribe();
    receiver.fallbackStatus = 503;
    await newCustomer();
    for (let day = 1; day <= 4; day++) {
      sb.clock.advance(DAY);
      await newCustomer();
      await sweep(sb.runtime.sweepDeps);
    }
    const beforeDisabling = await shown(id);
    const triedBefore = receiver.requests.length;

    // Act: a new event 5 days (and a minute) after the first failed attempt, then a sweeper run.
    sb.clock.advance(DAY + 60_000);
    await newCustomer();
    const disabledAt = sb.clock.now().toISOString();
    sb.clock.advance(60 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await newCustomer();
    await sweep(sb.runtime.sweepDeps);

    // Assess: enabled for 4 days; disabled by the attempt 5 days on, with its time and reason;
    // nothing sent after it, its due deliveries given up unsent; one log line, one metric.
    expect(beforeDisabling).toMatchObject({ disabledAt: null, disabledReason: null });
    expect(await shown(id)).toMatchObject({ disabledReason: 'failing', disabledAt });
    expect(receiver.requests).toHaveLength(triedBefore + 1);
    const listed = (await (await call('GET', '/api/webhooks')).json()) as { items: View[] };
    expect(listed.items).toEqual([expect.objectContaining({ id, disabledReason: 'failing', disabledAt })]);
    const log = (await (await call('GET', `/api/webhooks/${id}/deliveries?limit=100`)).json()) as {
      items: Array<{ state: string }>;
    };
    expect(log.items.filter((delivery) => delivery.state === 'pending')).toEqual([]);
    expect(disablings()).toHaveLength(1);
    expect(disablings()[0]?.fields).toMatchObject({ webhookId: id });
    expect(metrics.total('WebhooksDisabled')).toBe(1);
  }, 60_000);

  it('should count 5 days from the first failure after the last accepted delivery', async () => {
    // Prepare: failing from day 0, one delivery accepted on day 3, failing again from day 4.
    await start();
    const id = await subscribe();
    receiver.fallbackStatus = 503;
    await newCustomer();
    sb.clock.advance(3 * DAY);
    receiver.respondWith(200);
    await newCustomer();
    sb.clock.advance(DAY);
    await newCustomer();

    // Act: failures 6 days after the first one (2 after the success), then 9 days after it.
    sb.clock.advance(2 * DAY);
    await newCustomer();
    const sixDays = await shown(id);
    sb.clock.advance(3 * DAY);
    await newCustomer();

    // Assess: not disabled while the streak since the success is under 5 days; disabled after.
    expect(sixDays).toMatchObject({ disabledAt: null });
    expect(await shown(id)).toMatchObject({ disabledReason: 'failing' });
  }, 60_000);

  it('should write the streak once when it begins and once when it ends, and nothing for a healthy endpoint', async () => {
    // Prepare
    await start();
    await subscribe();
    const onSubscription = (input: Record<string, unknown>) =>
      (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S?.startsWith('WEBHOOK#wh_') ?? false;
    const updates = countCalls(sb.backends.dynamodb, 'UpdateItemCommand', onSubscription);

    // Act: three events accepted, three refused, three accepted.
    for (let i = 0; i < 3; i++) await newCustomer();
    const healthy = updates.count;
    receiver.fallbackStatus = 503;
    for (let i = 0; i < 3; i++) await newCustomer();
    const failing = updates.count - healthy;
    receiver.fallbackStatus = 200;
    for (let i = 0; i < 3; i++) await newCustomer();
    const back = updates.count - healthy - failing;
    updates.remove();

    // Assess
    expect([healthy, failing, back]).toEqual([0, 1, 1]);
  });

  it('should let a success landing as it is disabled win, and disable it once whoever tries again', async () => {
    // Prepare: failing for 5 days; a second process's store (its own cache of the enabled list).
    await start();
    const id = await subscribe();
    receiver.fallbackStatus = 503;
    await newCustomer();
    sb.clock.advance(5 * DAY + 60_000);
    const other = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName: sb.backends.tableName,
      shards: new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      }),
    });

    // Act: an attempt that succeeds, and another process's failure disabling the subscription
    // right after this attempt was claimed, before it is sent.
    receiver.fallbackStatus = 200;
    const cutoff = new Date(sb.clock.now().getTime() - 5 * DAY);
    let disabledMeanwhile: boolean | undefined;
    const isClaim = (input: Record<string, unknown>) =>
      input.ConditionExpression === 'version = :version' &&
      ((input.Item as { pk?: { S?: string } } | undefined)?.pk?.S?.startsWith('WHDELIVERY#') ?? false);
    const meanwhile = afterCall(
      sb.backends.dynamodb,
      { command: 'PutItemCommand', match: isClaim },
      async () => {
        disabledMeanwhile = await other.disableFailing(id, sb.clock.now(), cutoff);
      },
    );
    await newCustomer();
    meanwhile.remove();
    const afterSuccess = await shown(id);
    const again = await other.disableFailing(id, sb.clock.now(), cutoff);

    // Assess: the disabling landed, and the success that was under way undid it; the streak is
    // over, so the same disabling again changes nothing.
    expect(meanwhile.fired).toBe(true);
    expect(disabledMeanwhile).toBe(true);
    expect(receiver.requests.at(-1)?.status).toBe(200);
    expect(afterSuccess).toMatchObject({ disabledAt: null, disabledReason: null });
    expect(again).toBe(false);
    expect(await shown(id)).toMatchObject({ disabledAt: null });
  }, 60_000);

  it('should disable by hand with PATCH enabled false and enable again with enabled true, idempotently', async () => {
    // Prepare
    await start();
    const id = await subscribe();

    // Act
    const off = await call('PATCH', `/api/webhooks/${id}`, { enabled: false });
    const offView = (await off.json()) as View;
    sb.clock.advance(60_000);
    const offAgain = (await (await call('PATCH', `/api/webhooks/${id}`, { enabled: false })).json()) as View;
    await newCustomer();
    const sentWhileOff = receiver.requests.length;
    const on = await call('PATCH', `/api/webhooks/${id}`, { enabled: true });
    const onAgain = await call('PATCH', `/api/webhooks/${id}`, { enabled: true });
    await newCustomer();

    // Assess
    expect(off.status).toBe(200);
    expect(offView).toMatchObject({ id, disabledReason: 'manual', disabledAt: expect.any(String) });
    expect(offAgain).toEqual(offView);
    expect(sentWhileOff).toBe(0);
    expect([on.status, onAgain.status]).toEqual([200, 200]);
    expect(await on.json()).toMatchObject({ id, disabledAt: null, disabledReason: null });
    expect(receiver.requests.map((request) => request.status)).toEqual([200]);
  });

  it('should start the 5 days again when a subscription disabled for failing is enabled again', async () => {
    // Prepare: disabled after 5 days of failures.
    await start();
    const id = await subscribe();
    receiver.fallbackStatus = 503;
    await newCustomer();
    sb.clock.advance(5 * DAY + 60_000);
    await newCustomer();
    expect(await shown(id)).toMatchObject({ disabledReason: 'failing' });

    // Act: enabled again, its endpoint still failing.
    const on = await call('PATCH', `/api/webhooks/${id}`, { enabled: true });
    await newCustomer();
    sb.clock.advance(DAY);
    await newCustomer();

    // Assess: tried again, and not disabled again by its old streak.
    expect(on.status).toBe(200);
    expect(await shown(id)).toMatchObject({ disabledAt: null, disabledReason: null });
    expect(receiver.requests.slice(-2).map((request) => request.status)).toEqual([503, 503]);
  }, 60_000);

  it('should keep a subscription disabled by hand and then deleted deleted, so it cannot be enabled again', async () => {
    // Prepare
    await start();
    const id = await subscribe();
    await call('PATCH', `/api/webhooks/${id}`, { enabled: false });

    // Act
    const deleted = await call('DELETE', `/api/webhooks/${id}`);
    const enable = await call('PATCH', `/api/webhooks/${id}`, { enabled: true });

    // Assess
    expect([deleted.status, enable.status]).toEqual([204, 409]);
    expect(await shown(id)).toMatchObject({ disabledReason: 'deleted' });
  });

  it('should refuse to enable a deleted subscription, or one past the cap, and a bad body', async () => {
    // Prepare
    await start();
    const deleted = await subscribe();
    await call('DELETE', `/api/webhooks/${deleted}`);
    const off = await subscribe();
    await call('PATCH', `/api/webhooks/${off}`, { enabled: false });
    for (let i = 0; i < MAX_ENABLED_WEBHOOKS; i++) await subscribe();

    // Act
    const enableDeleted = await call('PATCH', `/api/webhooks/${deleted}`, { enabled: true });
    const pastCap = await call('PATCH', `/api/webhooks/${off}`, { enabled: true });
    const bad = await call('PATCH', `/api/webhooks/${off}`, { enabled: 'yes' });
    const extra = await call('PATCH', `/api/webhooks/${off}`, { enabled: true, url: 'https://x.test/' });
    const unknown = await call('PATCH', '/api/webhooks/wh_00000000000000000000000000', { enabled: true });

    // Assess: nothing changed.
    expect(enableDeleted.status).toBe(409);
    expect(((await enableDeleted.json()) as { error: { code: string } }).error.code).toBe('WEBHOOK_DELETED');
    expect(pastCap.status).toBe(409);
    expect(((await pastCap.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_WEBHOOKS');
    expect([bad.status, extra.status, unknown.status]).toEqual([400, 400, 404]);
    expect(await shown(deleted)).toMatchObject({ disabledReason: 'deleted' });
    expect(await shown(off)).toMatchObject({ disabledReason: 'manual' });
  }, 60_000);
});
