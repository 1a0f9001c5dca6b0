import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalSwitchboard, startLocal } from '#lib/local/server.ts';
import { TestClock } from '#test/support/clock.ts';
import { memoryLog } from '#test/support/silent-log.ts';

// Stop 26: every caller of npm start is 127.0.0.1, so a developer's script with an old key
// (20 wrong tokens) locked the whole local API, the inbox page included, for 15 minutes.
describe('failed logins under npm start', () => {
  let local: LocalSwitchboard | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    await local?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('should refuse a loopback caller past 20 wrong tokens for at most a minute, not 15', async () => {
    // Prepare: npm start in this process, on a free port, its clock in the test's hands
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-logins-'));
    const clock = new TestClock('2026-11-25T10:00:00Z');
    local = await startLocal({
      env: { SWITCHBOARD_DATA_DIR: dataDir, PORT: '0', AGENT_API_TOKEN: 'the-right-local-token-0123456789' },
      persist: false,
      log: memoryLog(),
      clock,
      sweepIntervalMs: 3_600_000,
      statsIntervalMs: 3_600_000,
    });
    const call = (token: string) =>
      fetch(`${local?.url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 21; i++) await call(`an-old-key-from-a-script-${i}`);

    // Act
    const locked = await call('the-right-local-token-0123456789');
    clock.advance(60_000);
    const later = await call('the-right-local-token-0123456789');

    // Assess: still refused past the limit (a guesser through a tunnel stays bounded), but only
    // until the minute ends
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(later.status).toBe(200);
  });
});
