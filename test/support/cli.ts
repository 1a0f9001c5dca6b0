import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository's root, where npm runs the scripts. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

/** What a CLI run ended with: its exit code and everything it printed. */
export type CliRun = { code: number | null; stdout: string; stderr: string };

/**
 * Runs `node <script> <args>` from the repository's root, as its npm script would, with this
 * process's environment less SWITCHBOARD_CONFIG (so the repo's switchboard.config.json), plus `env`.
 */
export function runCli(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const { SWITCHBOARD_CONFIG: _ignored, ...inherited } = process.env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(PROJECT_ROOT, script), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...inherited, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
