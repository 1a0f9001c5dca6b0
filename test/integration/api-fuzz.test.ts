import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

const ROUTES = [
  '/api/conversations/{id}/replies',
  '/api/conversations/{id}/assign',
  '/api/conversations/{id}/notes',
  '/api/conversations/{id}/resolve',
  '/api/admin/keys',
  '/api/webhooks',
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
  ),
);
const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  '',
);

describe('the API under hostile input', () => {
  let sb: TestSwitchboard;
  let id: string;

  beforeAll(async () => {
    sb = await startTestSwitchboard({ env: { API_REQUESTS_PER_MINUTE: '100000' } });
    await sb.postSms({ From: '+48601234567' });
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    id = items[0]?.id as string;
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
          const response = await sb.runtime.app.request(route.replace('{id}', id), {
            method: 'POST',
            headers: {
              authorization: `Bearer ${TEST_API_TOKEN}`,
              'idempotency-key': key,
              ...(type ? { 'content-type': type } : {}),
            },
            body,
          });
          const text = await response.text();

          // Assess: 2xx is fine for a body that happens to be valid; a 5xx never is.
          expect(response.status, text.slice(0, 200)).toBeLessThan(500);
          if (response.status >= 400) expect(JSON.parse(text)).toHaveProperty('error.code');
          expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
          expect(text).not.toContain(sb.config.twilio.authToken);
          expect(({} as Record<string, unknown>).admin).toBeUndefined();
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 150, seed: 20261125 },
    );
    // Nothing was sent to the customer by any of it but valid replies, and nothing was written half.
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: unknown[] };
    expect(messages.length).toBeGreaterThan(0);
  }, 120_000);
});
