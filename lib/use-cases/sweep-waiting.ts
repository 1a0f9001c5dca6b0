// The sweeper's side of acks and notices waiting for a channel's configuration (waitsForChannel).

import type { ConversationPage, ConversationStore } from '#lib/ports/conversation-store.ts';

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

/**
 * The waiting conversations this run finishes (through `sweepPages`, as the due ones): of a
 * switched-off sender, those with something else due (a breach, a late notice), every run; of
 * any other, all of them (released: queued), every RELEASE_EVERY_MS.
 */
export async function sweepWaiting(
  waiting: WaitingChannels,
  store: ConversationStore,
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
    const done = await sweepPages((cursor) =>
      store.waitingForChannel(channel, off ? now : null, pageSize, cursor),
    );
    pages += done.pages;
    if (done.behind) return { pages, behind: true };
  }
  if (release) waiting.released(now);
  return { pages, behind: false };
}
