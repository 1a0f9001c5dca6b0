import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** Counts the DynamoDB writes the client sends; `crashAfter` fails the N-th one after it applied. */
function writeTap(client: DynamoDBClient, crashAfter?: number) {
  let writes = 0;
  const name = `tap-${Math.random()}`;
  const stack = client.middlewareStack as unknown as {
    add(middleware: unknown, options: { step: string; name: string }): void;
    remove(name: string): boolean;
  };
  stack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        if (!WRITES.has(context.commandName ?? '')) return next(args);
        writes++;
        const result = await next(args);
        if (writes === crashAfter) throw new Error(`crash after write ${writes}`);
        return result;
      },
    { step: 'initialize', name },
  );
  return { count: () => writes, remove: () => stack.remove(name) };
}

describe('a crash after each single write of recording a message', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should be finished by the provider retry or the sweeper: one message, one ack, every time', async () => {
    // Prepare: how many writes one new customer's first message takes.
    sb = await startTestSwitchboard();
    const probe = writeTap(sb.backends.dynamodb);
    await sb.postSms({ From: '+48601999999' });
    const writes = probe.count();
    probe.remove();
    await sb.stop();

    for (let crashAfter = 1; crashAfter <= writes; crashAfter++) {
      sb = await startTestSwitchboard();
      const sid = twilioSid('SM');
      const tap = writeTap(sb.backends.dynamodb, crashAfter);

      // Act: the webhook dies after write N; Twilio retries; the worker and the sweeper run.
      const first = await sb.postSms({ MessageSid: sid, From: '+48601234567' });
      tap.remove();
      const retry = await sb.postSms({ MessageSid: sid, From: '+48601234567' });
      await sb.drain();
      sb.clock.advance(5 * 60_000);
      await sweep(sb.runtime.sweepDeps);
      await sb.drain();

      // Assess
      // A write of the record itself fails the webhook (500, so Twilio retries); one made while
      // delivering events does not (they stay in the outbox for the sweeper).
      expect([200, 500]).toContain(first.status);
      if (crashAfter <= 3) expect([crashAfter, first.status]).toEqual([crashAfter, 500]);
      expect([crashAfter, retry.status]).toEqual([crashAfter, 200]);
      const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 10 });
      expect([crashAfter, items.length]).toEqual([crashAfter, 1]);
      const messages = await sb.runtime.store.listMessages(items[0]?.id as string, { limit: 1_000 });
      expect([crashAfter, messages.map((m) => m.kind)]).toEqual([crashAfter, ['message', 'ack']]);
      expect([crashAfter, (await sb.outbox()).length]).toEqual([crashAfter, 1]);
      if (crashAfter < writes) await sb.stop();
    }
    // The contact claim, the message and the conversation at least (then the events' writes).
    expect(writes).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('should answer 5xx while DynamoDB is down, write nothing, and store once when it is back', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const sid = twilioSid('SM');
    const stack = sb.backends.dynamodb.middlewareStack as unknown as {
      add(middleware: unknown, options: { step: string; name: string }): void;
      remove(name: string): boolean;
    };
    stack.add(
      () => async () => {
        throw Object.assign(new Error('Service unavailable'), {
          name: 'ServiceUnavailable',
          $fault: 'server',
        });
      },
      { step: 'initialize', name: 'down' },
    );

    // Act
    const during = await sb.postSms({ MessageSid: sid, From: '+48601234567' });
    stack.remove('down');
    const after = await sb.postSms({ MessageSid: sid, From: '+48601234567' });
    await sb.drain();

    // Assess
    expect(during.status).toBe(500);
    expect(await during.text()).not.toMatch(/ServiceUnavailable|at .+\.ts/);
    expect(after.status).toBe(200);
    expect(await sb.outbox()).toHaveLength(1);
  });
});
