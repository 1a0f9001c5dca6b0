import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Kept apart from server.ts: the CLIs need these without loading the embedded emulators.

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
export const DEFAULT_DATA_DIR = join(PROJECT_ROOT, '.switchboard');
/** The WhatsApp Cloud phone number id npm start and simulate use when none is configured. */
export const DEV_WHATSAPP_PHONE_NUMBER_ID = '106540352242922';

/** The data dir npm start uses: SWITCHBOARD_DATA_DIR, else .switchboard/ in the project. */
export function dataDirOf(env: NodeJS.ProcessEnv | Record<string, string | undefined>): string {
  return resolve(env.SWITCHBOARD_DATA_DIR?.trim() || DEFAULT_DATA_DIR);
}

/**
 * The arguments `npm start` gives node (its V8 flags and lib/local/main.ts), read from
 * package.json, so the bench and the tests run the program exactly as a developer does. The
 * script `exec`s node: npm runs it with `sh -c`, and a shell that forks node instead (dash, the
 * /bin/sh of Debian and Ubuntu) dies of the SIGTERM npm forwards to it without passing it on,
 * leaving the server running when a process manager stops npm alone.
 */
export function npmStartArguments(): string[] {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [exec, command, ...args] = manifest.scripts.start.trim().split(/\s+/);
  if (exec !== 'exec' || command !== 'node' || !args.includes('lib/local/main.ts')) {
    throw new Error(`npm start is not "exec node [flags] lib/local/main.ts": ${manifest.scripts.start}`);
  }
  return args;
}
