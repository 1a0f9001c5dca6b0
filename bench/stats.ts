/** The bench's arithmetic: percentiles, medians, spreads and the budget check of each figure. */

/** The nearest-rank percentile (p in [0, 100]) of the values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside [0, 100]`);
  const sorted = values.toSorted((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Repeated measurements of one thing: their median stands for it, min and max show the noise. */
export type Sample = { median: number; min: number; max: number; runs: number };

export function sample(values: readonly number[]): Sample {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/**
 * A budget on subject / floor, both measured in the same run: `atLeast` for throughput (the
 * subject keeps at least that share of the floor), `atMost` for costs (size, time, memory).
 */
export type Budget = { kind: 'atLeast' | 'atMost'; ratio: number };

export type Verdict = { ratio: number; ok: boolean };

export function judge(subject: number, floor: number, budget: Budget): Verdict {
  const ratio = subject / floor;
  if (!Number.isFinite(ratio)) return { ratio, ok: false };
  return { ratio, ok: budget.kind === 'atLeast' ? ratio >= budget.ratio : ratio <= budget.ratio };
}

export function describeBudget(budget: Budget): string {
  return budget.kind === 'atLeast' ? `>= ${budget.ratio} of the floor` : `<= ${budget.ratio}x the floor`;
}
