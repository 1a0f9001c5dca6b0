import { readFile } from 'node:fs/promises';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { parseServableBusinessConfig } from '#lib/domain/promise.ts';
import { ConfigError } from './env.ts';

/**
 * Reads and validates switchboard.config.json; a bad file stops start-up naming path and
 * reason, and so does one that cannot make a promise from `now` (a few promises computed).
 */
export async function loadBusinessConfigFile(path: string, now = new Date()): Promise<BusinessConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `Cannot read SWITCHBOARD_CONFIG ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseServableBusinessConfig(json, now);
}
