import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, SECRET_NAMES } from '#lib/config/env.ts';
import { BusinessConfigError } from '#lib/domain/business-config.ts';
import { CalendarError } from '#lib/domain/calendar.ts';
import { type DevSecrets, loadDevSecrets } from './dev-secrets.ts';
import { dataDirOf } from './paths.ts';

/** Wrong arguments: print the usage, exit 2. */
export class UsageError extends Error {}
/** The command could not do its work: print the message, exit 1. */
export class CliError extends Error {}

/** Whether an npm start has kept its dev secrets in this data dir. */
function hasDevSecrets(dataDir: string): Promise<boolean> {
  return access(join(dataDir, 'dev-secrets.json')).then(
    () => true,
    () => false,
  );
}

/**
 * The dev secrets of the npm start whose data dir the environment names (SWITCHBOARD_DATA_DIR,
 * else .switchboard/), each overridden by the environment. Only read: loadDevSecrets would
 * generate (and save) secrets no running server knows, and everything signed or sent with them
 * would be refused.
 */
export async function existingDevSecrets(env: NodeJS.ProcessEnv): Promise<DevSecrets> {
  const dataDir = dataDirOf(env);
  if (!(await hasDevSecrets(dataDir)) && !SECRET_NAMES.every((name) => env[name]?.trim())) {
    throw new CliError(
      `No dev secrets in ${dataDir}: no npm start has used that data dir. Start one (npm start), or set ` +
        'SWITCHBOARD_DATA_DIR to the data dir your npm start uses (its banner names it).',
    );
  }
  return loadDevSecrets(dataDir, env);
}

/**
 * The token the CLIs talk to the running Switchboard with: AGENT_API_TOKEN from the
 * environment, else the one npm start keeps in its data dir.
 */
export async function apiToken(env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env.AGENT_API_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const dataDir = dataDirOf(env);
  // loadDevSecrets would generate (and save) a token no server knows: only read an existing file.
  if (!(await hasDevSecrets(dataDir))) {
    throw new CliError(
      `No AGENT_API_TOKEN in the environment and no dev secrets in ${dataDir}: set AGENT_API_TOKEN, ` +
        'or SWITCHBOARD_DATA_DIR to the data dir npm start uses.',
    );
  }
  return (await loadDevSecrets(dataDir, env)).values.AGENT_API_TOKEN;
}

/**
 * What a CLI says when the running Switchboard refused its token (401): where the token came
 * from, and, for a data dir's, that it is probably another npm start's.
 */
export function tokenRefused(base: string, env: NodeJS.ProcessEnv): CliError {
  const source = env.AGENT_API_TOKEN?.trim()
    ? 'the AGENT_API_TOKEN set in the environment is not its own'
    : `the AGENT_API_TOKEN in ${join(dataDirOf(env), 'dev-secrets.json')} is another npm start's: set ` +
      'SWITCHBOARD_DATA_DIR (and PORT) as the banner of the npm start that listens there prints them';
  return new CliError(`${base} refused the token (401): ${source}.`);
}

/** The running Switchboard's base URL: `--url`, else npm start's on PORT (3000 by default). */
export function serverUrl(url: string | undefined, env: NodeJS.ProcessEnv): string {
  return (url ?? `http://localhost:${env.PORT?.trim() || 3000}`).replace(/\/+$/, '');
}

/**
 * A CLI's exit code for what it threw: the usage and 2; the message and 1 for a failure of
 * its own or a configuration (environment, business config or calendar) it cannot work with;
 * anything else rethrown.
 */
export function exitCodeFor(error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${usage}\n`);
    return 2;
  }
  if (
    error instanceof CliError ||
    error instanceof ConfigError ||
    error instanceof BusinessConfigError ||
    error instanceof CalendarError
  ) {
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  throw error;
}
