import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardCount } from '#lib/adapters/dynamodb-shards.ts';
import { DynamoDbWebhookStore } from '#lib/adapters/dynamodb-webhook-store.ts';
import { newId } from '#lib/domain/ids.ts';
import { inboundSms } from '#test/support/messages.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

/**
 * A deployment changing under running code: for minutes of a rolling deploy, instances of the
 * older release serve and drain queues beside the newer one, and after a rollback the older
 * release reads what the newer one wrote. Each test writes an item as a newer release would (a
 * field or a value this release does not know) and lets this release work on it.
 */
describe('items a newer release wrote', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  const rawItem = async (pk: string, sk: string) => {
    const { Item } = await sb.backends.dynamodb.send(
      new GetItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk, sk }),
        ConsistentRead: true,
      }),
    );
    return Item ? unmarshall(Item) : null;
  };

  const setRaw = (pk: string, sk: string, update: string, values: Record<string, unknown>) =>
    sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk, sk }),
        UpdateExpression: update,
        ExpressionAttributeValues: marshall(values),
      }),
    );

  it('should keep the fields a newer release wrote on a conversation through every write of this one', async () => {
    // Prepare: a waiting customer, and the fields a newer release added to the item.
    sb = await startTestSwitchboard();
    await sb.postSms({ Body: 'Dzień dobry, kiedy otwieracie?' });
    const { id } = await sb.onlyOpenConversation();
    await setRaw(
      `CONV#${id}`,
      'CONV',
      'SET snoozedUntil = :snoozed, ack.channelHint = :hint, route.carrier = :carrier',
      { ':snoozed': '2026-11-26T09:00:00.000Z', ':hint': 'rcs', ':carrier': 'orange-pl' },
    );

    // Act: this release claims and sends the ack and an agent replies; then the customer writes
    // again (a new episode: its ack and route are new values of this release's making).
    await sb.drain();
    const reply = await sb.act(`/conversations/${id}/replies`, { text: 'Otwieramy o 9.' });
    const afterReply = await rawItem(`CONV#${id}`, 'CONV');
    sb.clock.advance(3_600_000);
    await sb.postSms({ Body: 'I jeszcze jedno pytanie', MessageSid: twilioSid('SM') });
    await sb.drain();

    // Assess
    expect(reply.status).toBe(201);
    expect(afterReply?.version).toBeGreaterThanOrEqual(3);
    expect(afterReply?.snoozedUntil).toBe('2026-11-26T09:00:00.000Z');
    expect(afterReply?.ack?.state).toBe('sent');
    expect(afterReply?.ack?.channelHint).toBe('rcs');
    expect(afterReply?.route?.carrier).toBe('orange-pl');
    const later = await rawItem(`CONV#${id}`, 'CONV');
    expect(later?.episode).toBe(2);
    expect(later?.snoozedUntil).toBe('2026-11-26T09:00:00.000Z');
  });

  it('should keep the fields a newer release wrote on a message it moves to another conversation', async () => {
    // Prepare: a stored message, and a field a newer release added to it
    sb = await startTestSwitchboard();
    const message = inboundSms('msg_moved', '2026-11-25T09:00:00.000Z', { conversationId: 'conv_old' });
    await sb.runtime.store.putMessage(message);
    await setRaw('MSG#msg_moved', 'MSG', 'SET spamScore = :score', { ':score': 0.1 });

    // Act
    const moved = await sb.runtime.store.repointMessage('msg_moved', 'conv_old', 'conv_new');

    // Assess
    expect(moved.conversationId).toBe('conv_new');
    const item = await rawItem('MSG#msg_moved', 'MSG');
    expect(item?.conversationId).toBe('conv_new');
    expect(item?.gsi1pk).toBe('CONV#conv_new');
    expect(item?.spamScore).toBe(0.1);
    expect((await sb.runtime.store.listMessages('conv_new', { limit: 10 })).map((m) => m.id)).toEqual([
      'msg_moved',
    ]);
  });

  it('should keep the fields a newer release wrote on a webhook delivery through an attempt', async () => {
    // Prepare: a pending delivery, and a field a newer release added to it
    sb = await startTestSwitchboard();
    const store = new DynamoDbWebhookStore({
      client: sb.backends.dynamodb,
      tableName: sb.backends.tableName,
      shards: new ShardCount({
        client: sb.backends.dynamodb,
        tableName: sb.backends.tableName,
        configured: sb.config.aws.indexShards,
      }),
    });
    const at = '2026-11-25T09:00:00.000Z';
    await store.createDelivery({
      id: 'whd_future',
      subscriptionId: newId('wh', new Date(at)),
      eventId: 'evt_1',
      eventType: 'message.received',
      occurredAt: at,
      body: '{}',
      replayId: null,
      state: 'pending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      lastAttemptAt: null,
      nextAttemptAt: at,
      deliveredAt: null,
      createdAt: at,
      version: 0,
    });
    await setRaw('WHDELIVERY#whd_future', 'WHDELIVERY', 'SET attemptLog = :log', { ':log': ['503'] });

    // Act: an attempt that failed, recorded by this release
    const read = await store.getDelivery('whd_future');
    const saved =
      read && (await store.saveDelivery({ ...read, attempts: 1, lastStatus: 503, lastAttemptAt: at }));

    // Assess
    expect(saved?.attempts).toBe(1);
    const item = await rawItem('WHDELIVERY#whd_future', 'WHDELIVERY');
    expect(item?.attempts).toBe(1);
    expect(item?.attemptLog).toEqual(['503']);
  });
});
