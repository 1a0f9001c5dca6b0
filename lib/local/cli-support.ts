import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '#lib/config/env.ts';
import { BusinessConfigError } from '#lib/domain/business-config.ts';
import { CalendarError } from '#lib/domain/calendar.ts';
import { loadDevSecrets } from './dev-secrets.ts';
import { dataDirOf } from './paths.ts';

/** Wrong arguments: print the usage, exit 2. */
export class UsageError extends Error {}
/** The command could not do its work: print the message, exit 1. */
export class CliError extends Error {}

/**
 * The token the CLIs talk to the running Switchboard with: AGENT_API_TOKEN from the
 * environment, else the one npm start keeps in its data dir.
 */
export async function apiToken(env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env.AGENT_API_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const dataDir = dataDirOf(env);
  // loadDevSecrets would generate (and save) a token no server knows: only read an existing file.
  const exists = await access(join(dataDir, 'dev-secrets.json')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new CliError(
      `No AGENT_API_TOKEN in the environment and no dev secrets in ${dataDir}: set AGENT_API_TOKEN, ` +
        'or SWITCHBOARD_DATA_DIR to the data dir npm start uses.',
    );
  }
  return (await loadDevSecrets(dataDir, env)).values.AGENT_API_TOKEN;
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
