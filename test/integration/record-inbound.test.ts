import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countCalls, injectFault, pkStartsWith, returnItemOnFailedCondition } from '#test/support/faults.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

type ApiConversation = {
  id: string;
  status: string;
  contact: { key: string; channels: string[] };
  channel: string;
  replyBy: string;
  ack: { state: string; reason?: string; sentAt?: string };
};
type ApiMessage = {
  id: string;
  direction: string;
  kind: string;
  text: string;
  providerMessageId: string | null;
};

async function openConversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  const response = await sb.api('/api/conversations?status=open&limit=100');
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: ApiConversation[] }).items;
}

async function detail(sb: TestSwitchboard, id: string) {
  const response = await sb.api(`/api/conversations/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { conversation: ApiConversation; messages: ApiMessage[] };
}

describe('recordInbound and the ack worker against the embedded DynamoDB and SQS', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    sb = await startTestSwitchboard();
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('should turn one SMS into one conversation and one acknowledgement in the outbox', async () => {
    // Prepare: Wednesday 25 November 2026, 10:00 in Warsaw.
    // Act
    const response = await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie jest moja paczka?' });
    const handled = await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    expect(await response.text()).toContain('<Response/>');
    expect(handled).toBe(1);
    const [conversation, ...others] = await openConversations(sb);
    expect(others).toHaveLength(0);
    expect(conversation?.contact.key).toBe('phone:+48601234567');
    expect(conversation?.channel).toBe('sms');
    expect(conversation?.ack.state).toBe('sent');
    expect(conversation?.replyBy).toMatch(/^2026-11-2\dT\d\d:\d\d:00\.000\+01:00$/);
    const outbox = await sb.outbox();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]?.to).toBe('+48601234567');
    expect(outbox[0]?.text).toMatch(/\d\d:\d\d/);
    const { messages } = await detail(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:ack']);
    expect(messages[1]?.text).toBe(outbox[0]?.text);
  });

  it('should store five concurrent copies of one message once and acknowledge once', async () => {
    // Prepare
    const sid = twilioSid('SM');

    // Act
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => sb.postSms({ MessageSid: sid, SmsSid: sid })),
    );
    await sb.drain();

    // Assess
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const conversations = await openConversations(sb);
    expect(conversations).toHaveLength(1);
    const { messages } = await detail(sb, conversations[0]?.id as string);
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(1);
    expect(messages.filter((m) => m.kind === 'ack')).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should open one conversation with one ack when a new contact sends several messages at once', async () => {
    // Act
    await Promise.all(
      ['Dzień dobry', 'Mam pytanie', 'o zamówienie 123', 'Pilne!'].map((Body) =>
        sb.postSms({ From: '+48601000001', Body }),
      ),
    );
    await sb.drain();

    // Assess
    const conversations = await openConversations(sb);
    expect(conversations).toHaveLength(1);
    const { messages } = await detail(sb, conversations[0]?.id as string);
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(4);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should send no second ack for a second message in the same waiting episode', async () => {
    // Act
    await sb.postSms({ From: '+48601000002', Body: 'Pierwsza wiadomość' });
    await sb.drain();
    sb.clock.advance(10 * 60_000);
    await sb.postSms({ From: '+48601000002', Body: 'Druga wiadomość' });
    await sb.drain();

    // Assess
    const [conversation] = await openConversations(sb);
    const { messages } = await detail(sb, conversation?.id as string);
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    expect(messages.filter((m) => m.kind === 'ack')).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should find the open conversation with one contact write on a follow-up, and read the contact only where the store does not return it', async () => {
    // Prepare: a first message opened a conversation.
    await sb.postSms({ From: '+48601000009', Body: 'Pierwsza wiadomość' });
    await sb.drain();
    const contactReads = countCalls(sb.backends.dynamodb, 'GetItemCommand', pkStartsWith('CONTACT#'));
    const claims = countCalls(sb.backends.dynamodb, 'UpdateItemCommand', pkStartsWith('CONTACT#'));

    // Act: a follow-up on dynalite (no item on a failed condition), then one as on DynamoDB.
    await sb.postSms({ From: '+48601000009', Body: 'Druga wiadomość' });
    const onDynalite = { reads: contactReads.count, claims: claims.count };
    const reader = new DynamoDBClient({
      region: 'eu-central-1',
      endpoint: sb.backends.dynamoDbEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const undo = returnItemOnFailedCondition(sb.backends.dynamodb, reader);
    await sb.postSms({ From: '+48601000009', Body: 'Trzecia wiadomość' });
    undo();
    reader.destroy();
    await sb.drain();

    // Assess: each follow-up tried the claim once; only the dynalite one needed a read after it.
    expect(onDynalite).toEqual({ reads: 1, claims: 1 });
    expect({ reads: contactReads.count, claims: claims.count }).toEqual({ reads: 1, claims: 2 });
    const [conversation, ...others] = await openConversations(sb);
    expect(others).toHaveLength(0);
    const { messages } = await detail(sb, conversation?.id as string);
    // Same clock instant for all three: compared as a set.
    expect(
      messages
        .filter((m) => m.direction === 'inbound')
        .map((m) => m.text)
        .sort(),
    ).toEqual(['Druga wiadomość', 'Pierwsza wiadomość', 'Trzecia wiadomość']);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it("should keep a contact's last 100 conversations, trimming 50 at a time, however many it had", async () => {
    // Prepare: a contact that has had 150 conversations (an alerting system texting support).
    const key = 'phone:+48601000011';
    await sb.runtime.store.setConsent(key, false, sb.clock.now());
    const old = Array.from({ length: 150 }, (_, i) => `conv_old${String(i).padStart(22, '0')}`);
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
        UpdateExpression: 'SET conversationIds = :ids',
        ExpressionAttributeValues: marshall({ ':ids': old }),
      }),
    );
    const trims = countCalls(sb.backends.dynamodb, 'UpdateItemCommand', pkStartsWith('CONTACT#'));

    // Act: its 151st conversation opens.
    await sb.postSms({ From: '+48601000011', Body: 'ALERT disk full' });
    const afterFirst = trims.count;
    const contact = await sb.runtime.store.getContact(key);
    const shown = await sb.api(`/api/contacts/${encodeURIComponent(key)}`);

    // Assess: the claim and one trim; the newest 100 kept, oldest first.
    expect(afterFirst).toBe(2);
    expect(contact?.conversationIds).toHaveLength(100);
    expect(contact?.conversationIds.slice(0, 99)).toEqual(old.slice(51));
    expect(contact?.conversationIds.at(-1)).toBe(contact?.openConversationId);
    expect(shown.status).toBe(200);
    expect(
      ((await shown.json()) as { conversations: { id: string }[] }).conversations.map((c) => c.id),
    ).toEqual([contact?.openConversationId]);
  });

  it('should complete the record by the worker and the provider retry after a crash between the message and the conversation writes', async () => {
    // Prepare: the conversation write never happens (the process dies right after the message write).
    const sid = twilioSid('SM');
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });

    // Act
    const first = await sb.postSms({ MessageSid: sid, From: '+48601000003' });
    const retry = await sb.postSms({ MessageSid: sid, From: '+48601000003' });
    await sb.drain();

    // Assess
    expect(fault.fired).toBe(1);
    // Twilio never posts again after a 5xx by default: the webhook was queued for the worker
    // (stop 24), and the retry Twilio's connection overrides may send changes nothing.
    expect(first.status).toBe(200);
    expect(await first.text()).not.toMatch(/at .*\.ts/);
    expect(retry.status).toBe(200);
    const conversations = await openConversations(sb);
    expect(conversations).toHaveLength(1);
    const { messages } = await detail(sb, conversations[0]?.id as string);
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should complete the record on retry when the conversation write applied but its answer was lost', async () => {
    // Prepare
    const sid = twilioSid('SM');
    injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'after',
      match: pkStartsWith('CONV#'),
    });

    // Act
    const first = await sb.postSms({ MessageSid: sid, From: '+48601000004' });
    const retry = await sb.postSms({ MessageSid: sid, From: '+48601000004' });
    await sb.drain();

    // Assess
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(await openConversations(sb)).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should let the sweeper deliver the ack once when the queue send was lost after the DynamoDB writes', async () => {
    // Prepare: SQS is down for the webhook's one send.
    const fault = injectFault(sb.backends.sqs, { command: 'SendMessageCommand', when: 'before' });

    // Act
    const response = await sb.postSms({ From: '+48601000005' });
    await sb.drain();
    const before = await sb.outbox();
    const { items: early } = await sb.runtime.sweepDeps.store.dueForSweep(sb.clock.now(), 10);
    sb.clock.advance(sb.config.ack.graceMs + 1_000);
    const swept = await import('#lib/use-cases/sweep.ts').then(({ sweep }) => sweep(sb.runtime.sweepDeps));
    await sb.drain();
    sb.clock.advance(sb.config.ack.graceMs + 1_000);
    const again = await import('#lib/use-cases/sweep.ts').then(({ sweep }) => sweep(sb.runtime.sweepDeps));

    // Assess
    expect(fault.fired).toBe(1);
    expect(response.status).toBe(200);
    expect(before).toHaveLength(0);
    expect(early).toHaveLength(0);
    expect(swept.requeued).toBe(1);
    expect(await sb.outbox()).toHaveLength(1);
    expect(again.requeued).toBe(0);
    expect(sb.log.lines.some((line) => line.message.includes('sweeper will retry'))).toBe(true);
  });

  it('should list open conversations newest first and page through them with a cursor', async () => {
    // Prepare
    for (let i = 0; i < 5; i++) {
      await sb.postSms({ From: `+4860100010${i}`, Body: `Wiadomość ${i}` });
      sb.clock.advance(60_000);
    }

    // Act
    const first = await sb.api('/api/conversations?status=open&limit=2');
    const firstPage = (await first.json()) as { items: ApiConversation[]; nextCursor: string | null };
    const second = await sb.api(`/api/conversations?status=open&limit=2&cursor=${firstPage.nextCursor}`);
    const secondPage = (await second.json()) as { items: ApiConversation[]; nextCursor: string | null };
    const third = await sb.api(`/api/conversations?status=open&limit=2&cursor=${secondPage.nextCursor}`);
    const thirdPage = (await third.json()) as { items: ApiConversation[]; nextCursor: string | null };

    // Assess
    const keys = [...firstPage.items, ...secondPage.items, ...thirdPage.items].map((c) => c.contact.key);
    expect(keys).toEqual([4, 3, 2, 1, 0].map((i) => `phone:+4860100010${i}`));
    expect(firstPage.nextCursor).not.toBeNull();
    expect(thirdPage.items).toHaveLength(1);
  });

  it('should reject a tampered cursor with 400 and an unknown conversation with 404', async () => {
    // Act
    const badCursor = await sb.api(
      `/api/conversations?cursor=${Buffer.from('{"pk":"CONTACT#x"}').toString('base64url')}`,
    );
    const unknown = await sb.api('/api/conversations/conv_0000000000000000000000000a');

    // Assess
    expect(badCursor.status).toBe(400);
    expect(((await badCursor.json()) as { error: { code: string } }).error.code).toBe('INVALID_CURSOR');
    expect(unknown.status).toBe(404);
  });
});
