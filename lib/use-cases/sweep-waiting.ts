// The sweeper's side of acks and notices waiting for a channel's configuration (waitsForChannel).

import type { ConversationPage, ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';

/**
 * How often a sweeper process reads the waits of the senders it can use, to release them (and
 * on its first run): a wait ends only with a deployment that completes the configuration, whose
 * fresh instances read them at once; the repeats release what a function of the earlier
 * deployment still parked meanwhile.
 */
export const RELEASE_EVERY_MS = 10 * 60_000;

/**
 * Every sender an ack or notice can wait for (waitingChannelKey) and whether this deployment
 * has it switched off; when this process last read the waits of those it can use.
 */
export class WaitingChannels {
  readonly keys: readonly string[];
  readonly switchedOff: (channel: string) => boolean;
  #releasedAt: number | null = null;

  constructor(keys: readonly string[], switchedOff: (channel: string) => boolean) {
    this.keys = keys;
    this.switchedOff = switchedOff;
  }

  /** Whether this run reads the waits of the senders this deployment can use. */
  releaseDue(now: Date): boolean {
    const last = this.#releasedAt;
    return last === null || now.getTime() - last >= RELEASE_EVERY_MS || now.getTime() < last;
  }

  released(now: Date): void {
    this.#releasedAt = now.getTime();
  }
}

/** Counting stops here: the line then says "at least", and a long wait costs no more reads. */
export const WAITS_COUNTED_UP_TO = 1_000;

/**
 * While anything waits for a sender switched off here, every run: `ChannelMisconfigured` (its
 * alarm stays in alarm until the fix runs, however long ago the messages came: Messenger and
 * Instagram are counted otherwise only as their messages arrive) and an error line with how
 * many conversations wait and for what. None once nothing waits.
 */
async function reportWaits(deps: { store: ConversationStore; log: Log; metrics: Metrics }, channel: string) {
  const waiting = await deps.store.countWaitingForChannel(channel, WAITS_COUNTED_UP_TO);
  if (waiting === 0) return;
  deps.metrics.count('ChannelMisconfigured');
  deps.log.error('automatic messages wait for their channel', {
    channel,
    waiting,
    ...(waiting >= WAITS_COUNTED_UP_TO ? { atLeast: true } : {}),
    reason:
      'acknowledgements and late notices of these conversations wait (CHANNEL_MISCONFIGURED) until a deployment with the channel configured runs (docs/deploy.md, "When a channel is switched off")',
  });
}

/**
 * The waiting conversations this run finishes (through `sweepPages`, as the due ones): of a
 * switched-off sender, those with something else due (a breach, a late notice), every run; of
 * any other, all of them (released: queued), every RELEASE_EVERY_MS.
 */
export async function sweepWaiting(
  waiting: WaitingChannels,
  deps: { store: ConversationStore; log: Log; metrics: Metrics },
  now: Date,
  pageSize: number,
  sweepPages: (
    read: (cursor: string | undefined) => Promise<ConversationPage>,
  ) => Promise<{ pages: number; behind: boolean }>,
): Promise<{ pages: number; behind: boolean }> {
  const release = waiting.releaseDue(now);
  let pages = 0;
  for (const channel of waiting.keys) {
    const off = waiting.switchedOff(channel);
    if (!off && !release) continue;
    if (off) await reportWaits(deps, channel);
    const done = await sweepPages((cursor) =>
      deps.store.waitingForChannel(channel, off ? now : null, pageSize, cursor),
    );
    pages += done.pages;
    if (done.behind) return { pages, behind: true };
  }
  if (release) waiting.released(now);
  return { pages, behind: false };
}
