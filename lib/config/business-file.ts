import { readFile } from 'node:fs/promises';
import { type BusinessConfig, parseBusinessConfig } from '#lib/domain/business-config.ts';
import { ConfigError } from './env.ts';

/** Reads and validates switchboard.config.json; a bad file stops start-up naming path and reason. */
export async function loadBusinessConfigFile(path: string): Promise<BusinessConfig> {
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
  return parseBusinessConfig(json);
}
