import { access } from 'node:fs/promises';
import { join } from 'node:path';
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
