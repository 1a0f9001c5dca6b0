import type { MetricName, Metrics } from '#lib/ports/metrics.ts';

export type CountingMetrics = Metrics & {
  /** Every count, in order. */
  counted: Array<{ name: MetricName; value: number }>;
  /** The sum of what was counted under `name`. */
  total(name: MetricName): number;
};

/** Metrics that keep what was counted (timings are dropped). */
export function countingMetrics(): CountingMetrics {
  const counted: Array<{ name: MetricName; value: number }> = [];
  return {
    counted,
    count: (name, value = 1) => void counted.push({ name, value }),
    timing: () => {},
    total: (name) =>
      counted.filter((entry) => entry.name === name).reduce((sum, { value }) => sum + value, 0),
  };
}
