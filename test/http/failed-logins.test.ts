import { describe, expect, it } from 'vitest';
import { FailedLogins } from '#lib/http/failed-logins.ts';
import type { RateLimiter } from '#lib/ports/rate-limiter.ts';
import { TestClock } from '#test/support/clock.ts';
import { memoryLog } from '#test/support/silent-log.ts';

// Found at stop 25 (a review of the failed-login limit): when the shared counter could not be
// written (DynamoDB throttling, an outage), a mistyped token answered 500 instead of 401.
describe('FailedLogins', () => {
  it('should let a wrong token be answered as wrong when the shared counter cannot be written, and say so in the log', async () => {
    // Prepare
    const log = memoryLog();
    const unavailable: RateLimiter = {
      take: async () => {
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      },
    };
    const logins = new FailedLogins({
      limiter: unavailable,
      clock: new TestClock('2026-11-25T10:00:00Z'),
      log,
    });

    // Act
    const wait = await logins.failed('203.0.113.7');

    // Assess: not counted, not refused; the operator sees why
    expect(wait).toBeNull();
    expect(logins.blocked('203.0.113.7')).toBeNull();
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'failed login not counted',
        fields: expect.objectContaining({ client: '203.0.113.7' }),
      }),
    );
  });

  it('should refuse a client past its budget until its window ends', async () => {
    // Prepare
    const clock = new TestClock('2026-11-25T10:00:00Z');
    const refusing: RateLimiter = { take: async () => ({ allowed: false, retryAfterSeconds: 120 }) };
    const logins = new FailedLogins({ limiter: refusing, clock, log: memoryLog() });

    // Act
    const wait = await logins.failed('203.0.113.7');
    clock.advance(60_000);
    const halfway = logins.blocked('203.0.113.7');
    clock.advance(60_000);
    const after = logins.blocked('203.0.113.7');

    // Assess
    expect(wait).toBe(120);
    expect(halfway).toBe(60);
    expect(after).toBeNull();
  });
});
