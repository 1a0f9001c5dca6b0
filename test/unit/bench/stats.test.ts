import { describe, expect, it } from 'vitest';
import { describeBudget, judge, median, percentile, sample } from '#bench/stats.ts';

describe('percentile', () => {
  it('should take the nearest rank, whatever the input order', () => {
    // Prepare
    const values = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];

    // Act / Assess
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(10);
  });

  it('should make p99 of 1,000 latencies the 990th smallest', () => {
    // Prepare
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i);

    // Act / Assess
    expect(percentile(values, 99)).toBe(990);
  });

  it('should be NaN for no values and refuse a p outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('median and sample', () => {
  it('should average the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('should keep the spread of repeated runs', () => {
    expect(sample([120, 100, 110])).toEqual({ median: 110, min: 100, max: 120, runs: 3 });
  });
});

describe('judge', () => {
  it('should pass a throughput at or above its share of the floor and fail one below', () => {
    // Prepare
    const budget = { kind: 'atLeast', ratio: 0.5 } as const;

    // Act / Assess
    expect(judge(500, 1000, budget)).toEqual({ ratio: 0.5, ok: true });
    expect(judge(499, 1000, budget).ok).toBe(false);
  });

  it('should pass a cost at or below its multiple of the floor and fail one above', () => {
    // Prepare
    const budget = { kind: 'atMost', ratio: 1.5 } as const;

    // Act / Assess
    expect(judge(150, 100, budget)).toEqual({ ratio: 1.5, ok: true });
    expect(judge(151, 100, budget).ok).toBe(false);
  });

  it('should fail when the floor could not be measured', () => {
    expect(judge(10, 0, { kind: 'atLeast', ratio: 0.5 }).ok).toBe(false);
    expect(judge(10, Number.NaN, { kind: 'atMost', ratio: 1.5 }).ok).toBe(false);
  });

  it('should describe each budget as the table prints it', () => {
    expect(describeBudget({ kind: 'atLeast', ratio: 0.7 })).toBe('>= 0.7 of the floor');
    expect(describeBudget({ kind: 'atMost', ratio: 1.5 })).toBe('<= 1.5x the floor');
  });
});
