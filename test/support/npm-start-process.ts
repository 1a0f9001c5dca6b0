import { type ChildProcess, spawn } from 'node:child_process';
import { npmStartArguments, PROJECT_ROOT } from '#lib/local/paths.ts';

export type StartedProcess = { child: ChildProcess; url: string; output: () => string };

/**
 * Runs what npm start runs (`node <its flags> lib/local/main.ts`) as its own process on a free port with
 * this data dir, and waits until it prints where it listens (and `ready` holds, if given).
 */
export async function startNpmStart(
  dataDir: string,
  options: { env?: NodeJS.ProcessEnv; ready?: (output: string) => boolean } = {},
): Promise<StartedProcess> {
  const child = spawn(process.execPath, npmStartArguments(), {
    cwd: PROJECT_ROOT,
    env: {
      ...(options.env ?? process.env),
      SWITCHBOARD_DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'development',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  for (let i = 0; i < 200; i++) {
    const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
    if (match?.[1] && (options.ready?.(output) ?? true))
      return { child, url: match[1], output: () => output };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`npm start did not come up:\n${output}`);
}
