import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, version } from 'esbuild';
import { esbuildOptions, FUNCTION_ENTRIES, type FunctionName, PROJECT_ROOT } from './bundling.ts';

/** What `npm run build` reports for one function. */
export interface BundleReport {
  readonly name: FunctionName;
  /** Absolute path of the bundle (`<outdir>/<name>/index.mjs`). */
  readonly file: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  /** The `@aws-sdk/client-*` packages esbuild kept: the proof that tree shaking dropped the rest. */
  readonly sdkClients: string[];
  /** The packages that weigh most in the output, heaviest first. */
  readonly largestPackages: { name: string; bytes: number }[];
}

export const FUNCTION_NAMES = Object.keys(FUNCTION_ENTRIES) as FunctionName[];

/** Bundles one function exactly as SwitchboardFunction does, into `<outdir>/<name>/index.mjs`. */
export async function buildFunction(name: FunctionName, outdir: string): Promise<BundleReport> {
  const file = path.join(outdir, name, 'index.mjs');
  await mkdir(path.dirname(file), { recursive: true });
  const { metafile } = await build(esbuildOptions(name, file));
  await writeFile(path.join(outdir, name, 'index.meta.json'), JSON.stringify(metafile));
  const code = await readFile(file);
  const bytesByPackage = packageBytes(metafile);
  return {
    name,
    file,
    rawBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    sdkClients: [...bytesByPackage.keys()].filter((pkg) => pkg.startsWith('@aws-sdk/client-')).sort(),
    largestPackages: [...bytesByPackage]
      .map(([pkg, bytes]) => ({ name: pkg, bytes }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 8),
  };
}

/** Bytes each package contributes to the (single) output, from esbuild's metafile. */
function packageBytes(metafile: Metafile): Map<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      totals.set(pkg, (totals.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return totals;
}

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at === -1) return input.split('/')[0] === 'lib' ? 'lib/ (ours)' : input.split('/')[0] || input;
  const [scope, name] = input.slice(at + 'node_modules/'.length).split('/');
  return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? input);
}

const kb = (bytes: number) => `${(bytes / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} KB`;

function table(reports: BundleReport[]): string {
  const rows = [
    ['function', 'raw', 'gzip', 'AWS SDK clients'],
    ...reports.map((r) => [
      r.name,
      kb(r.rawBytes),
      kb(r.gzipBytes),
      r.sdkClients.map((c) => c.replace('@aws-sdk/client-', '')).join(', '),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, i) =>
        i === 1 || i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      ),
    )
    .map((row) => row.join('  ').trimEnd())
    .join('\n');
}

async function main(): Promise<void> {
  const outdir = path.join(PROJECT_ROOT, 'dist');
  const reports = await Promise.all(FUNCTION_NAMES.map((name) => buildFunction(name, outdir)));
  console.log(`esbuild ${version}: functions/*.ts -> dist/<name>/index.mjs\n`);
  console.log(table(reports));
  const sizes = Object.fromEntries(
    reports.map(({ name, file, ...report }) => [
      name,
      { file: path.relative(PROJECT_ROOT, file), ...report },
    ]),
  );
  await writeFile(
    path.join(outdir, 'bundle-sizes.json'),
    `${JSON.stringify({ esbuild: version, functions: sizes }, null, 2)}\n`,
  );
  console.log('\nwritten dist/bundle-sizes.json');
}

if (import.meta.main) await main();
