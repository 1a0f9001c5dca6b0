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
