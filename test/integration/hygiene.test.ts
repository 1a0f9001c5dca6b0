import { afterEach, describe, expect, it } from 'vitest';
import { metaFixture } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

describe('limits and log hygiene', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should give each API key its budget a minute, then 429 with Retry-After', async () => {
    // Prepare
    sb = await startTestSwitchboard({ env: { API_REQUESTS_PER_MINUTE: '3' } });

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await sb.api('/api/conversations')).status);
    const limited = await sb.api('/api/conversations');
    sb.clock.advance(60_000);
    const nextMinute = await sb.api('/api/conversations');

    // Assess
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(nextMinute.status).toBe(200);
  });

  it('should log no phone number, email address, message text or secret at any level', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act: messages on several channels, a bad signature, an agent reply, and the worker.
    await sb.postSms({ From: '+48601234567', Body: 'Mój PESEL to 90010112345' });
    await sb.postMeta(metaFixture('whatsapp-text'));
    await sb.runtime.app.request('/webhooks/twilio/messaging', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' },
      body: 'From=%2B48601234567&Body=hej',
    });
    await sb.drain();
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    await sb.runtime.app.request(`/api/conversations/${items[0]?.id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'idempotency-key': 'k1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ text: 'Dziękujemy, sprawdzamy.' }),
    });

    // Assess
    const logged = JSON.stringify(sb.log.lines);
    expect(sb.log.lines.length).toBeGreaterThan(3);
    for (const secret of [
      '48601234567',
      '90010112345',
      'Dziękujemy, sprawdzamy',
      TEST_API_TOKEN,
      sb.config.twilio?.authToken as string,
    ]) {
      expect(logged).not.toContain(secret);
    }
  });
});
