import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import businessJson from '../../switchboard.config.json' with { type: 'json' };

/**
 * Two closures of 366 days each (within the schema's limit), one day apart: no working time
 * within the calendar's horizon, so no promise can be made for any message.
 */
function closedForTwoYears(): Record<string, unknown> {
  const today = DateTime.now().setZone('Europe/Warsaw').startOf('day');
  const day = (n: number) => today.plus({ days: n }).toISODate() as string;
  return {
    ...businessJson,
    closures: [
      { from: day(0), to: day(365), reason: 'remont' },
      { from: day(367), to: day(732), reason: 'remont, etap 2' },
    ],
  };
}

// A Lambda cold start takes the business settings bundled into the function
// (lib/runtime/lambda.ts imports switchboard.config.json); it must refuse what npm start refuses.
// Found at stop 25: it only parsed them, so a file that could promise nothing started, and every
// message then threw CalendarError (Twilio's went to the work queue and on to the DLQ, calls
// heard a 500).
describe('a Lambda cold start with an edited business config', () => {
  const saved = { ...process.env };
  let dir: string | undefined;

  afterEach(async () => {
    process.env = { ...saved };
    vi.doUnmock('../../switchboard.config.json');
    vi.resetModules();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should stop the cold start, as npm start stops, when the bundled config can make no promise', async () => {
    // Prepare: npm start refuses this file
    const edited = closedForTwoYears();
    dir = await mkdtemp(join(tmpdir(), 'cold-start-'));
    const path = join(dir, 'switchboard.config.json');
    await writeFile(path, JSON.stringify(edited));
    await expect(loadBusinessConfigFile(path)).rejects.toThrow(/no promise can be made/);
    // The same file bundled into the functions; nothing listens on the endpoints (none is called).
    vi.doMock('../../switchboard.config.json', () => ({ default: edited }));
    process.env = {
      ...saved,
      NODE_ENV: 'production',
      TWILIO_AUTH_TOKEN: '12345678901234567890123456789012',
      TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
      AGENT_API_TOKEN: 'a'.repeat(48),
      TABLE_NAME: 'switchboard-cold-start',
      ACK_QUEUE_URL: 'http://127.0.0.1:9/000000000000/acks',
      SWITCHBOARD_DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
      SWITCHBOARD_SQS_ENDPOINT: 'http://127.0.0.1:9',
      SWITCHBOARD_SECRETS_ARN: '',
      PUBLIC_URL: 'https://hooks.example.com',
    };
    const { loadLambdaRuntime } = await import('#lib/runtime/lambda.ts');

    // Act
    const coldStart = await loadLambdaRuntime('switchboard-http').then(
      (runtime) => ({ started: true, closures: runtime.recordDeps.business.closures.length }),
      (error: Error) => ({ started: false, message: error.message }),
    );

    // Assess: the cold start names the problem, instead of starting a function (with the
    // edited config: 2 closures) whose every message throws CalendarError
    expect(coldStart).toEqual({ started: false, message: expect.stringMatching(/no promise can be made/) });
  });
});
