import { sweep } from '#lib/use-cases/sweep.ts';
import type { TestSwitchboard } from './switchboard.ts';

/** The ack jobs queued now, then those the sweeper queues as their waits end (three rounds, 5 minutes apart). */
export async function sendEveryAck(sb: TestSwitchboard): Promise<void> {
  await sb.drain();
  for (let round = 0; round < 3; round++) {
    sb.clock.advance(5 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
  }
}

/**
 * What the sweeper and the worker of `deployment` do over `minutes`, a round every `step` minutes
 * on `sb`'s clock (a deployment switched off for its configuration: its waiting acks come round).
 * Whatever falls due between two rounds is done at the next, so a test that only looks for what
 * a day brings may take hourly rounds: each round costs a sweep's reads (~0.2 s here, loaded more).
 */
export async function runFor(
  sb: TestSwitchboard,
  deployment: TestSwitchboard,
  minutes: number,
  step = 10,
): Promise<void> {
  for (let elapsed = 0; elapsed < minutes; elapsed += step) {
    sb.clock.advance(step * 60_000);
    await sweep(deployment.runtime.sweepDeps);
    await deployment.drain();
  }
}
