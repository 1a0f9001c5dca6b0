// The figures a service-level report shows, from a range's counters and its resolutions' tally.

import { type Counts, OVERFLOW_BUCKET, percentileHours } from './service-level-counts.ts';
import type { FcrTally } from './service-level-resolutions.ts';

export type Figures = {
  /** Conversations received (opened). */
  conversations: number;
  /** Customer messages received. */
  messages: number;
  /** Waiting episodes that got their first reply. */
  answered: number;
  /** Of the answered episodes with a promise, those answered by the promise as first stated. */
  promisesKept: { share: number | null; kept: number; measured: number };
  /** Working hours from the episode's first message to the first reply (quarter-hour resolution). */
  firstReplyWorkingHours: { median: number | null; p90: number | null; over48h: number };
  /** Decided resolutions (7 days passed, or already decided) that took one reply and no follow-up. */
  firstContactResolution: { share: number | null } & FcrTally;
  /** Late notices the customers got: sent, less those the provider refused afterwards. */
  noticesSent: number;
  acksSkipped: Record<string, number>;
  breaches: number;
};

const share = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

export function figuresOf(counts: Counts, fcr: FcrTally): Figures {
  return {
    conversations: counts.conversations,
    messages: counts.messages,
    answered: counts.answered,
    promisesKept: {
      share: share(counts.kept, counts.measured),
      kept: counts.kept,
      measured: counts.measured,
    },
    firstReplyWorkingHours: {
      median: percentileHours(counts.histogram, 0.5),
      p90: percentileHours(counts.histogram, 0.9),
      over48h: counts.histogram[OVERFLOW_BUCKET] ?? 0,
    },
    firstContactResolution: { share: share(fcr.firstContact, fcr.resolved), ...fcr },
    noticesSent: counts.notices,
    acksSkipped: counts.skipped,
    breaches: counts.breaches,
  };
}
