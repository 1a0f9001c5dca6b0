import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '#lib/domain/events.ts';
import { hears, issueWebhook, newDelivery, WebhookDeliverySchema } from '#lib/domain/webhook.ts';
import {
  finishAttempt,
  MAX_DELIVERY_ATTEMPTS,
  RETRY_DELAYS_MS,
  replayDelivery,
  retryDelayMs,
  startAttempt,
} from '#lib/domain/webhook-attempts.ts';
import { isPrivateAddress, webhookUrlProblem } from '#lib/domain/webhook-url.ts';

const NOW = new Date('2026-11-25T09:00:00.000Z');
const EVENT: DomainEvent = {
  id: 'evt_0123456789abcdefghjkmnpqrs',
  type: 'message.received',
  occurredAt: NOW.toISOString(),
  conversationId: 'conv_0123456789abcdefghjkmnpqrs',
  data: { messageId: 'msg_x' },
};
const HOUR = 3_600_000;

describe('retry schedule', () => {
  it('should retry for at least 24 and at most 36 hours, whatever the jitter', () => {
    // Act
    const total = (random: number) =>
      RETRY_DELAYS_MS.reduce((sum, _, i) => sum + (retryDelayMs(i + 1, random) ?? 0), 0);

    // Assess
    expect(total(0)).toBeGreaterThanOrEqual(24 * HOUR);
    expect(total(0.999999)).toBeLessThanOrEqual(36 * HOUR);
    expect(MAX_DELIVERY_ATTEMPTS).toBe(13);
  });

  it('should start at 30 s, grow, add at most 25 % jitter, and stop after the last attempt', () => {
    // Act
    const firsts = [1, 2, 3, 4, 5].map((attempts) => retryDelayMs(attempts, 0));

    // Assess
    expect(firsts).toEqual([30_000, 120_000, 600_000, 1_800_000, HOUR]);
    expect(retryDelayMs(1, 0.999999)).toBeLessThanOrEqual(37_500);
    expect(retryDelayMs(MAX_DELIVERY_ATTEMPTS, 0)).toBeNull();
  });
});

describe('delivery attempts', () => {
  const fresh = newDelivery('wh_0123456789abcdefghjkmnpqrs', EVENT, NOW);

  it('should give the same delivery id for the same subscription and event, and a new one per replay', () => {
    // Act
    const again = newDelivery('wh_0123456789abcdefghjkmnpqrs', EVENT, new Date(NOW.getTime() + 5_000));
    const replay = replayDelivery(fresh, 'rpl_1', NOW);

    // Assess
    expect(again.id).toBe(fresh.id);
    expect(replay.id).not.toBe(fresh.id);
    expect(replay).toMatchObject({ eventId: EVENT.id, body: fresh.body, replayId: 'rpl_1', attempts: 0 });
    expect(JSON.parse(fresh.body)).toEqual(EVENT);
  });

  // Found in stop 26's review: since the stored delivery is loose, a replay (a new delivery)
  // copied what a newer release stored about the original's attempts.
  it("should start a replay without the original's history, also what a newer release stored on it", () => {
    // Prepare: the original as read back, with a newer release's record of its attempts
    const original = WebhookDeliverySchema.parse({
      ...finishAttempt(startAttempt(fresh, NOW, 0), { kind: 'response', status: 503 }, NOW),
      attemptLog: [{ at: NOW.toISOString(), status: 503 }],
    });

    // Act
    const replay = replayDelivery(original, 'rpl_1', NOW);

    // Assess
    expect(original).toHaveProperty('attemptLog');
    expect(replay).not.toHaveProperty('attemptLog');
    expect(replay).toMatchObject({ eventId: EVENT.id, body: fresh.body, attempts: 0, lastStatus: null });
  });

  it('should schedule the next attempt when one starts, before anything is sent', () => {
    // Act
    const started = startAttempt(fresh, NOW, 0);

    // Assess
    expect(started).toMatchObject({
      attempts: 1,
      lastAttemptAt: NOW.toISOString(),
      nextAttemptAt: new Date(NOW.getTime() + 30_000).toISOString(),
      state: 'pending',
    });
  });

  it.each([
    [{ kind: 'response', status: 204 } as const, 'delivered'],
    [{ kind: 'response', status: 410 } as const, 'failed'],
    [{ kind: 'response', status: 301 } as const, 'pending'],
    [{ kind: 'response', status: 500 } as const, 'pending'],
    [{ kind: 'error', error: 'ETIMEDOUT' } as const, 'pending'],
  ])('should treat %o as %s', (outcome, state) => {
    // Act
    const finished = finishAttempt(startAttempt(fresh, NOW, 0), outcome, NOW);

    // Assess
    expect(finished.state).toBe(state);
    expect(finished.nextAttemptAt === null).toBe(state !== 'pending');
  });

  it.each([
    [600_000, 600_000],
    [5_000, 30_000],
    [48 * HOUR, 4 * HOUR],
  ])(
    'should wait at least a Retry-After of %s ms, the backoff at least, 4 h at most: %s ms',
    (asked, waited) => {
      // Act
      const outcome = { kind: 'response', status: 429, retryAfterMs: asked } as const;
      const finished = finishAttempt(startAttempt(fresh, NOW, 0), outcome, NOW);

      // Assess
      expect(finished.state).toBe('pending');
      expect(Date.parse(finished.nextAttemptAt ?? '') - NOW.getTime()).toBe(waited);
    },
  );

  it('should fail the delivery when the last attempt fails', () => {
    // Prepare
    const last = { ...fresh, attempts: MAX_DELIVERY_ATTEMPTS - 1 };

    // Act
    const finished = finishAttempt(startAttempt(last, NOW, 0), { kind: 'response', status: 503 }, NOW);

    // Assess
    expect(finished).toMatchObject({ state: 'failed', attempts: MAX_DELIVERY_ATTEMPTS, lastStatus: 503 });
  });
});

describe('subscriptions', () => {
  it('should issue a whsec_ secret of 32 random bytes and hear only the chosen types', () => {
    // Act
    const some = issueWebhook({ url: 'https://example.com', events: ['ack.sent'], description: null }, NOW);
    const all = issueWebhook({ url: 'https://example.com', events: ['*'], description: null }, NOW);

    // Assess
    expect(Buffer.from(some.secret.slice(6), 'base64')).toHaveLength(32);
    expect(some.secret).not.toBe(all.secret);
    expect([hears(some, 'ack.sent'), hears(some, 'message.received')]).toEqual([true, false]);
    expect(hears(all, 'promise.breached')).toBe(true);
    expect(hears({ ...all, disabledAt: NOW.toISOString() }, 'ack.sent')).toBe(false);
  });
});

describe('endpoint URLs', () => {
  it.each([
    ['https://hooks.example.com/switchboard', true, null],
    ['http://localhost:8080/hook', false, null],
    ['http://127.0.0.1:8080/hook', false, null],
    ['http://[::1]:8080/hook', false, null],
    ['http://localhost:8080/hook', true, 'must use https'],
    ['http://hooks.example.com/hook', false, 'must use https'],
    ['ftp://hooks.example.com/hook', false, 'must use https'],
    ['https://localhost/hook', true, 'private'],
    ['https://api.localhost/hook', true, 'private'],
    ['https://10.1.2.3/hook', true, 'private'],
    ['https://172.20.0.1/hook', true, 'private'],
    ['https://192.168.1.10/hook', true, 'private'],
    ['https://169.254.169.254/latest/meta-data', true, 'private'],
    ['https://0x7f.1/hook', true, 'private'],
    ['https://2130706433/hook', true, 'private'],
    ['https://[::ffff:127.0.0.1]/hook', true, 'private'],
    ['https://[fd00::1]/hook', true, 'private'],
    ['https://[fe80::1]/hook', true, 'private'],
    // A fully qualified name (trailing dot) is the same host: refused as it is without the dot.
    ['https://localhost./hook', true, 'private'],
    ['https://api.localhost./hook', true, 'private'],
    ['http://localhost.:8080/hook', false, null],
    // Found at stop 34's review: more than one trailing dot was accepted at registration.
    ['https://localhost../hook', true, 'private'],
    ['https://api.localhost../hook', true, 'private'],
    ['https://[::ffff:0:a9fe:a9fe]/hook', true, 'private'],
    ['https://[fec0::1]/hook', true, 'private'],
    ['https://user:secret@hooks.example.com/hook', false, 'credentials'],
    ['not a url', false, 'absolute'],
  ])('should judge %s (production: %s)', (url, production, problem) => {
    // Act
    const found = webhookUrlProblem(url, { production });

    // Assess
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it.each([
    ['127.0.0.1', true],
    ['10.0.0.1', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['::', true],
    ['::1', true],
    ['::ffff:a9fe:a9fe', true],
    ['64:ff9b::10.0.0.1', true],
    // IPv4-translated (::ffff:0:0/96, RFC 2765) carries an IPv4 address as mapped ones do.
    ['::ffff:0:7f00:1', true],
    ['::ffff:0:808:808', false],
    // Site-local (fec0::/10): deprecated, still routed inside some networks.
    ['fec0::1', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['example.com', false],
  ])('should call %s private: %s', (address, expected) => {
    // Act / Assess
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
