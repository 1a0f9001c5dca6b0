import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import { generateHolidayTable } from '#lib/domain/holidays.ts';
import { PROJECT_ROOT } from './paths.ts';

// `npm run holidays [-- --config <path>]`: computes the public holidays of the configured
// place, 2020-2045, with date-holidays into lib/domain/holidays.generated.json, the table the
// Lambda bundles read (lib/domain/holidays.ts says why). Run it after changing the country,
// state, region or time zone; the build refuses a table that does not match the config.
export const TABLE_YEARS = { from: 2020, to: 2045 } as const;
export const TABLE_PATH = join(PROJECT_ROOT, 'lib', 'domain', 'holidays.generated.json');

const { values } = parseArgs({ options: { config: { type: 'string' } } });
const configPath = resolve(
  values.config ?? process.env.SWITCHBOARD_CONFIG ?? join(PROJECT_ROOT, 'switchboard.config.json'),
);
const config = await loadBusinessConfigFile(configPath);
const { country, state, region, types } = config.holidays;
const spec = { country, state, region, types, timeZone: config.timeZone };
const table = generateHolidayTable(spec, TABLE_YEARS.from, TABLE_YEARS.to);
await writeFile(TABLE_PATH, `${JSON.stringify(table)}\n`);
const days = Object.values(table.years).reduce((sum, year) => sum + year.length, 0);
process.stdout.write(
  `${days} ${types.join('/')} holidays of ${[country, state, region].filter(Boolean).join('-')} in ${config.timeZone}, ${TABLE_YEARS.from}-${TABLE_YEARS.to} -> ${TABLE_PATH}\n`,
);
