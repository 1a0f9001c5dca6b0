import * as path from 'node:path';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { parseBusinessConfig } from '../lib/domain/business-config.ts';
import { tableMatches } from '../lib/domain/holidays.ts';
import { assertCanPromise } from '../lib/domain/promise.ts';
import businessJson from '../switchboard.config.json' with { type: 'json' };

/** The repository root: NodejsFunction runs esbuild here (the directory of the lock file). */
export const PROJECT_ROOT = path.join(import.meta.dirname, '..');

/** The deployable entry points under `functions/`, by the name their bundle gets in `dist/`. */
export const FUNCTION_ENTRIES = {
  http: 'http.ts',
  'ack-worker': 'ack-worker.ts',
  sweeper: 'sweeper.ts',
} as const;
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

export const entryPath = (name: FunctionName): string =>
  path.join(PROJECT_ROOT, 'functions', FUNCTION_ENTRIES[name]);

/**
 * The embedded emulators and the dev server of `lib/local`. They are external so that a stray
 * import fails loudly at cold start instead of shipping a database emulator to Lambda; they are
 * never installed into the bundle (no `nodeModules`).
 */
export const LOCAL_ONLY_MODULES = ['dynalite', 'fauxqs', '@hono/node-server'] as const;

// Bundled CommonJS dependencies call `require`, which an ES module does not have.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __switchboardCreateRequire } from 'node:module';" +
  'const require = __switchboardCreateRequire(import.meta.url);';

/**
 * The one description of how a function is bundled. SwitchboardFunction hands it to
 * NodejsFunction; `npm run build` turns it into the same esbuild call with `esbuildOptions`,
 * so the bundle the tests import and measure is byte for byte the one that ships.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  // Prefer the ESM build of dual packages so tree shaking works.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The SDK clients are bundled: the versions the tests ran against are the ones that run,
  // not whatever the Lambda runtime happens to ship. esbuild keeps only the clients imported.
  bundleAwsSDK: true,
  externalModules: [...LOCAL_ONLY_MODULES],
} as const satisfies BundlingOptions;

/**
 * The esbuild options NodejsFunction derives from `LAMBDA_BUNDLING` (aws-lambda-nodejs
 * `Bundling.buildEsbuildArgs`: `--bundle --platform=node --target --format --outfile --minify
 * --sourcemap --sources-content --external --banner --main-fields`, run from the project root),
 * plus a metafile, which only reports and does not change the output.
 */
export function esbuildOptions(name: FunctionName, outfile: string): BuildOptions & { metafile: true } {
  assertBundledBusinessConfig();
  const bundling: BundlingOptions = LAMBDA_BUNDLING;
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entryPath(name)],
    bundle: true,
    platform: 'node',
    target: bundling.target,
    format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    outfile,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: [...(bundling.externalModules ?? [])],
    mainFields: [...(bundling.mainFields ?? [])],
    ...(bundling.banner ? { banner: { js: bundling.banner } } : {}),
    metafile: true,
    logLevel: 'warning',
  };
}

/** The years a deployment must find in the holiday table: the last one and the next ten. */
export function holidayYearsNeeded(now = new Date()): { from: number; to: number } {
  return { from: now.getUTCFullYear() - 1, to: now.getUTCFullYear() + 10 };
}

/**
 * Stops a build or synth whose bundled switchboard.config.json a cold start would refuse: one
 * that cannot make a promise from now (as npm start refuses it; the functions run the same
 * check, lib/domain/promise.ts), or that asks for holidays the generated table
 * (lib/domain/holidays.generated.json) does not hold: the bundle has no date-holidays to fall
 * back on, so it would fail at its first promise instead of here.
 */
export function assertBundledBusinessConfig(now = new Date()): void {
  const config = parseBusinessConfig(businessJson);
  const { country, state, region, types } = config.holidays;
  const spec = { country, state, region, types, timeZone: config.timeZone };
  if (!tableMatches(spec, holidayYearsNeeded(now))) {
    throw new Error(
      'lib/domain/holidays.generated.json does not hold the holidays of switchboard.config.json (place, types, time zone or years): run `npm run holidays`',
    );
  }
  assertCanPromise(config, now);
}
