import type { Clock } from '#lib/ports/clock.ts';

/** One line per key at most this often per process; the rest are counted in the next one. */
export const LOG_LINE_INTERVAL_MS = 60_000;

/**
 * Rate-limits a log line that an unauthenticated caller can cause (a forged signature, a post
 * to a switched-off channel), so a scanner cannot fill the log: one line per key (a fixed set,
 * e.g. channel and reason) per interval, per process, the next one saying how many it left out.
 * Counting every occurrence is the metric's job, not this.
 */
export class LogThrottle {
  readonly #clock: Clock;
  /** key → when its last line was written (epoch ms) and the occurrences left out since. */
  readonly #lines = new Map<string, { at: number; suppressed: number }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Whether to write `key`'s line now: null to leave it out (counted), else how many were left
   * out since its last line (0: none, or its first line).
   */
  admit(key: string): { suppressed: number } | null {
    const now = this.#clock.now().getTime();
    const last = this.#lines.get(key);
    if (last && now - last.at < LOG_LINE_INTERVAL_MS) {
      last.suppressed += 1;
      return null;
    }
    this.#lines.set(key, { at: now, suppressed: 0 });
    return { suppressed: last?.suppressed ?? 0 };
  }
}
