import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError, ROTATION_SECRETS, SECRET_NAMES, TWILIO_SHARED_KEY_SECRETS } from './env.ts';
import { TOKEN_MAP_SECRETS } from './meta-senders.ts';

/**
 * Reads the provider secrets (a JSON object) from Secrets Manager and returns them as
 * environment-style entries to merge. Called once, at the cold start (loadLambdaRuntime): the
 * configuration built from them lives as long as the instance, so Powertools' cache (maxAge)
 * never comes into play, and a changed secret is live only in instances started after the change
 * (docs/deploy.md, "Rotating a provider credential"). The standing problems the sweeper counts on
 * every run are its own instance's on purpose: counted from a secret read again, the
 * ChannelMisconfigured and BootstrapTokenRefused alarms would clear while the http function's
 * warm instances still refuse that channel's webhooks or that token.
 */
export async function loadSecretsFromAws(secretArn: string): Promise<Record<string, string>> {
  // Fetched as text and parsed here: Powertools' JSON transform would fail with V8's parse
  // message, which quotes the secret around the mistake, into the cold-start log.
  const raw = await getSecret<string>(secretArn);
  return parseProviderSecret(typeof raw === 'string' ? raw : undefined);
}

/** The provider secret's entries; a value that is not a JSON object is refused without quoting it. */
export function parseProviderSecret(raw: string | undefined): Record<string, string> {
  let value: unknown;
  try {
    value = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    throw new ConfigError('The provider secret is not valid JSON (its text is not shown: it holds secrets)');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError('The provider secret is not a JSON object');
  const entries: Record<string, string> = {};
  for (const name of [...SECRET_NAMES, ...ROTATION_SECRETS, ...TWILIO_SHARED_KEY_SECRETS]) {
    const item = (value as Record<string, unknown>)[name];
    if (typeof item === 'string' && item.trim() !== '') entries[name] = item;
  }
  // A token map may be written in the secret as the JSON object it is, or as its text.
  for (const name of TOKEN_MAP_SECRETS) {
    const item = (value as Record<string, unknown>)[name];
    if (typeof item === 'string' && item.trim() !== '') entries[name] = item;
    else if (item && typeof item === 'object') entries[name] = JSON.stringify(item);
  }
  return entries;
}
