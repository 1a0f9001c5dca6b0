import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import { generateHolidayTable } from '#lib/domain/holidays.ts';
import { exitCodeFor, UsageError } from './cli-support.ts';
import { PROJECT_ROOT } from './paths.ts';

// `npm run holidays [-- --config <path>]`: computes the public holidays of the configured
// place, 2020-2045, with date-holidays into lib/domain/holidays.generated.json, the table the
// Lambda bundles read (lib/domain/holidays.ts says why). Run it after changing the country,
// state, region or time zone; the build refuses a table that does not match the config.
export const TABLE_YEARS = { from: 2020, to: 2045 } as const;
export const TABLE_PATH = join(PROJECT_ROOT, 'lib', 'domain', 'holidays.generated.json');

const USAGE = `Usage: npm run holidays -- [--config <path>]

  --config <path>   the business config (default: $SWITCHBOARD_CONFIG, else switchboard.config.json)

Writes the public holidays of the config's place and time zone, ${TABLE_YEARS.from}-${TABLE_YEARS.to}, to
lib/domain/holidays.generated.json, the table the Lambda bundles read.`;

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): { config: string } | 'help' {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  return {
    config: resolve(values.config ?? env.SWITCHBOARD_CONFIG ?? join(PROJECT_ROOT, 'switchboard.config.json')),
  };
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const options = parseOptions(argv, env);
    if (options === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const config = await loadBusinessConfigFile(options.config);
    const { country, state, region, types } = config.holidays;
    const spec = { country, state, region, types, timeZone: config.timeZone };
    const table = generateHolidayTable(spec, TABLE_YEARS.from, TABLE_YEARS.to);
    await writeFile(TABLE_PATH, `${JSON.stringify(table)}\n`);
    const days = Object.values(table.years).reduce((sum, year) => sum + year.length, 0);
    process.stdout.write(
      `${days} ${types.join('/')} holidays of ${[country, state, region].filter(Boolean).join('-')} in ${config.timeZone}, ${TABLE_YEARS.from}-${TABLE_YEARS.to} -> ${TABLE_PATH}\n`,
    );
    return 0;
  } catch (error) {
    return exitCodeFor(error, USAGE);
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
