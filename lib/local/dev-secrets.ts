import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_NAMES, type SecretName } from '#lib/config/env.ts';

export type DevSecrets = { values: Record<SecretName, string>; generated: SecretName[]; path: string };

function generate(name: SecretName): string {
  if (name === 'TWILIO_ACCOUNT_SID') return `AC${randomBytes(16).toString('hex')}`;
  if (name === 'TWILIO_AUTH_TOKEN' || name === 'META_APP_SECRET') return randomBytes(16).toString('hex');
  if (name === 'MAILGUN_SIGNING_KEY') return `key-${randomBytes(16).toString('hex')}`;
  return `dev_${randomBytes(24).toString('base64url')}`;
}

/**
 * Development secrets: any secret the environment does not set is generated once and kept in
 * the data dir (mode 0600), so a restart and `npm run simulate` use the same values. Never
 * used when NODE_ENV is production.
 */
export async function loadDevSecrets(
  dataDir: string,
  env: Record<string, string | undefined>,
): Promise<DevSecrets> {
  const path = join(dataDir, 'dev-secrets.json');
  let stored: Partial<Record<SecretName, string>> = {};
  try {
    stored = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    stored = {};
  }
  const values = {} as Record<SecretName, string>;
  const generated: SecretName[] = [];
  for (const name of SECRET_NAMES) {
    const fromEnv = env[name]?.trim();
    if (fromEnv) values[name] = fromEnv;
    else if (stored[name]) values[name] = stored[name];
    else {
      values[name] = generate(name);
      stored[name] = values[name];
      generated.push(name);
    }
  }
  if (generated.length > 0) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return { values, generated, path };
}
