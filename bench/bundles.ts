import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
// The bench measures what `npm run build` ships, so it bundles with the one description of it.
import { buildFunction } from '../infra/build.ts';
import { esbuildOptions } from '../infra/bundling.ts';
import { median } from './stats.ts';

const run = promisify(execFile);

export type BundleFigures = {
  http: { gzipBytes: number; importMs: number[]; largest: { name: string; bytes: number }[] };
  bare: { gzipBytes: number; importMs: number[] };
};

// Imports a bundle as Lambda does (a file URL, ESM) and prints how long the import took.
const RUNNER = `
const started = performance.now();
await import(process.argv[2]);
process.stdout.write(String(performance.now() - started));
process.exit(0);
`;

/** What Lambda sets for the http function (pointed nowhere: importing makes no call). */
const LAMBDA_ENV = {
  NODE_ENV: 'production',
  NODE_OPTIONS: '--enable-source-maps',
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  POWERTOOLS_SERVICE_NAME: 'switchboard-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Switchboard',
  TABLE_NAME: 'switchboard-bench',
  ACK_QUEUE_URL: 'http://127.0.0.1:9/000000000000/switchboard-bench-acks',
  SWITCHBOARD_DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
  SWITCHBOARD_SQS_ENDPOINT: 'http://127.0.0.1:9',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  AGENT_API_TOKEN: 'bench-agent-token-0123456789abcdef',
  PUBLIC_URL: 'https://hooks.switchboard.example',
};

/**
 * The http function's bundle (as `npm run build` makes it) against a bundle of bare Hono +
 * hono/aws-lambda + the DynamoDB and SQS clients built with the same options: gzip bytes, and
 * the cold import of each in fresh processes, alternating, `imports` times each.
 */
export async function measureBundles(imports: number): Promise<BundleFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-bundles-'));
  try {
    const http = await buildFunction('http', dir);
    const bareFile = join(dir, 'bare', 'index.mjs');
    await build({
      ...esbuildOptions('http', bareFile),
      entryPoints: [join(import.meta.dirname, 'bare-lambda.ts')],
    });
    const bareGzip = gzipSync(await readFile(bareFile), { level: 9 }).byteLength;
    const runner = join(dir, 'runner.mjs');
    await writeFile(runner, RUNNER);
    const importMs = { http: [] as number[], bare: [] as number[] };
    const env = { PATH: process.env.PATH ?? '', ...LAMBDA_ENV };
    for (let i = 0; i < imports; i++) {
      for (const [name, file] of [
        ['http', http.file],
        ['bare', bareFile],
      ] as const) {
        const { stdout } = await run(process.execPath, [runner, pathToFileURL(file).href], {
          cwd: dir,
          env,
          timeout: 60_000,
        });
        importMs[name].push(Number(stdout.trim().split('\n').pop()));
      }
    }
    return {
      http: { gzipBytes: http.gzipBytes, importMs: importMs.http, largest: http.largestPackages },
      bare: { gzipBytes: bareGzip, importMs: importMs.bare },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const medianMs = (values: readonly number[]) => median(values);
