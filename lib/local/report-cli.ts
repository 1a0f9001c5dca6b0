import { parseArgs } from 'node:util';
import type { Figures } from '#lib/domain/service-level.ts';
import type { ServiceLevelReport } from '#lib/use-cases/service-level.ts';
import { apiToken, CliError, exitCodeFor, serverUrl, tokenRefused, UsageError } from './cli-support.ts';

const USAGE = `Usage: npm run report -- --from YYYY-MM-DD --to YYYY-MM-DD [--channel sms] [--url <base>]

Prints the agents' service level for the date range (business time zone, both days included):
totals and each channel as columns, then one line per day.

  --url <base>      where Switchboard runs (default http://localhost:$PORT or 3000)

Calls GET /api/service-level of the running Switchboard (npm start), authenticated with
AGENT_API_TOKEN from the environment, else from the dev secrets in the data dir (SWITCHBOARD_DATA_DIR).`;

type Options = { from: string; to: string; channel: string | undefined; url: string | undefined };

function parseOptions(argv: readonly string[]): Options | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (!values.from || !values.to) throw new UsageError('--from and --to are required');
  return { from: values.from, to: values.to, channel: values.channel, url: values.url };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      channel: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function fetchReport(
  base: string,
  token: string,
  options: Options,
  env: NodeJS.ProcessEnv,
): Promise<ServiceLevelReport> {
  const query = new URLSearchParams({ from: options.from, to: options.to });
  if (options.channel) query.set('channel', options.channel);
  let response: Response;
  try {
    response = await fetch(`${base}/api/service-level?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  } catch {
    throw new CliError(
      `Nothing answers at ${base}: is Switchboard running (npm start)? Pass --url or set PORT.`,
    );
  }
  if (response.status === 401) throw tokenRefused(base, env);
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      const { error } = JSON.parse(text) as { error: { message: string; details?: unknown } };
      detail = `${error.message}${error.details === undefined ? '' : ` ${JSON.stringify(error.details)}`}`;
    } catch {
      // Not our JSON error body (another server on that port?): show it as it came.
    }
    throw new CliError(`GET /api/service-level -> ${response.status}: ${detail}`);
  }
  return JSON.parse(text) as ServiceLevelReport;
}

const percent = (share: number | null) => (share === null ? '–' : `${Math.round(share * 1000) / 10}%`);
const hours = (value: number | null) => (value === null ? '–' : `${value} h`);
const skipped = (reasons: Record<string, number>) =>
  Object.entries(reasons)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ') || '0';

const ROWS: Array<[string, (f: Figures) => string]> = [
  ['Conversations received', (f) => String(f.conversations)],
  ['Messages received', (f) => String(f.messages)],
  ['Episodes answered', (f) => String(f.answered)],
  [
    'Promises kept',
    (f) => `${percent(f.promisesKept.share)} (${f.promisesKept.kept}/${f.promisesKept.measured})`,
  ],
  ['First reply, median (working)', (f) => hours(f.firstReplyWorkingHours.median)],
  ['First reply, p90 (working)', (f) => hours(f.firstReplyWorkingHours.p90)],
  [
    'First-contact resolution',
    (f) => {
      const fcr = f.firstContactResolution;
      return `${percent(fcr.share)} (${fcr.firstContact}/${fcr.resolved}${fcr.pending ? `, ${fcr.pending} pending` : ''})`;
    },
  ],
  ['Late notices sent', (f) => String(f.noticesSent)],
  ['Acks skipped', (f) => skipped(f.acksSkipped)],
  ['Promises breached', (f) => String(f.breaches)],
];

function table(rows: readonly (readonly string[])[]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** The report as terminal lines: figures × (total, each channel), then one line per day. */
export function formatReport(report: ServiceLevelReport): string[] {
  const channels = Object.entries(report.byChannel) as Array<[string, Figures]>;
  const summary = table([
    ['', 'total', ...channels.map(([channel]) => channel)],
    ...ROWS.map(([label, cell]) => [label, cell(report.totals), ...channels.map(([, f]) => cell(f))]),
  ]);
  const days = table([
    ['date', 'conv', 'msgs', 'answered', 'kept', 'median', 'p90', 'FCR', 'notices', 'skipped', 'breaches'],
    ...report.byDay.map((d) => [
      d.date,
      String(d.conversations),
      String(d.messages),
      String(d.answered),
      percent(d.promisesKept.share),
      hours(d.firstReplyWorkingHours.median),
      hours(d.firstReplyWorkingHours.p90),
      percent(d.firstContactResolution.share),
      String(d.noticesSent),
      String(Object.values(d.acksSkipped).reduce((sum, n) => sum + n, 0)),
      String(d.breaches),
    ]),
  ]);
  const scope = report.channel ? `, ${report.channel} only` : '';
  return [
    `Service level ${report.from} – ${report.to} (${report.timeZone}${scope})`,
    '',
    ...summary,
    '',
    ...days,
    '',
    'Working hours follow the business calendar (quarter-hour resolution). First-contact resolution',
    'counts a resolution once 7 days passed without the customer writing again.',
  ];
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const base = serverUrl(options.url, env);
    const report = await fetchReport(base, await apiToken(env), options, env);
    process.stdout.write(`${formatReport(report).join('\n')}\n`);
    return 0;
  } catch (error) {
    return exitCodeFor(error, USAGE);
  }
}

// Run only as the entry point, so tests can import formatReport.
if (import.meta.main) process.exitCode = await main(process.argv.slice(2), process.env);
