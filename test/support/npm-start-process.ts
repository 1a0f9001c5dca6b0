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
  return startLocalServer('npm start', process.execPath, npmStartArguments(), dataDir, options);
}

/**
 * `npm run <script>` (the npm process itself, as a process manager starts it) on a free port with
 * this data dir, once it prints where it listens; npm's own start-up given up to 30 s.
 */
export async function startNpmRun(script: string, dataDir: string): Promise<StartedProcess> {
  return startLocalServer(`npm run ${script}`, 'npm', ['run', '--silent', script], dataDir, {
    within: 30_000,
  });
}

/**
 * Runs `command args` in the project root on a free port with this data dir, and waits (for up to
 * `within` ms, or until it exits) until it prints where it listens (and `ready` holds, if given).
 * `label` names it in the error when it does not come up.
 */
async function startLocalServer(
  label: string,
  command: string,
  args: string[],
  dataDir: string,
  options: { env?: NodeJS.ProcessEnv; ready?: (output: string) => boolean; within?: number } = {},
): Promise<StartedProcess> {
  const child = spawn(command, args, {
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
  for (let i = 0; i < (options.within ?? 10_000) / 50; i++) {
    const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
    if (match?.[1] && (options.ready?.(output) ?? true))
      return { child, url: match[1], output: () => output };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${label} did not come up:\n${output}`);
}
