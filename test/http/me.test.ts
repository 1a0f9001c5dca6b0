import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// The reference inbox's "Assign to me" needs to know whose key it holds: the API said nowhere.
describe('GET /api/me', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  const me = (token: string | null) =>
    sb.runtime.app.request(
      '/api/me',
      token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  it("should name the key's person and the assignee that means them", async () => {
    // Prepare
    const created = await sb.act('/admin/keys', {
      name: 'Anna at the desk',
      scopes: ['read', 'reply'],
      agentName: 'anna kowalska',
    });
    const { token, id } = (await created.json()) as { token: string; id: string };

    // Act
    const response = await me(token);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      keyId: id,
      scopes: ['read', 'reply'],
      agent: { id: 'anna', name: 'Anna Kowalska' },
      assignee: 'anna',
    });
  });

  it('should say that the bootstrap token names nobody', async () => {
    // Act
    const response = await me(TEST_API_TOKEN);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ keyId: 'bootstrap', agent: null, assignee: null });
  });

  it('should refuse a request without a key, as every route of the API does', async () => {
    // Act
    const response = await me(null);

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });
});
