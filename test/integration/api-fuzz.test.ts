import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { whatsappEnvelope } from '#test/support/meta-factory.ts';
import { STACK_TRACE } from '#test/support/silent-log.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

const ROUTES = [
  '/api/conversations/{id}/replies',
  '/api/conversations/{id}/assign',
  '/api/conversations/{id}/notes',
  '/api/conversations/{id}/resolve',
  '/api/admin/keys',
  '/api/webhooks',
  '/api/webhooks/{webhook}/rotate-secret',
];

// Hostile bodies: random bytes as text, deep JSON, prototype keys, huge fields, wrong types.
const hostileBody = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 6 }),
  fc.constantFrom(
    '{"__proto__":{"admin":true},"text":"x"}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    `{"text":"${'x'.repeat(70_000)}"}`,
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    '\uFFFE\uD800 invalid',
    '{"text":null,"channel":"fax"}',
    '{"assignee":{"$gt":""}}',
    '{"url":"http://169.254.169.254/latest/meta-data","events":["*"]}',
    '{"graceHours":1e308}',
    '{"graceHours":-0}',
    '{"graceHours":"24"}',
    '{"graceHours":24,"__proto__":{"graceHours":0}}',
    'null',
  ),
  fc
    .record({ graceHours: fc.oneof(fc.integer(), fc.double(), fc.constant(null)) }, { requiredKeys: [] })
    .map((body) => JSON.stringify(body)),
);
const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  '',
);

describe('the API under hostile input', { timeout: fuzzTimeout(120_000) }, () => {
  let sb: TestSwitchboard;
  let id: string;
  let webhookId: string;

  beforeAll(async () => {
    sb = await startTestSwitchboard({ env: { API_REQUESTS_PER_MINUTE: '100000' } });
    await sb.postSms({ From: '+48601234567' });
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    id = items[0]?.id as string;
    const created = await sb.act('/webhooks', { url: 'https://tools.example.com/rotated', events: ['*'] });
    webhookId = ((await created.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('should answer every hostile body with a clean 4xx JSON error: never a 5xx, a stack trace or a secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        hostileBody,
        contentType,
        fc.uuid(),
        async (route, body, type, key) => {
          // Act
          const response = await sb.runtime.app.request(
            route.replace('{id}', id).replace('{webhook}', webhookId),
            {
              method: 'POST',
              headers: {
                authorization: `Bearer ${TEST_API_TOKEN}`,
                'idempotency-key': key,
                ...(type ? { 'content-type': type } : {}),
              },
              body,
            },
          );
          const text = await response.text();

          // Assess: 2xx is fine for a body that happens to be valid; a 5xx never is.
          expect(response.status, text.slice(0, 200)).toBeLessThan(500);
          if (response.status >= 400) expect(JSON.parse(text)).toHaveProperty('error.code');
          expect(text).not.toMatch(STACK_TRACE);
          expect(text).not.toContain(sb.config.twilio?.authToken as string);
          expect(({} as Record<string, unknown>).admin).toBeUndefined();
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      fuzzRuns(150),
    );
    // Nothing was sent to the customer by any of it but valid replies, and nothing was written half.
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: unknown[] };
    expect(messages.length).toBeGreaterThan(0);
    // The subscription whose secret was rotated (or not) under it all still reads and delivers.
    const webhook = await sb.api(`/api/webhooks/${webhookId}`);
    expect(webhook.status).toBe(200);
    expect(await webhook.json()).toMatchObject({ id: webhookId, url: 'https://tools.example.com/rotated' });
  });

  it('should answer any query string and path on the read routes with a 2xx or a clean 4xx', async () => {
    // A webhook subscription, so that its deliveries route has something to page.
    const created = await sb.act('/webhooks', { url: 'https://tools.example.com/hooks', events: ['*'] });
    const webhookId = ((await created.json()) as { id?: string }).id ?? 'wh_missing';
    const cursor = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.base64String({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }).map((json) => Buffer.from(json).toString('base64url')),
      fc.constantFrom(
        'x'.repeat(5_000),
        '%FF%FE',
        'eJzLSM3JyVcozy/KSQEAGgQEXQ',
        '{"q":"open","s":[["a",1]]}',
      ),
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'open',
        'resolved',
        'sms',
        'email',
        'true',
        'false',
        '0',
        '-1',
        '101',
        '1e9',
        'replyBy',
        '',
      ),
    );
    const param = fc.tuple(
      fc.constantFrom(
        'status',
        'channel',
        'assignee',
        'awaiting',
        'overdue',
        'order',
        'limit',
        'from',
        'to',
        'since',
        'channel[]',
        '__proto__',
      ),
      value,
    );
    const path = fc.oneof(
      fc.constant('/api/conversations'),
      fc.constant('/api/service-level'),
      fc.constant(`/api/webhooks/${webhookId}/deliveries`),
      fc.string({ maxLength: 40 }).map((id) => `/api/conversations/${encodeURIComponent(id)}`),
      fc.string({ maxLength: 40 }).map((key) => `/api/contacts/${encodeURIComponent(key)}`),
      fc.string({ maxLength: 40 }).map((id) => `/api/webhooks/${encodeURIComponent(id)}/deliveries`),
    );
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.array(param, { maxLength: 4 }),
        fc.option(cursor),
        async (route, params, given) => {
          // Prepare
          const query = new URLSearchParams(params);
          if (given !== null) query.set('cursor', given);

          // Act
          const response = await sb.api(`${route}?${query}`);
          const text = await response.text();

          // Assess
          expect(response.status, `${route}?${query}: ${text.slice(0, 200)}`).toBeLessThan(500);
          if (response.status >= 400) expect(JSON.parse(text)).toHaveProperty('error.code');
          expect(text).not.toMatch(STACK_TRACE);
        },
      ),
      fuzzRuns(300),
    );
    expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('should answer any method on any route with hostile ids with a clean status, never a 5xx', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'conv_06gwk0wg90h3ggnh41h2xv7x5n',
        'wh_x',
        'key_x',
        '..',
        '%',
        '%25',
        '\u0000',
        'x'.repeat(3_000),
      ),
    );
    const route = fc.oneof(
      ...[
        '/api/conversations/{}/replies',
        '/api/conversations/{}/resolve',
        '/api/conversations/{}/reopen',
        '/api/conversations/{}/assign',
        '/api/conversations/{}/notes',
        '/api/conversations/{}',
        '/api/admin/keys/{}',
        '/api/webhooks/{}',
        '/api/webhooks/{}/replay',
        '/api/webhooks/{}/rotate-secret',
        '/api/webhooks/{}/deliveries',
        '/api/{}',
        '/webhooks/{}',
        '/inbox/{}',
      ].map((template) => segment.map((id) => template.replace('{}', encodeURIComponent(id)))),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        route,
        fc.option(fc.json({ maxDepth: 2 })),
        async (method, path, body) => {
          // Act
          const response = await sb.runtime.app.request(path, {
            method,
            headers: {
              authorization: `Bearer ${TEST_API_TOKEN}`,
              'idempotency-key': crypto.randomUUID(),
              ...(body === null ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body }),
          });
          const text = await response.text();

          // Assess
          expect(response.status, `${method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
          expect(text).not.toMatch(STACK_TRACE);
        },
      ),
      fuzzRuns(300),
    );
    expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});

describe('WhatsApp replies that go as a template, under hostile text', {
  timeout: fuzzTimeout(120_000),
}, () => {
  let sb: TestSwitchboard;
  let meta: FakeMeta;
  let id: string;
  const WA_ID = '48601234567';

  beforeAll(async () => {
    // A customer wrote on WhatsApp (Cloud API) 25 hours ago: only an approved template goes now.
    meta = await startFakeMeta({
      templates: [
        { name: 'odpowiedz_konsultanta', language: 'pl', parameters: 2 },
        { name: 'agent_reply', language: 'en', parameters: 2 },
      ],
    });
    sb = await startTestSwitchboard({
      clock: new TestClock('2026-11-27T19:00:00+01:00'),
      graphBaseUrl: meta.url,
      env: { API_REQUESTS_PER_MINUTE: '100000' },
      business: {
        ...DEFAULT_BUSINESS_CONFIG,
        whatsapp: {
          replyTemplates: {
            pl: { meta: { name: 'odpowiedz_konsultanta', language: 'pl' } },
            en: { meta: { name: 'agent_reply', language: 'en' } },
          },
        },
      },
    });
    meta.useClock(sb.clock);
    meta.customerWrote(WA_ID, sb.clock.now());
    await sb.postMeta(
      whatsappEnvelope({
        contacts: [{ profile: { name: 'Ewa' }, wa_id: WA_ID }],
        messages: [
          {
            from: WA_ID,
            id: 'wamid.FUZZTEMPLATE1',
            timestamp: String(Math.floor(sb.clock.now().getTime() / 1000)),
            type: 'text',
            text: { body: 'Dzień dobry' },
          },
        ],
      }),
    );
    await sb.drain();
    id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(25 * 60 * 60_000);
  });
  afterAll(async () => {
    await sb?.stop();
    await meta?.close();
  });

  it('should send any reply text as parameters WhatsApp takes, or refuse it with a clean 4xx: never a 5xx', async () => {
    const statuses = new Set<number>();
    const line = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom(
        ' ',
        '\t',
        '\v',
        '\f',
        '\u00a0',
        '\u2028',
        '\u2029',
        '\u0085',
        '\u3000',
        '\ufeff',
        '😀',
        '\uD83D',
      ),
    );
    const text = fc.oneof(
      fc
        .array(line, { maxLength: 12 })
        .chain((lines) =>
          fc.constantFrom('\n', '\r\n', '\r', '\n\n', ' \n\t ', '     ').map((sep) => lines.join(sep)),
        ),
      fc.constantFrom(
        'x'.repeat(1024),
        'x'.repeat(1025),
        `${'😀'.repeat(511)}x`,
        `${'a\n'.repeat(400)}`,
        ' \n \n x',
      ),
    );
    await fc.assert(
      fc.asyncProperty(text, async (reply) => {
        // Act
        const sent = meta.requests.length;
        const response = await sb.act(`/conversations/${id}/replies`, { text: reply });
        const body = await response.text();
        statuses.add(response.status);

        // Assess: a template WhatsApp takes (the fake refuses what the Cloud API refuses: a
        // newline, a tab, five spaces, a parameter count; that would be 500 TEMPLATE_REFUSED)
        expect(response.status, `${JSON.stringify(reply)}: ${body.slice(0, 300)}`).toBeLessThan(500);
        expect(body).not.toMatch(STACK_TRACE);
        if (response.status !== 201) {
          expect(JSON.parse(body)).toHaveProperty('error.code');
          return;
        }
        const graph = meta.requests.slice(sent).filter((r) => r.path.endsWith('/messages'));
        expect(graph).toHaveLength(1);
        const parameters = (
          (graph[0]?.body ?? {}) as {
            template?: { components: Array<{ parameters: Array<{ text: string }> }> };
          }
        ).template?.components.flatMap((c) => c.parameters.map((p) => p.text));
        expect(parameters).toHaveLength(2);
        for (const parameter of parameters ?? []) {
          expect(parameter.trim()).not.toBe('');
          expect(parameter).not.toMatch(/[\n\r\t]| {5,}/);
        }
        expect(parameters?.[0]?.length).toBeLessThanOrEqual(1024);
      }),
      fuzzRuns(120),
    );
    // Both ways were taken: sent as the template, and refused (too long, or no text at all).
    expect([...statuses].sort()).toEqual(expect.arrayContaining([201, 400, 422]));
    expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
