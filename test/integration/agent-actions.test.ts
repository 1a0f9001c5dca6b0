import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '#lib/adapters/dynamodb-api-key-store.ts';
import { issueApiKey } from '#lib/domain/api-key.ts';
import { afterCall, countCalls, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { metaFixture } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

type Json = Record<string, unknown>;

describe('the agents acting through the API', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    sb = await startTestSwitchboard();
  });
  afterEach(async () => {
    await sb.stop();
  });

  const act = (path: string, body: unknown, options: { key?: string; token?: string } = {}) =>
    sb.act(path, body, options);

  async function openOne(): Promise<string> {
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    return items[0]?.id as string;
  }

  /** The receipt time of the newest message the API shows for this conversation. */
  async function newestMessageAt(id: string): Promise<string> {
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ createdAt: string }>;
    };
    return messages
      .map((m) => m.createdAt)
      .sort()
      .at(-1) as string;
  }

  async function agentKey(agentName: string): Promise<string> {
    const response = await act(
      '/admin/keys',
      { name: 'Helpdesk', scopes: ['read', 'reply'], agentName },
      { key: '' },
    );
    return ((await response.json()) as { token: string }).token;
  }

  it('should send a signed reply once, end the waiting episode, and replay the first answer to a retry', async () => {
    // Prepare
    const id = await openOne();
    const token = await agentKey('Anna Kowalska');
    sb.clock.advance(20 * 60_000);

    // Act
    const first = await act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1', token },
    );
    const retry = await act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1', token },
    );
    const reused = await act(
      `/conversations/${id}/replies`,
      { text: 'Coś innego' },
      { key: 'reply-1', token },
    );

    // Assess
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual(await first.clone().json());
    expect(reused.status).toBe(422);
    const outbox = await sb.outbox();
    expect(outbox.map((entry) => entry.text)).toHaveLength(2);
    expect(outbox[1]?.text).toBe('Paczka wyszła dziś rano.\nAnna Kowalska, tel. 22 123 45 67');
    const { conversation, messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Json;
      messages: Json[];
    };
    expect(conversation.firstReplyAt).toBe(sb.clock.now().toISOString());
    expect(messages.map((m) => m.kind)).toEqual(['message', 'ack', 'reply']);
    expect((await sb.events()).map((event) => event.type)).toContain('reply.sent');
  });

  // Found at stop 25: a key whose person the configuration does not list (created before keys
  // were checked, or the person since removed) sent replies signed with the name alone.
  it('should refuse with 422 a reply through a key whose person is not listed, sending nothing', async () => {
    // Prepare: a key stored for someone the configuration does not list
    const id = await openOne();
    const { key, token } = issueApiKey(
      { name: 'Old helpdesk', scopes: ['read', 'reply'], agentName: 'Zofia Zielińska', agentId: 'zofia' },
      sb.clock.now(),
    );
    await new DynamoDbApiKeyStore({ client: sb.backends.dynamodb, tableName: sb.backends.tableName }).create(
      key,
    );
    sb.clock.advance(20 * 60_000);

    // Act
    const response = await act(`/conversations/${id}/replies`, { text: 'Paczka wyszła.' }, { token });

    // Assess: the fix is named; the customer got nothing unsigned and still waits
    expect(response.status).toBe(422);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('AGENT_NOT_LISTED');
    expect(error.message).toContain('"Zofia Zielińska"');
    expect(error.message).toContain('people.agents');
    expect(await sb.outbox()).toHaveLength(1);
    const { conversation } = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Json;
    };
    expect(conversation.firstReplyAt).toBeUndefined();
  });

  it("should not send a stored reply again when the agents' tool retries after the request died", async () => {
    // Prepare: a customer waiting; the reply's conversation write fails once (the request dies
    // after the reply was sent and stored)
    const id = await openOne();
    await sb.postSms({ From: '+48601234567', Body: 'Halo?' });
    sb.clock.advance(20 * 60_000);
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });

    // Act: the tool retries with the same key, as the error asks
    const died = await act(`/conversations/${id}/replies`, { text: 'Już sprawdzam.' }, { key: 'reply-once' });
    const retried = await act(
      `/conversations/${id}/replies`,
      { text: 'Już sprawdzam.' },
      { key: 'reply-once' },
    );

    // Assess: sent once, stored once, and the waiting episode ended
    expect(crash.fired).toBe(1);
    expect([died.status, retried.status]).toEqual([500, 201]);
    const replies = (await sb.outbox()).filter((entry) => entry.text?.startsWith('Już sprawdzam.'));
    expect(replies).toHaveLength(1);
    const messages = await sb.runtime.store.listMessages(id, { limit: 1_000 });
    expect(messages.filter((m) => m.kind === 'reply')).toHaveLength(1);
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.awaitingSince).toBeNull();
    expect(conversation?.lastReplyAt).toBe(sb.clock.now().toISOString());
  });

  it('should refuse another body under the key of a request that died (422), and still let its own retry through', async () => {
    // Prepare: a customer waiting; the first reply is sent and stored, then its request dies (500)
    const id = await openOne();
    sb.clock.advance(20 * 60_000);
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('PMID#'),
    });
    const died = await act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła wczoraj.' },
      { key: 'k-1' },
    );

    // Act: the tool sends another text under the same key, then retries the first
    const other = await act(
      `/conversations/${id}/replies`,
      { text: 'Przepraszam, jednak dziś.' },
      { key: 'k-1' },
    );
    const retried = await act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła wczoraj.' },
      { key: 'k-1' },
    );

    // Assess: the other text is refused, not answered 201 with the first one; the first is sent once
    expect(crash.fired).toBe(1);
    expect([died.status, other.status, retried.status]).toEqual([500, 422, 201]);
    const sent = (await sb.outbox()).map((entry) => entry.text ?? '');
    expect(sent.filter((text) => text.startsWith('Paczka wyszła wczoraj.'))).toHaveLength(1);
    expect(sent.some((text) => text.startsWith('Przepraszam'))).toBe(false);
  });

  it('should refuse an acting call without an Idempotency-Key, and a read-only key', async () => {
    // Prepare
    const id = await openOne();
    const readOnly = await act('/admin/keys', { name: 'Reports', scopes: ['read'] }, { key: '' });
    const { token } = (await readOnly.json()) as { token: string };

    // Act
    const withoutKey = await act(`/conversations/${id}/replies`, { text: 'Hej' }, { key: '' });
    const forbidden = await act(`/conversations/${id}/replies`, { text: 'Hej' }, { token });

    // Assess
    expect(withoutKey.status).toBe(400);
    expect(forbidden.status).toBe(403);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should answer 404 to an action on a malformed or overlong id, and keep no idempotency record of it', async () => {
    // Prepare: an idempotency record's key holds the path, and DynamoDB's keys end at 2 KB
    const records = countCalls(sb.backends.dynamodb, 'PutItemCommand', pkStartsWith('IDEM#'));

    // Act
    const overlong = await act(`/conversations/${'x'.repeat(3_000)}/notes`, { text: 'Notatka' });
    const malformed = await act('/conversations/conv_nope/replies', { text: 'Hej' });
    const elsewhere = await sb.runtime.app.request(`/api/conversations/${'x'.repeat(3_000)}/notes`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'idempotency-key': crypto.randomUUID() },
    });

    // Assess
    expect([overlong.status, malformed.status, elsewhere.status]).toEqual([404, 404, 404]);
    expect(records.count).toBe(0);
    expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('should answer 409 instead of failing at the provider outside the messaging window', async () => {
    // Prepare: Messenger lets a person reply for 7 days (HUMAN_AGENT; 24 hours before stop 23)
    await sb.postMeta(metaFixture('messenger-text'));
    await sb.drain();
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    sb.clock.advance(7 * 24 * 60 * 60_000 + 60 * 60_000);

    // Act
    const response = await act(`/conversations/${items[0]?.id}/replies`, { text: 'Przepraszamy za zwłokę' });

    // Assess
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('OUTSIDE_WINDOW');
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should land two agents replying at the same moment, both, in order', async () => {
    // Prepare
    const id = await openOne();

    // Act
    const [a, b] = await Promise.all([
      act(`/conversations/${id}/replies`, { text: 'Pierwsza odpowiedź' }),
      act(`/conversations/${id}/replies`, { text: 'Druga odpowiedź' }),
    ]);

    // Assess
    expect([a?.status, b?.status]).toEqual([201, 201]);
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: Json[] };
    expect(messages.filter((m) => m.kind === 'reply')).toHaveLength(2);
  });

  it('should not resolve when the customer wrote after the newest message the agent saw, and resolve once nothing new came', async () => {
    // Prepare: the agent saw the conversation; then the customer wrote again
    const id = await openOne();
    const seen = await newestMessageAt(id);
    sb.clock.advance(60_000);
    await sb.postSms({ From: '+48601234567', Body: 'Jeszcze jedno, ważne!' });

    // Act
    const refused = await act(`/conversations/${id}/resolve`, { seenUntil: seen });
    const afterRefusal = await sb.runtime.store.getConversation(id);
    const resolved = await act(`/conversations/${id}/resolve`, { seenUntil: await newestMessageAt(id) });

    // Assess
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CUSTOMER_WROTE');
    expect(afterRefusal?.status).toBe('open');
    expect(afterRefusal?.awaitingSince).not.toBeNull();
    expect(resolved.status).toBe(200);
    expect((await sb.runtime.store.getConversation(id))?.status).toBe('resolved');
  });

  it('should keep a message applied between the resolve reading the conversation and writing it', async () => {
    // Prepare: the customer's message lands right after the resolve read the conversation
    const id = await openOne();
    const seen = await newestMessageAt(id);
    sb.clock.advance(60_000);
    let webhook = 0;
    const read = afterCall(
      sb.backends.dynamodb,
      { command: 'GetItemCommand', match: pkStartsWith('CONTACT#') },
      async () => {
        webhook = (await sb.postSms({ From: '+48601234567', Body: 'Chwileczkę, jeszcze pytanie' })).status;
      },
    );

    // Act
    const refused = await act(`/conversations/${id}/resolve`, { seenUntil: seen });
    await sb.drain();

    // Assess: the resolve's write lost its race, read again and found the new message
    expect(read.fired).toBe(true);
    expect([webhook, refused.status]).toEqual([200, 409]);
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.status).toBe('open');
    expect(conversation?.awaitingSince).not.toBeNull();
  });

  it('should answer 400 to a resolve whose seenUntil is not a time', async () => {
    // Prepare
    const id = await openOne();

    // Act
    const response = await act(`/conversations/${id}/resolve`, { seenUntil: 'yesterday' });

    // Assess
    expect(response.status).toBe(400);
    expect((await sb.runtime.store.getConversation(id))?.status).toBe('open');
  });

  it('should resolve harmlessly twice, and open a new conversation for the next message', async () => {
    // Prepare
    const id = await openOne();

    // Act
    const first = await act(`/conversations/${id}/resolve`, undefined);
    const second = await act(`/conversations/${id}/resolve`, undefined);
    sb.clock.advance(2 * 60 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'Jeszcze jedno' });
    await sb.drain();

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    const resolved = (await (await sb.api('/api/conversations?status=resolved')).json()) as { items: Json[] };
    const open = (await (await sb.api('/api/conversations?status=open')).json()) as { items: Json[] };
    expect(resolved.items.map((c) => c.id)).toEqual([id]);
    expect(open.items).toHaveLength(1);
    expect(open.items[0]?.id).not.toBe(id);
  });

  it('should not acknowledge a contact again within the hour after a resolve, and again after it, with no contact write by the worker', async () => {
    // Prepare: the first conversation acknowledged (the worker writes no contact), then resolved
    const contactWrites = countCalls(sb.backends.dynamodb, 'UpdateItemCommand', pkStartsWith('CONTACT#'));
    const first = await openOne();
    const writesBeforeResolve = contactWrites.count;
    await act(`/conversations/${first}/resolve`, undefined);

    // Act: a new conversation 20 minutes later, and another one 2 hours later
    sb.clock.advance(20 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'Jeszcze jedno pytanie' });
    await sb.drain();
    const soon = (await (await sb.api('/api/conversations?status=open')).json()) as {
      items: Array<{ id: string; ack: { state: string; reason?: string } | null }>;
    };
    await act(`/conversations/${soon.items[0]?.id}/resolve`, undefined);
    sb.clock.advance(2 * 60 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'I jeszcze jedno' });
    await sb.drain();
    const later = (await (await sb.api('/api/conversations?status=open')).json()) as {
      items: Array<{ ack: { state: string } | null }>;
    };

    // Assess: the claim and nothing else before the resolve; one ack, none, then one
    expect(writesBeforeResolve).toBe(1);
    expect(soon.items[0]?.ack).toMatchObject({ state: 'skipped', reason: 'recently-acknowledged' });
    expect(later.items[0]?.ack).toMatchObject({ state: 'sent' });
    const acks = (await sb.outbox()).filter((entry) => entry.to === '+48601234567');
    expect(acks).toHaveLength(2);
  });

  it('should reopen a resolved conversation, point the contact at it, and list it once', async () => {
    // Prepare
    const id = await openOne();
    await act(`/conversations/${id}/resolve`, undefined);

    // Act: reopened, resolved and reopened again; then the customer writes
    const first = await act(`/conversations/${id}/reopen`, undefined);
    await act(`/conversations/${id}/resolve`, undefined);
    const second = await act(`/conversations/${id}/reopen`, undefined);
    await sb.postSms({ From: '+48601234567', Body: 'Dziękuję, jeszcze pytanie' });

    // Assess: the message joins the reopened conversation; the contact lists it once
    expect([first.status, second.status]).toEqual([200, 200]);
    const contact = await sb.runtime.store.getContact('phone:+48601234567');
    expect(contact?.openConversationId).toBe(id);
    expect(contact?.conversationIds).toEqual([id]);
    const open = (await (await sb.api('/api/conversations?status=open')).json()) as { items: Json[] };
    expect(open.items.map((c) => c.id)).toEqual([id]);
  });

  it('should refuse to reopen while the contact has another open conversation', async () => {
    // Prepare
    const id = await openOne();
    await act(`/conversations/${id}/resolve`, undefined);
    sb.clock.advance(2 * 60 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'Nowa sprawa' });

    // Act
    const response = await act(`/conversations/${id}/reopen`, undefined);

    // Assess
    expect(response.status).toBe(409);
  });

  it('should assign and keep internal notes that are never sent', async () => {
    // Prepare
    const id = await openOne();

    // Act
    const assigned = await act(`/conversations/${id}/assign`, { assignee: 'anna' });
    const note = await act(`/conversations/${id}/notes`, { text: 'Klient VIP, oddzwonić.' });
    const invalid = await act(`/conversations/${id}/assign`, { who: 'anna' });

    // Assess
    expect([assigned.status, note.status, invalid.status]).toEqual([200, 201, 400]);
    expect(await sb.outbox()).toHaveLength(1);
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: Json[] };
    expect(messages.map((m) => m.kind)).toContain('note');
    expect((await sb.events()).map((event) => event.type)).toContain('conversation.assigned');
  });
});
