import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '#test/support/webhook-receiver.ts';

// Stop 26: an outbound webhook's secret could not be rotated: only delete and create again,
// which lost the delivery log and the pending deliveries, and cut the receiver off until it had
// the new secret.

/** Whether the official library accepts the request with `secret`, at the time it was sent. */
function verifiesWith(request: ReceivedWebhook, secret: string): boolean {
  vi.setSystemTime(new Date(Number(request.headers['webhook-timestamp']) * 1000));
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

describe('rotating an outbound webhook’s secret', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;

  afterEach(async () => {
    await receiver?.stop();
    await sb?.stop();
  });

  const call = (method: string, path: string, body?: unknown) =>
    sb.runtime.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function subscribed(): Promise<{ id: string; secret: string }> {
    sb = await startTestSwitchboard();
    receiver = await startWebhookReceiver({ now: () => sb.clock.now() });
    const response = await call('POST', '/api/webhooks', { url: `${receiver.url}/hooks`, events: ['*'] });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; secret: string };
  }

  it('should return a new secret once and sign every delivery with both for 24 hours, then with the new one only', async () => {
    // Prepare: a subscription with its delivery log
    const { id, secret: old } = await subscribed();
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry' });
    await sb.drain();
    const before = receiver.requests.length;

    // Act: rotate; an event during the grace period; another after it
    const response = await call('POST', `/api/webhooks/${id}/rotate-secret`);
    const rotated = (await response.clone().json()) as {
      id: string;
      secret: string;
      previousSecretExpiresAt: string;
    };
    await sb.postSms({ From: '+48601234568', Body: 'Dzień dobry' });
    await sb.drain();
    const duringGrace = receiver.requests.slice(before);
    sb.clock.advance(24 * 3600_000 + 1000);
    const afterGraceStart = receiver.requests.length;
    await sb.postSms({ From: '+48601234569', Body: 'Dzień dobry' });
    await sb.drain();
    const afterGrace = receiver.requests.slice(afterGraceStart);

    // Assess: shown once, never again; both signatures during the grace, each verifying
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(rotated).toEqual({
      id,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      previousSecretExpiresAt: new Date(Date.parse('2026-11-25T09:00:00Z') + 24 * 3600_000).toISOString(),
    });
    expect(rotated.secret).not.toBe(old);
    expect(JSON.stringify(await (await call('GET', `/api/webhooks/${id}`)).json())).not.toContain(
      rotated.secret,
    );
    expect(duringGrace.length).toBeGreaterThan(0);
    for (const request of duringGrace) {
      expect(request.headers['webhook-signature']?.split(' ')).toHaveLength(2);
      expect(verifiesWith(request, old)).toBe(true);
      expect(verifiesWith(request, rotated.secret)).toBe(true);
    }
    expect(afterGrace.length).toBeGreaterThan(0);
    for (const request of afterGrace) {
      expect(request.headers['webhook-signature']?.split(' ')).toHaveLength(1);
      expect(verifiesWith(request, rotated.secret)).toBe(true);
      expect(verifiesWith(request, old)).toBe(false);
    }
    // The delivery log is the same subscription's, kept across the rotation
    const log = (await (await call('GET', `/api/webhooks/${id}/deliveries?limit=100`)).json()) as {
      items: unknown[];
    };
    expect(log.items).toHaveLength(before + duringGrace.length + afterGrace.length);
  });

  it('should let an admin end the grace at once (a leaked secret), and refuse a disabled or unknown webhook', async () => {
    // Prepare
    const { id, secret: old } = await subscribed();

    // Act
    const response = await call('POST', `/api/webhooks/${id}/rotate-secret`, { graceHours: 0 });
    const { secret } = (await response.json()) as { secret: string };
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry' });
    await sb.drain();
    await call('DELETE', `/api/webhooks/${id}`);
    const disabled = await call('POST', `/api/webhooks/${id}/rotate-secret`);
    const unknown = await call('POST', '/api/webhooks/wh_00000000000000000000000000/rotate-secret');
    const tooLong = await call('POST', `/api/webhooks/${id}/rotate-secret`, { graceHours: 169 });

    // Assess
    expect(response.status).toBe(200);
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(verifiesWith(request, secret)).toBe(true);
      expect(verifiesWith(request, old)).toBe(false);
    }
    expect([disabled.status, unknown.status, tooLong.status]).toEqual([409, 404, 400]);
    expect(JSON.stringify(sb.log.lines)).not.toContain(secret.slice(6));
  });

  // Stop 34, round 2 of the adversarial review: a rotation retried (its answer lost, a double
  // click) rotated again: the second made the first's new secret the previous one and dropped the
  // secret the receiver still had, so every delivery failed its verification.
  it('should refuse a second rotation within 5 minutes with 409, keeping the secret the receiver has', async () => {
    // Prepare
    const { id, secret: old } = await subscribed();
    receiver.secret = old;

    // Act: a rotation and its retry a moment later; a delivery; a rotation 5 minutes on.
    const first = await call('POST', `/api/webhooks/${id}/rotate-secret`);
    const { secret } = (await first.json()) as { secret: string };
    sb.clock.advance(2_000);
    const retried = await call('POST', `/api/webhooks/${id}/rotate-secret`);
    const refusal = (await retried.json()) as { error: { code: string; message: string } };
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry' });
    await sb.drain();
    sb.clock.advance(5 * 60_000);
    const later = await call('POST', `/api/webhooks/${id}/rotate-secret`);
    const leak = await call('POST', `/api/webhooks/${id}/rotate-secret`, { graceHours: 0 });

    // Assess: the retry changed nothing; deliveries still verify with the receiver's secret.
    expect([first.status, retried.status, later.status, leak.status]).toEqual([200, 409, 200, 200]);
    expect(refusal.error.code).toBe('ROTATED_RECENTLY');
    expect(refusal.error.message).toContain('5 minutes');
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(verifiesWith(request, old)).toBe(true);
      expect(verifiesWith(request, secret)).toBe(true);
    }
  });
});
