import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from '#test/support/cli.ts';

/** A stack trace's frame line, as Node prints an uncaught error. */
const STACK_FRAME = /^\s+at .+[:(]/m;

/** Runs the CLI as `npm run holidays` would. Only with arguments it refuses: a run that succeeds rewrites the table. */
function run(args: readonly string[]): Promise<CliRun> {
  return runCli('lib/local/holidays-cli.ts', args);
}

// Found by a review of the developer's experience at stop 23: both printed a stack trace.
describe('npm run holidays', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-holidays-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should print a clear message, not a stack trace, when it reads an invalid business config', async () => {
    // Prepare
    const configPath = join(dir, 'bad.json');
    await writeFile(configPath, JSON.stringify({ timeZone: 'Mars/Base' }));

    // Act
    const ran = await run(['--config', configPath]);

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('timeZone: "Mars/Base" is not an IANA time zone');
    expect(ran.stderr).not.toMatch(STACK_FRAME);
  });

  it('should exit 2 with the usage for an unknown option', async () => {
    // Act
    const ran = await run(['--cnofig', 'switchboard.config.json']);

    // Assess
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toContain("Unknown option '--cnofig'");
    expect(ran.stderr).toContain('Usage: npm run holidays');
    expect(ran.stderr).not.toMatch(STACK_FRAME);
  });
});
