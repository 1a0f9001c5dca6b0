// The runs of a property test. CI replays one fixed seed, so a red run is reproducible; a
// soak tries others: FUZZ_SEED=<n> (or `random`) and FUZZ_SCALE=<k> (k times the runs, and
// k times the test's time limit). fast-check prints the seed and path of a failure, which
// replays it: FUZZ_SEED=<seed> with `path` in the property's options if need be.

const CI_SEED = 20261125;

function parseScale(raw: string | undefined): number {
  const scale = Number(raw ?? '1');
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`FUZZ_SCALE must be a positive number, not ${raw}`);
  return scale;
}

function parseSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return CI_SEED;
  if (raw === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${raw}`);
  return seed;
}

const scale = parseScale(process.env.FUZZ_SCALE);
const seed = parseSeed(process.env.FUZZ_SEED);

/** fast-check's options for a property CI runs `numRuns` times. */
export function fuzzRuns(numRuns: number): { numRuns: number; seed: number } {
  return { numRuns: Math.max(1, Math.round(numRuns * scale)), seed };
}

/** The test's time limit for those runs. */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, scale));
}
