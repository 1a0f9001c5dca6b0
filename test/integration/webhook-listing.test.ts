import { afterEach, describe, expect, it } from 'vitest';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { issueWebhook } from '#lib/domain/webhook.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import { startWebhookReceiver, type WebhookReceiver } from '#test/support/webhook-receiver.ts';

// Stop 34, round 2 of the adversarial review of subscriptions: GET /api/webhooks read at most
// about 1,000 subscriptions (or one 1 MB page), newest first, so after heavy churn (many created and deleted) the
// oldest, still enabled one was silently left out; nothing bounded the enabled subscriptions
// every write fans its events out to.
describe('listing webhook subscriptions, and how many may be enabled', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;

  afterEach(async () => {
    await receiver?.stop();
    await sb?.stop();
  });

  function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_TOKEN}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = body === undefined ? {} : { body: JSON.stringify(body) };
    return Promise.resolve(sb.runtime.app.request(path, { method, headers, ...init }));
  }

  async function start() {
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
  }

  /** `count` subscriptions written straight to the table, a second apart (a tool's churn). */
  async function stored(count: number, disabled: boolean) {
    const store = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName: sb.backends.tableName,
      shards: new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      }),
    });
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, () => {
        sb.clock.advance(1_000);
        // A long description, as a tool may write: fewer of them fill DynamoDB's 1 MB page.
        const description = 'x'.repeat(500);
        const webhook = issueWebhook(
          { url: `${receiver.url}/old`, events: ['*'], description },
          sb.clock.now(),
        );
        return disabled
          ? { ...webhook, disabledAt: sb.clock.now().toISOString(), disabledReason: 'deleted' }
          : webhook;
      });
      await Promise.all(batch.map((webhook) => store.createSubscription(webhook)));
    }
  }

  it('should list every subscription page by page with a cursor, the oldest enabled one after 2,500 deleted', async () => {
    // Prepare: one subscription, then 2,500 more created and deleted after it.
    await start();
    const created = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events: ['*'] });
    const { id } = (await created.json()) as { id: string };
    await stored(2_500, true);

    // Act: page through the listing.
    const seen: Array<{ id: string; disabledAt: string | null }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=500&cursor=${encodeURIComponent(cursor)}` : '?limit=500';
      const response = await call('GET', `/api/webhooks${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: typeof seen; nextCursor?: string | null };
      seen.push(...page.items);
      cursor = page.nextCursor ?? null;
      pages++;
    } while (cursor && pages < 20);
    const foreign = await call('GET', '/api/webhooks?cursor=eyJmb28iOjF9');
    await sb.postSms({ From: '+48601234567' });
    const tooMany = await call('GET', '/api/webhooks?limit=501');

    // Assess: all 2,501, newest first, the enabled one last.
    expect(seen).toHaveLength(2_501);
    expect(new Set(seen.map((webhook) => webhook.id)).size).toBe(2_501);
    expect(seen.at(-1)).toMatchObject({ id, disabledAt: null });
    expect([foreign.status, tooMany.status]).toEqual([400, 400]);
    // Delivery reads the enabled list to its end: the old subscription hears the new events.
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.requests.every((request) => request.path === '/hooks')).toBe(true);
  }, 120_000);

  it('should refuse a subscription beyond 100 enabled ones with 409, counting no deleted one', async () => {
    // Prepare: 99 enabled subscriptions and 20 deleted ones.
    await start();
    await stored(99, false);
    await stored(20, true);

    // Act
    const hundredth = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events: ['*'] });
    const refused = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events: ['*'] });
    const body = (await refused.json()) as { error: { code: string } };
    const listed = await call('GET', '/api/webhooks?limit=500');

    // Assess
    expect([hundredth.status, refused.status]).toEqual([201, 409]);
    expect(body.error.code).toBe('TOO_MANY_WEBHOOKS');
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(120);
  }, 60_000);
});
