import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Stop 29: a tool could assign a conversation only to what an agent typed (ids and names mixed,
// "Anna" beside "anna"); the API said nowhere who the business's people are.
describe('GET /api/people', () => {
  let sb: TestSwitchboard;

  // The clock stands on a Wednesday at 10:00 in Warsaw: Anna works the business hours, Piotr
  // Wednesday afternoons only, Ewa (a manager) signs replies but is never on the rota.
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS_CONFIG,
    people: {
      default: 'anna',
      rota: [
        { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', email: 'anna.kowalska@example.com' },
        {
          id: 'piotr',
          name: 'Piotr Nowak',
          phone: '22 765 43 21',
          hours: { mon: [], tue: [], wed: ['13:00-17:00'], thu: [], fri: [], sat: [], sun: [] },
        },
      ],
      agents: [{ id: 'ewa', name: 'Ewa Zielińska', email: 'ewa.zielinska@example.com' }],
    },
  };

  beforeAll(async () => {
    sb = await startTestSwitchboard({ business });
  });
  afterAll(async () => {
    await sb.stop();
  });

  const people = (token: string | null) =>
    sb.runtime.app.request(
      '/api/people',
      token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  it('should list each listed person once, by the assignee /api/me gives them, with whether they are on duty now', async () => {
    // Prepare: Ewa's own key, and what /api/me says her assignee is
    const created = await sb.act('/admin/keys', {
      name: 'Ewa',
      scopes: ['read'],
      agentName: 'Ewa Zielińska',
    });
    const { token } = (await created.json()) as { token: string };
    const me = (await (
      await sb.runtime.app.request('/api/me', { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      assignee: string;
    };

    // Act
    const response = await people(token);

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ assignee: string }> };
    expect(body).toEqual({
      items: [
        {
          assignee: 'anna',
          name: 'Anna Kowalska',
          rota: true,
          onDuty: true,
          phone: '22 123 45 67',
          email: 'anna.kowalska@example.com',
        },
        { assignee: 'piotr', name: 'Piotr Nowak', rota: true, onDuty: false, phone: '22 765 43 21' },
        {
          assignee: 'ewa',
          name: 'Ewa Zielińska',
          rota: false,
          onDuty: false,
          email: 'ewa.zielinska@example.com',
        },
      ],
    });
    expect(body.items.filter((person) => person.assignee === me.assignee)).toHaveLength(1);
  });

  it('should refuse a request without a key, as every route of the API does', async () => {
    // Act
    const response = await people(null);

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it("should still assign to a name nobody is listed by (a tool's own id, a team), as stored", async () => {
    // Prepare
    await sb.postSms({ From: '+48601000290', Body: 'Kto się mną zajmie?' });
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;

    // Act
    const response = await sb.act(`/conversations/${id}/assign`, { assignee: 'billing-queue' });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ conversation: { assignee: 'billing-queue' } });
  });
});
