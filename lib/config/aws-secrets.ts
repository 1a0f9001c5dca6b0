import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError, SECRET_NAMES } from './env.ts';

/**
 * Reads the provider secrets (a JSON object) from Secrets Manager once per cold start,
 * cached by Powertools, and returns them as environment-style entries to merge.
 */
export async function loadSecretsFromAws(secretArn: string): Promise<Record<string, string>> {
  const value = await getSecret<Record<string, unknown>>(secretArn, { transform: 'json', maxAge: 300 });
  if (!value || typeof value !== 'object') throw new ConfigError('The provider secret is not a JSON object');
  const entries: Record<string, string> = {};
  for (const name of SECRET_NAMES) {
    const item = value[name];
    if (typeof item === 'string' && item.trim() !== '') entries[name] = item;
  }
  return entries;
}
