import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '#lib/adapters/dynamodb-api-key-store.ts';
import { DynamoDbRateLimiter } from '#lib/adapters/dynamodb-rate-limiter.ts';
import { hashSecret, issueApiKey } from '#lib/domain/api-key.ts';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { type AuthEnv, authenticate, requireScope } from '#lib/http/auth.ts';
import { apiGatewayClientAddress } from '#lib/http/client-address.ts';
import { FailedLogins } from '#lib/http/failed-logins.ts';
import { PROJECT_ROOT } from '#lib/local/paths.ts';
import { startNpmStart } from '#test/support/npm-start-process.ts';
import { memoryLog } from '#test/support/silent-log.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

type CreatedKey = {
  id: string;
  token: string;
  name: string;
  scopes: string[];
  agentName: string | null;
  agentId: string | null;
  createdAt: string;
};
type ListedKey = Omit<CreatedKey, 'token'> & { lastUsedAt: string | null; revokedAt: string | null };

describe('API keys (the agents’ side)', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  function call(token: string | null, method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return Promise.resolve(
      sb.runtime.app.request(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    );
  }

  async function createKey(body: Record<string, unknown>): Promise<CreatedKey> {
    const response = await call(TEST_API_TOKEN, 'POST', '/api/admin/keys', body);
    expect(response.status).toBe(201);
    return (await response.json()) as CreatedKey;
  }

  async function listed(id: string): Promise<ListedKey | undefined> {
    const response = await call(TEST_API_TOKEN, 'GET', '/api/admin/keys');
    const { items } = (await response.json()) as { items: ListedKey[] };
    return items.find((key) => key.id === id);
  }

  async function storedItem(id: string): Promise<Record<string, unknown>> {
    const result = await sb.backends.dynamodb.send(
      new GetItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `APIKEY#${id}` }, sk: { S: 'APIKEY' } },
        ConsistentRead: true,
      }),
    );
    return unmarshall(result.Item ?? {});
  }

  it('should create a key, let it read, list it without secrets, revoke it, then refuse it', async () => {
    // Prepare
    const created = await createKey({
      name: 'Helpdesk',
      scopes: ['read', 'reply'],
      agentName: 'Anna Kowalska',
    });

    // Act
    const used = await call(created.token, 'GET', '/api/conversations');
    const listing = await call(TEST_API_TOKEN, 'GET', '/api/admin/keys');
    const listingText = await listing.clone().text();
    const revoked = await call(TEST_API_TOKEN, 'DELETE', `/api/admin/keys/${created.id}`);
    const again = await call(TEST_API_TOKEN, 'DELETE', `/api/admin/keys/${created.id}`);
    const afterRevoke = await call(created.token, 'GET', '/api/conversations');

    // Assess
    expect(created).toEqual({
      id: expect.stringMatching(/^key_[0-9a-z]{26}$/),
      token: expect.stringMatching(/^sbk_key_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/),
      name: 'Helpdesk',
      scopes: ['read', 'reply'],
      agentName: 'Anna Kowalska',
      agentId: 'anna',
      createdAt: sb.clock.now().toISOString(),
    });
    expect(used.status).toBe(200);
    expect(listing.status).toBe(200);
    expect(listingText).not.toContain(created.token.slice(-43));
    expect(listingText).not.toContain('secretHash');
    expect(listingText).not.toContain('token');
    expect(await listed(created.id)).toEqual({
      id: created.id,
      name: 'Helpdesk',
      scopes: ['read', 'reply'],
      agentName: 'Anna Kowalska',
      agentId: 'anna',
      createdAt: created.createdAt,
      lastUsedAt: expect.any(String),
      revokedAt: sb.clock.now().toISOString(),
    });
    expect(revoked.status).toBe(204);
    expect(again.status).toBe(204);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await afterRevoke.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String) },
    });
  });

  it('should list keys newest first', async () => {
    // Prepare
    const older = await createKey({ name: 'Older', scopes: ['read'] });
    sb.clock.advance(1_000);
    const newer = await createKey({ name: 'Newer', scopes: ['read'] });

    // Act
    const response = await call(TEST_API_TOKEN, 'GET', '/api/admin/keys');
    const ids = ((await response.json()) as { items: ListedKey[] }).items.map((key) => key.id);

    // Assess
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    expect(ids.indexOf(older.id)).toBeGreaterThanOrEqual(0);
  });

  it('should page the key listing past 1,000 keys with limit and nextCursor, and refuse a foreign cursor', async () => {
    // Prepare: 1,005 keys written straight to the table, older than every other test's (they
    // sort last, so the other tests' first pages stay theirs).
    const store = new DynamoDbApiKeyStore({ client: sb.backends.dynamodb, tableName: sb.backends.tableName });
    const ids = new Set<string>();
    for (let i = 0; i < 1_005; i += 67) {
      const batch = Array.from({ length: Math.min(67, 1_005 - i) }, (_, j) => {
        const at = new Date(Date.parse('2020-01-01T00:00:00Z') + (i + j) * 1_000);
        return issueApiKey({ name: `Churn ${i + j}`, scopes: ['read'], agentName: null, agentId: null }, at)
          .key;
      });
      for (const key of batch) ids.add(key.id);
      await Promise.all(batch.map((key) => store.create(key)));
    }

    // Act: page through the listing, 500 at a time.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=500&cursor=${encodeURIComponent(cursor)}` : '?limit=500';
      const response = await call(TEST_API_TOKEN, 'GET', `/api/admin/keys${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: ListedKey[]; nextCursor?: string | null };
      seen.push(...page.items.map((key) => key.id));
      cursor = page.nextCursor ?? null;
      pages++;
    } while (cursor && pages < 10);
    const first = (await (await call(TEST_API_TOKEN, 'GET', '/api/admin/keys?limit=2')).json()) as {
      items: ListedKey[];
      nextCursor: string | null;
    };
    const foreign = await call(TEST_API_TOKEN, 'GET', '/api/admin/keys?cursor=eyJmb28iOjF9');
    const tooMany = await call(TEST_API_TOKEN, 'GET', '/api/admin/keys?limit=501');

    // Assess: every key once, the oldest (first written) last; a page of 2 says where to go on.
    expect(seen.filter((id) => ids.has(id))).toHaveLength(1_005);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe([...ids][0]);
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect([foreign.status, tooMany.status]).toEqual([400, 400]);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('INVALID_CURSOR');
  }, 60_000);

  it('should answer 403 naming the scope a valid key lacks', async () => {
    // Prepare
    const replier = await createKey({ name: 'Replies only', scopes: ['reply'] });
    const reader = await createKey({ name: 'Reader', scopes: ['read'] });

    // Act
    const read = await call(replier.token, 'GET', '/api/conversations');
    const readOne = await call(replier.token, 'GET', '/api/conversations/conv_00000000000000000000000000');
    const admin = await call(reader.token, 'GET', '/api/admin/keys');
    const create = await call(reader.token, 'POST', '/api/admin/keys', { name: 'x', scopes: ['admin'] });

    // Assess
    expect(await read.json()).toEqual({
      error: { code: 'FORBIDDEN', message: expect.any(String), details: { required: 'read' } },
    });
    expect([read.status, readOne.status, admin.status, create.status]).toEqual([403, 403, 403, 403]);
    expect(await admin.json()).toMatchObject({
      error: { code: 'FORBIDDEN', details: { required: 'admin' } },
    });
  });

  // Stop 24: GET /api/contacts?key=… (the key out of the access log's path) reads as much as the path form.
  it('should refuse a contact lookup, by query as by path, to a key without the read scope', async () => {
    // Prepare
    const replier = await createKey({ name: 'Replies only', scopes: ['reply'] });
    const key = encodeURIComponent('phone:+48601234567');

    // Act
    const byQuery = await call(replier.token, 'GET', `/api/contacts?key=${key}`);
    const byPath = await call(replier.token, 'GET', `/api/contacts/${key}`);

    // Assess
    expect([byQuery.status, byPath.status]).toEqual([403, 403]);
  });

  it('should let an admin key manage keys', async () => {
    // Prepare
    const admin = await createKey({ name: 'Ops', scopes: ['admin'] });

    // Act
    const response = await call(admin.token, 'POST', '/api/admin/keys', { name: 'By ops', scopes: ['read'] });

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('should answer 401 with WWW-Authenticate to missing, malformed, unknown and wrong tokens', async () => {
    // Prepare
    const key = await createKey({ name: 'Target', scopes: ['read'] });
    const secret = key.token.slice(-43);
    const wrongSecret = `${key.token.slice(0, -43)}${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const unknownId = `sbk_key_${'0'.repeat(26)}_${secret}`;
    const headers: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-token' },
      { authorization: `Bearer ${TEST_API_TOKEN}x` },
      { authorization: `Bearer ${key.token.slice(0, -1)}` },
      { authorization: `Bearer ${wrongSecret}` },
      { authorization: `Bearer ${unknownId}` },
    ];

    // Act
    const responses = await Promise.all(
      headers.map((h) => sb.runtime.app.request('/api/conversations', { headers: h })),
    );

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    }
    expect(responses[0]?.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('should keep the bootstrap AGENT_API_TOKEN working with every scope', async () => {
    // Act
    const read = await call(TEST_API_TOKEN, 'GET', '/api/conversations');
    const lowerCaseScheme = await sb.runtime.app.request('/api/admin/keys', {
      headers: { authorization: `bearer ${TEST_API_TOKEN}` },
    });

    // Assess
    expect(read.status).toBe(200);
    expect(lowerCaseScheme.status).toBe(200);
  });

  it('should store the hash of the secret and never the token', async () => {
    // Prepare
    const key = await createKey({ name: 'Stored', scopes: ['read'] });
    const secret = key.token.slice(-43);

    // Act
    const item = await storedItem(key.id);

    // Assess
    expect(JSON.stringify(item)).not.toContain(secret);
    expect(JSON.stringify(item)).not.toContain(key.token);
    expect(item).toMatchObject({
      pk: `APIKEY#${key.id}`,
      sk: 'APIKEY',
      gsi1pk: 'APIKEYS',
      gsi1sk: `${key.createdAt}#${key.id}`,
      secretHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('should write lastUsedAt at most once a minute per key', async () => {
    // Prepare
    const key = await createKey({ name: 'Busy tool', scopes: ['read'] });
    const first = sb.clock.now().toISOString();

    // Act
    await call(key.token, 'GET', '/api/conversations');
    const afterFirst = await listed(key.id);
    sb.clock.advance(30_000);
    await call(key.token, 'GET', '/api/conversations');
    const within = await listed(key.id);
    sb.clock.advance(30_000);
    await call(key.token, 'GET', '/api/conversations');
    const after = await listed(key.id);

    // Assess
    expect(afterFirst?.lastUsedAt).toBe(first);
    expect(within?.lastUsedAt).toBe(first);
    expect(after?.lastUsedAt).toBe(sb.clock.now().toISOString());
  });

  it('should write lastUsedAt once when many requests of one key arrive together', async () => {
    // Prepare
    const key = await createKey({ name: 'Burst', scopes: ['read'] });
    const store = new DynamoDbApiKeyStore({ client: sb.backends.dynamodb, tableName: sb.backends.tableName });
    const now = sb.clock.now();
    const notBefore = new Date(now.getTime() - 60_000);

    // Act
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) => store.touch(key.id, new Date(now.getTime() + i), notBefore)),
    );
    const afterBurst = (await store.get(key.id))?.lastUsedAt;
    const later = new Date(now.getTime() + 10_000);
    await store.touch(key.id, later, new Date(later.getTime() - 60_000));
    const afterLater = (await store.get(key.id))?.lastUsedAt;

    // Assess
    expect([0, 1, 2, 3, 4].map((i) => new Date(now.getTime() + i).toISOString())).toContain(afterBurst);
    expect(afterLater).toBe(afterBurst);
  });

  it.each([
    ['an unknown scope', { name: 'x', scopes: ['read', 'write'] }],
    ['no scopes', { name: 'x', scopes: [] }],
    ['no name', { scopes: ['read'] }],
    ['a blank name', { name: '   ', scopes: ['read'] }],
    ['an unknown field', { name: 'x', scopes: ['read'], token: 'mine' }],
    ['a number for agentName', { name: 'x', scopes: ['read'], agentName: 7 }],
  ])('should refuse a key with %s with 400 and the issues', async (_name, body) => {
    // Act
    const response = await call(TEST_API_TOKEN, 'POST', '/api/admin/keys', body);

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'INVALID_REQUEST', message: expect.any(String), details: expect.any(Array) },
    });
  });

  // Found at stop 25: a key could name anyone, and its replies went out signed with the name alone.
  it('should refuse with 422 a key for an agent name the configuration does not list with a contact', async () => {
    // Act
    const response = await call(TEST_API_TOKEN, 'POST', '/api/admin/keys', {
      name: 'Helpdesk',
      scopes: ['read', 'reply'],
      agentName: 'Zofia Zielińska',
    });

    // Assess: told what to do, and no key made
    expect(response.status).toBe(422);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('AGENT_NOT_LISTED');
    expect(error.message).toContain('"Zofia Zielińska"');
    expect(error.message).toContain('people.agents');
    const { items } = (await (await call(TEST_API_TOKEN, 'GET', '/api/admin/keys')).json()) as {
      items: ListedKey[];
    };
    expect(items.map((key) => key.agentName)).not.toContain('Zofia Zielińska');
  });

  it('should refuse a body that is not JSON with 400', async () => {
    // Act
    const response = await call(TEST_API_TOKEN, 'POST', '/api/admin/keys', '{"name":');

    // Assess
    expect(response.status).toBe(400);
  });

  it('should answer 404 to revoking a key that does not exist', async () => {
    // Act
    const unknown = await call(TEST_API_TOKEN, 'DELETE', `/api/admin/keys/key_${'0'.repeat(26)}`);
    const malformed = await call(TEST_API_TOKEN, 'DELETE', '/api/admin/keys/nope');

    // Assess
    expect([unknown.status, malformed.status]).toEqual([404, 404]);
  });

  it("should put the caller's principal on the context for routes that need the agent's name", async () => {
    // Prepare
    const key = await createKey({ name: 'Anna', scopes: ['reply'], agentName: 'Anna Kowalska' });
    const app = new Hono<AuthEnv>();
    app.use(
      '*',
      authenticate({
        keys: new DynamoDbApiKeyStore({ client: sb.backends.dynamodb, tableName: sb.backends.tableName }),
        bootstrapToken: TEST_API_TOKEN,
        clock: sb.clock,
        log: memoryLog(),
        failedLogins: new FailedLogins({
          limiter: new DynamoDbRateLimiter({
            client: sb.backends.dynamodb,
            tableName: sb.backends.tableName,
          }),
          clock: sb.clock,
          log: memoryLog(),
        }),
        clientAddress: apiGatewayClientAddress,
      }),
    );
    app.post('/reply', requireScope('reply'), (c) => c.json(c.get('principal')));

    // Act
    const asAnna = await app.request('/reply', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.token}` },
    });
    const asBootstrap = await app.request('/reply', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });

    // Assess
    expect(await asAnna.json()).toEqual({
      keyId: key.id,
      scopes: ['reply'],
      agentName: 'Anna Kowalska',
      agentId: 'anna',
    });
    expect(await asBootstrap.json()).toEqual({
      keyId: 'bootstrap',
      scopes: ['read', 'reply', 'admin'],
      agentName: null,
      agentId: null,
    });
  });
});

// Found at stop 25 ("left alone"): a key stored its agent's name, not the person's id, so
// renaming someone in switchboard.config.json refused their replies (AGENT_NOT_LISTED) or,
// with a newcomer listed under the old name, signed them as the newcomer with her direct line.
describe('whom a key signs as when the people list changes', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  const ANNA = { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' };
  const PIOTR = { id: 'piotr', name: 'Piotr Nowak', phone: '22 765 43 21' };
  const people = (rota: BusinessConfig['people']['rota']): BusinessConfig => ({
    ...DEFAULT_BUSINESS_CONFIG,
    people: { default: 'anna', rota, agents: [] },
  });

  async function createKey(agentName: string): Promise<CreatedKey> {
    const response = await sb.act(
      '/admin/keys',
      { name: 'Helpdesk', scopes: ['read', 'reply'], agentName },
      { key: '' },
    );
    expect(response.status).toBe(201);
    return (await response.json()) as CreatedKey;
  }

  /** A customer waiting on `on`, and the reply through `token` there: its status and the text sent. */
  async function replyThrough(on: TestSwitchboard, token: string): Promise<{ status: number; text: string }> {
    await on.postSms({ From: '+48601000088', Body: 'Czy faktura już wyszła?' });
    await on.drain();
    const { id } = await on.onlyOpenConversation();
    on.clock.advance(20 * 60_000);
    const response = await on.act(
      `/conversations/${id}/replies`,
      { text: 'Tak, wysłałam ją rano.' },
      { token },
    );
    const sent = await on.outbox();
    return { status: response.status, text: sent.at(-1)?.text ?? '' };
  }

  it('should keep signing as the person a key was made for after a deploy renames them', async () => {
    // Prepare: a key made for Piotr (by name, as an admin types it); then he changes his name
    // in the config
    sb = await startTestSwitchboard({ business: people([ANNA, PIOTR]) });
    const key = await createKey('piotr  nowak');
    const renamed = sb.redeploy(people([ANNA, { ...PIOTR, name: 'Piotr Nowak-Wiśniewski' }]));

    // Act
    const reply = await replyThrough(renamed, key.token);

    // Assess: stored under his id, and the reply goes out signed with his name as listed now
    expect(reply.status).toBe(201);
    expect(reply.text).toContain('Piotr Nowak-Wiśniewski, tel. 22 765 43 21');
    expect(key).toMatchObject({ agentName: 'Piotr Nowak', agentId: 'piotr' });
  });

  it('should name the person a key was made for as listed now in what the tools hear after a deploy renames them', async () => {
    // Prepare: a key made for Piotr; then he changes his name in the config
    sb = await startTestSwitchboard({ business: people([ANNA, PIOTR]) });
    const key = await createKey('Piotr Nowak');
    const renamed = sb.redeploy(people([ANNA, { ...PIOTR, name: 'Piotr Nowak-Wiśniewski' }]));

    // Act: he replies, notes, assigns, resolves and reopens through his key
    const reply = await replyThrough(renamed, key.token);
    const { id } = await renamed.onlyOpenConversation();
    const note = await renamed.act(
      `/conversations/${id}/notes`,
      { text: 'Faktura wysłana.' },
      { token: key.token },
    );
    await renamed.act(`/conversations/${id}/assign`, { assignee: 'piotr' }, { token: key.token });
    await renamed.act(`/conversations/${id}/resolve`, {}, { token: key.token });
    await renamed.act(`/conversations/${id}/reopen`, {}, { token: key.token });

    // Assess: every event names him as listed now, as the signature does; so does the note
    expect(reply.status).toBe(201);
    expect(reply.text).toContain('Piotr Nowak-Wiśniewski, tel. 22 765 43 21');
    const acted = (await renamed.events()).filter((event) => 'agent' in event.data);
    expect(acted.map((event) => [event.type, event.data.agent])).toEqual([
      ['reply.sent', 'Piotr Nowak-Wiśniewski'],
      ['note.added', 'Piotr Nowak-Wiśniewski'],
      ['conversation.assigned', 'Piotr Nowak-Wiśniewski'],
      ['conversation.resolved', 'Piotr Nowak-Wiśniewski'],
      ['conversation.reopened', 'Piotr Nowak-Wiśniewski'],
    ]);
    expect(((await note.json()) as { message: { from: string } }).message.from).toBe(
      'Piotr Nowak-Wiśniewski',
    );
  });

  it('should keep naming a person by the name a key stored when the configuration no longer lists them', async () => {
    // Prepare: a key made for Piotr; then he leaves the rota
    sb = await startTestSwitchboard({ business: people([ANNA, PIOTR]) });
    const key = await createKey('Piotr Nowak');
    const after = sb.redeploy(people([ANNA]));
    await after.postSms({ From: '+48601000088', Body: 'Czy faktura już wyszła?' });
    await after.drain();
    const { id } = await after.onlyOpenConversation();

    // Act
    const resolved = await after.act(`/conversations/${id}/resolve`, {}, { token: key.token });

    // Assess
    expect(resolved.status).toBe(200);
    const event = (await after.events()).find((e) => e.type === 'conversation.resolved');
    expect(event?.data.agent).toBe('Piotr Nowak');
  });

  it('should not sign as a newcomer listed under the name the key was made with', async () => {
    // Prepare: a key made for "Anna Kowalska"; she becomes Anna Nowak, and a new colleague
    // named Anna Kowalska joins with her own line
    sb = await startTestSwitchboard({ business: people([ANNA, PIOTR]) });
    const key = await createKey('Anna Kowalska');
    const newcomer = { id: 'akowalska', name: 'Anna Kowalska', phone: '22 700 00 00' };
    const after = sb.redeploy(people([{ ...ANNA, name: 'Anna Nowak' }, PIOTR, newcomer]));

    // Act
    const reply = await replyThrough(after, key.token);

    // Assess: the customer is told to call the person who wrote, on her line
    expect(reply.status).toBe(201);
    expect(reply.text).toContain('Anna Nowak, tel. 22 123 45 67');
    expect(reply.text).not.toContain('22 700 00 00');
  });

  it('should sign as the named person through a key stored before keys kept an id', async () => {
    // Prepare: a key item as stop 25 wrote it (agentName only)
    sb = await startTestSwitchboard({ business: people([ANNA, PIOTR]) });
    const id = 'key_06gwk0wg90h3ggnh41h2xv7x5n';
    const secret = 'x'.repeat(43);
    await sb.backends.dynamodb.send(
      new PutItemCommand({
        TableName: sb.backends.tableName,
        Item: marshall({
          pk: `APIKEY#${id}`,
          sk: 'APIKEY',
          type: 'api-key',
          gsi1pk: 'APIKEYS',
          gsi1sk: `2026-11-01T10:00:00.000Z#${id}`,
          id,
          name: 'Old helpdesk',
          scopes: ['read', 'reply'],
          agentName: 'Piotr Nowak',
          createdAt: '2026-11-01T10:00:00.000Z',
          secretHash: hashSecret(secret),
        }),
      }),
    );

    // Act
    const reply = await replyThrough(sb, `sbk_${id}_${secret}`);
    const { items } = (await (await sb.api('/api/admin/keys')).json()) as {
      items: Array<{ id: string; agentName: string | null; agentId: string | null }>;
    };

    // Assess
    expect(reply.status).toBe(201);
    expect(reply.text).toContain('Piotr Nowak, tel. 22 765 43 21');
    expect(items.find((item) => item.id === id)).toMatchObject({ agentName: 'Piotr Nowak', agentId: null });
  });
});

const run = promisify(execFile);

type CliResult = { code: number; stdout: string; stderr: string };

async function keysCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['lib/local/keys-cli.ts', ...args], {
      cwd: PROJECT_ROOT,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run keys', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let url: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-keys-'));
    const { AGENT_API_TOKEN: _ignored, ...inherited } = process.env;
    env = { ...inherited, SWITCHBOARD_DATA_DIR: dataDir, PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN' };
    ({ child, url } = await startNpmStart(dataDir, { env: inherited }));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should create a key on the running Switchboard, print it once, list it and revoke it', async () => {
    // Act
    const created = await keysCli(
      [
        'create',
        '--name',
        'Helpdesk',
        '--scopes',
        'read,reply',
        '--agent-name',
        'Anna Kowalska',
        '--url',
        url,
      ],
      env,
    );
    const token = /^\s+(sbk_\S+)$/m.exec(created.stdout)?.[1] ?? '';
    const id = /^Created key (key_[0-9a-z]{26})/m.exec(created.stdout)?.[1] ?? '';
    const read = await fetch(`${url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } });
    const admin = await fetch(`${url}/api/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
    const list = await keysCli(['list', '--url', url], env);
    const revoke = await keysCli(['revoke', id, '--url', url], env);
    const afterRevoke = await fetch(`${url}/api/conversations`, {
      headers: { authorization: `Bearer ${token}` },
    });

    // Assess
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('shown only once');
    expect(token).toMatch(/^sbk_key_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(read.status).toBe(200);
    expect(admin.status).toBe(403);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('agent Anna Kowalska (anna)');
    expect(list.stdout).not.toContain(token);
    expect(revoke.code).toBe(0);
    expect(afterRevoke.status).toBe(401);
  });

  it('should say so clearly when nothing runs at the URL', async () => {
    // Act
    const result = await keysCli(['list', '--url', 'http://127.0.0.1:9'], env);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Nothing answers at http://127.0.0.1:9');
  });

  it('should say so when the token is not the running Switchboard’s', async () => {
    // Act
    const result = await keysCli(['list', '--url', url], { ...env, AGENT_API_TOKEN: 'dev_not-the-token' });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refused the token (401)');
  });

  // Found by a review of the first hour at stop 31: keys run without the SWITCHBOARD_DATA_DIR of the
  // npm start it reached said only "AGENT_API_TOKEN does not match", though none was set.
  it('should say where the refused token came from: the environment, or a data dir and how to name the right one', async () => {
    // Prepare: another data dir, with the dev secrets of another npm start
    const other = await mkdtemp(join(tmpdir(), 'switchboard-keys-other-'));
    try {
      await writeFile(
        join(other, 'dev-secrets.json'),
        JSON.stringify({ AGENT_API_TOKEN: 'dev_another-start' }),
      );

      // Act
      const fromDataDir = await keysCli(['list', '--url', url], { ...env, SWITCHBOARD_DATA_DIR: other });
      const fromEnv = await keysCli(['list', '--url', url], { ...env, AGENT_API_TOKEN: 'dev_not-the-token' });

      // Assess
      expect(fromDataDir.code).toBe(1);
      expect(fromDataDir.stderr).toContain(`the AGENT_API_TOKEN in ${join(other, 'dev-secrets.json')}`);
      expect(fromDataDir.stderr).toContain('SWITCHBOARD_DATA_DIR');
      expect(fromEnv.stderr).toContain('the AGENT_API_TOKEN set in the environment');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('should explain the usage on a bad command or an unknown scope', async () => {
    // Act
    const bad = await keysCli(['rotate'], env);
    const missing = await keysCli(['create', '--scopes', 'read', '--url', url], env);
    const scope = await keysCli(['create', '--name', 'x', '--scopes', 'read,write', '--url', url], env);

    // Assess
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Usage: npm run keys');
    expect(missing.code).toBe(2);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('400');
  });
});
