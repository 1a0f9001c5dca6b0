import { afterEach, describe, expect, it } from 'vitest';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { HttpWebhookSender } from '#lib/adapters/http-webhook-sender.ts';
import { issueWebhook, newDelivery } from '#lib/domain/webhook.ts';
import { deliverDueWebhooks } from '#lib/use-cases/webhook-delivery.ts';
import { injectFault } from '#test/support/faults.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import {
  startHangingEndpoint,
  startWebhookReceiver,
  type WebhookReceiver,
} from '#test/support/webhook-receiver.ts';

// Attempts timed out after 5 s whatever the sweep run had left, and a page of due deliveries
// waited for its slowest endpoint before the next page was read: one endpoint that accepts
// connections and never answers cost the run one timeout per page it led, and the other
// subscriptions' deliveries on later pages were not reached.
describe('a sweep run with an endpoint that never answers', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let hanging: Awaited<ReturnType<typeof startHangingEndpoint>> | undefined;

  afterEach(async () => {
    await hanging?.stop();
    await receiver?.stop();
    await sb?.stop();
  });

  it('should reach every other subscription’s due deliveries on later pages and end at most 5 s past its budget', async () => {
    // Prepare: two subscriptions, four events a second apart, each delivery to the hanging
    // endpoint due just before the healthy one's: every page of two leads with the hanging one.
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
    hanging = await startHangingEndpoint();
    const webhooks = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName: sb.backends.tableName,
      shards: new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      }),
    });
    const stuck = issueWebhook({ url: hanging.url, events: ['*'], description: null }, sb.clock.now());
    const healthy = issueWebhook(
      { url: `${receiver.url}/hooks`, events: ['*'], description: null },
      sb.clock.now(),
    );
    receiver.secret = healthy.secret;
    await webhooks.createSubscription(stuck);
    await webhooks.createSubscription(healthy);
    for (let i = 1; i <= 4; i++) {
      sb.clock.advance(1_000);
      const event = {
        id: `evt_${i}`,
        type: 'message.received',
        occurredAt: sb.clock.now().toISOString(),
        conversationId: 'conv_1',
        sequence: i,
        data: {},
      };
      await webhooks.createDelivery(newDelivery(stuck.id, event, sb.clock.now()));
      await webhooks.createDelivery(newDelivery(healthy.id, event, sb.clock.now()));
    }
    const deps = {
      webhooks,
      sender: new HttpWebhookSender({ blockPrivateAddresses: false }),
      clock: sb.clock,
      log: sb.log,
      random: () => 0,
    };

    // Act: one run with 5 s for webhooks, two deliveries a page.
    const startedAt = performance.now();
    const result = await deliverDueWebhooks(deps, { pageSize: 2, budgetMs: 5_000 });
    const elapsed = performance.now() - startedAt;

    // Assess: the healthy endpoint got all four in order; the hanging one was tried once, its
    // attempt cut 5 s past the run's end, the rest left due untouched behind it; the run kept to its budget and that.
    expect(receiver.requests.map((request) => (request.payload as { id: string }).id)).toEqual(
      [1, 2, 3, 4].map((i) => `evt_${i}`),
    );
    expect(hanging.connections()).toBe(1);
    expect(result.delivered).toBe(4);
    expect(elapsed).toBeLessThan(11_000);
    const stuckLog = (await webhooks.listDeliveries(stuck.id, { limit: 10 })).items;
    expect(stuckLog.map((delivery) => [delivery.state, delivery.attempts]).toSorted()).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
      ['pending', 1],
    ]);
    expect(stuckLog.filter((delivery) => delivery.lastError === 'ETIMEDOUT')).toHaveLength(1);
  }, 30_000);

  it('should not return while an attempt it started is still waiting for its endpoint, when a later page cannot be read', async () => {
    // Prepare: the hanging endpoint's delivery first, then another subscription's whose
    // subscription read fails (a DynamoDB hiccup) when its page comes, one delivery a page.
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
    hanging = await startHangingEndpoint();
    const webhooks = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName: sb.backends.tableName,
      shards: new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      }),
    });
    const stuck = issueWebhook({ url: hanging.url, events: ['*'], description: null }, sb.clock.now());
    const other = issueWebhook(
      { url: `${receiver.url}/hooks`, events: ['*'], description: null },
      sb.clock.now(),
    );
    await webhooks.createSubscription(stuck);
    await webhooks.createSubscription(other);
    for (const [i, subscription] of [stuck, other].entries()) {
      sb.clock.advance(1_000);
      const event = {
        id: `evt_${i + 1}`,
        type: 'message.received',
        occurredAt: sb.clock.now().toISOString(),
        conversationId: 'conv_1',
        sequence: i + 1,
        data: {},
      };
      await webhooks.createDelivery(newDelivery(subscription.id, event, sb.clock.now()));
    }
    const deps = {
      webhooks,
      sender: new HttpWebhookSender({ blockPrivateAddresses: false }),
      clock: sb.clock,
      log: sb.log,
      random: () => 0,
    };
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'GetItemCommand',
      when: 'before',
      match: (input) => JSON.stringify(input.Key).includes(other.id),
    });

    // Act: one run with 3 s for webhooks, one delivery a page.
    const run = await deliverDueWebhooks(deps, { pageSize: 1, budgetMs: 3_000 }).then(
      () => 'returned',
      (error: Error) => error.name,
    );

    // Assess: the run failed (the page could not be read), but only once the hanging attempt
    // had ended and its outcome was recorded: nothing of it is left running past the run (on
    // AWS, past the handler's return the Lambda is frozen mid-attempt).
    expect(fault.fired).toBe(1);
    expect(run).toBe('InjectedFault');
    expect(hanging.connections()).toBe(1);
    const [attempted] = (await webhooks.listDeliveries(stuck.id, { limit: 10 })).items;
    expect([attempted?.attempts, attempted?.lastError]).toEqual([1, 'ETIMEDOUT']);
  }, 30_000);
});
