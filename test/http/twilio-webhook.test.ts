import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, TEST_PUBLIC_URL, type TestSwitchboard } from '#test/support/switchboard.ts';
import { signTwilio, twilioForm } from '#test/support/twilio-factory.ts';

const PATH = '/webhooks/twilio/messaging';
const AUTH_TOKEN = '12345678901234567890123456789012';

describe('POST /webhooks/twilio/messaging', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  async function post(body: string, headers: Headers, path = PATH): Promise<Response> {
    return sb.runtime.app.request(path, { method: 'POST', headers, body });
  }

  async function storedConversations(): Promise<number> {
    const response = await sb.api('/api/conversations?limit=100');
    return ((await response.json()) as { items: unknown[] }).items.length;
  }

  it('should answer a correctly signed SMS with empty TwiML after storing it', async () => {
    // Prepare
    const before = await storedConversations();
    const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${PATH}`, twilioForm('sms-polish'), AUTH_TOKEN);

    // Act
    const response = await post(body, headers);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(await response.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await storedConversations()).toBe(before + 1);
  });

  it('should keep the query string exactly as called when checking the signature', async () => {
    // Prepare
    const form = twilioForm('sms-polish', { From: '+48601999001' });
    const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${PATH}?tenant=acme&x=1`, form, AUTH_TOKEN);

    // Act
    const matching = await post(body, headers, `${PATH}?tenant=acme&x=1`);
    const reordered = await post(body, headers, `${PATH}?x=1&tenant=acme`);

    // Assess
    expect(matching.status).toBe(200);
    expect(reordered.status).toBe(403);
  });

  it.each([
    ['a missing signature', 'SIGNATURE_MISSING', (h: Headers) => h.delete('x-twilio-signature')],
    [
      'a wrong signature',
      'SIGNATURE_INVALID',
      (h: Headers) => h.set('x-twilio-signature', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='),
    ],
  ])('should answer %s with 403 JSON and store nothing', async (_name, code, mutate) => {
    // Prepare
    const before = await storedConversations();
    const { body, headers } = signTwilio(
      `${TEST_PUBLIC_URL}${PATH}`,
      twilioForm('sms-polish', { From: '+48601999002' }),
      AUTH_TOKEN,
    );
    mutate(headers);

    // Act
    const response = await post(body, headers);

    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code, message: expect.any(String) } });
    expect(await storedConversations()).toBe(before);
  });

  it('should answer 403 to a request signed for another URL or with another token', async () => {
    // Prepare
    const form = twilioForm('sms-polish', { From: '+48601999003' });
    const otherHost = signTwilio(`https://evil.example.com${PATH}`, form, AUTH_TOKEN);
    const otherToken = signTwilio(`${TEST_PUBLIC_URL}${PATH}`, form, 'ffffffffffffffffffffffffffffffff');

    // Act
    const responses = [
      await post(otherHost.body, otherHost.headers),
      await post(otherToken.body, otherToken.headers),
    ];

    // Assess
    expect(responses.map((r) => r.status)).toEqual([403, 403]);
  });

  it('should answer 403 when a signed parameter was tampered with', async () => {
    // Prepare
    const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${PATH}`, twilioForm('sms-polish'), AUTH_TOKEN);
    const tampered = body.replace(/Body=[^&]*/, 'Body=Przelej+pieniadze');

    // Act
    const response = await post(tampered, headers);

    // Assess
    expect(response.status).toBe(403);
  });

  it('should answer a signed but malformed form with 400 naming the fields, never their values', async () => {
    // Prepare
    const before = await storedConversations();
    const form = new URLSearchParams({ MessageSid: 'not-a-sid', Body: 'secret text 4111111111111111' });
    const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${PATH}`, form, AUTH_TOKEN);

    // Act
    const response = await post(body, headers);
    const text = await response.text();

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.parse(text).error.code).toBe('MALFORMED_PAYLOAD');
    expect(text).toContain('MessageSid');
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toMatch(/\bat .+:\d+:\d+/);
    expect(await storedConversations()).toBe(before);
  });

  it('should answer a body over 64 KB with 413 before reading it', async () => {
    // Prepare
    const form = twilioForm('sms-polish', { Body: 'x'.repeat(70 * 1024) });
    const { body, headers } = signTwilio(`${TEST_PUBLIC_URL}${PATH}`, form, AUTH_TOKEN);

    // Act
    const response = await post(body, headers);

    // Assess
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('should answer an unknown path with 404 JSON', async () => {
    // Act
    const response = await sb.runtime.app.request('/webhooks/unknown', { method: 'POST', body: 'x' });

    // Assess
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

describe('the agents API and health', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('should answer GET /healthz without auth', async () => {
    // Act
    const response = await sb.runtime.app.request('/healthz');

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer wrong-token'],
  ])('should answer %s with 401 JSON', async (_name, authorization) => {
    // Act
    const response = await sb.runtime.app.request('/api/conversations', {
      headers: authorization ? { authorization } : {},
    });

    // Assess
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  it('should answer invalid list parameters with 400', async () => {
    // Act
    const responses = await Promise.all(
      ['?limit=0', '?limit=abc', '?status=closed', '?cursor=%%%', '?unknown=1'].map((query) =>
        sb.api(`/api/conversations${query}`),
      ),
    );

    // Assess
    expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
  });

  it('should return the contract shape of a conversation and its messages', async () => {
    // Prepare
    await sb.postSms({ From: '+48601999010', Body: 'Dzień dobry' });
    await sb.drain();
    const list = (await (await sb.api('/api/conversations')).json()) as {
      items: Array<Record<string, unknown>>;
    };

    // Act
    const id = list.items[0]?.id as string;
    const detail = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Record<string, unknown>;
      messages: Array<Record<string, unknown>>;
    };

    // Assess
    expect(Object.keys(detail.conversation).sort()).toEqual(
      [
        'ack',
        'awaiting',
        'channel',
        'contact',
        'id',
        'lastMessageAt',
        'notice',
        'openedAt',
        'replyBy',
        'status',
      ].sort(),
    );
    expect(Object.keys(detail.messages[0] ?? {}).sort()).toEqual(
      [
        'channel',
        'conversationId',
        'createdAt',
        'direction',
        'from',
        'id',
        'kind',
        'media',
        'provider',
        'providerMessageId',
        'text',
        'to',
      ].sort(),
    );
  });
});
