// When the customer last wrote (and when that became readable), and the later of two times.

import type { Conversation } from './schema.ts';

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/**
 * When the customer's newest message here became readable: the latest receipt time, or the
 * time a message recorded late was stored, whichever is later. A message after an agent's
 * `seenUntil` by this was not on their screen.
 */
export function lastReadableInboundAt(conversation: Conversation): string | null {
  const wrote = lastInboundAt(conversation);
  const late = conversation.lateRecordedAt ?? null;
  if (wrote === null || late === null) return wrote ?? late;
  return later(wrote, late);
}

/** When the customer last wrote on any channel (the receipt time of their newest applied message). */
export function lastInboundAt(conversation: Conversation): string | null {
  const times = Object.values(conversation.inboundAt).filter((at) => at !== undefined);
  return times.length === 0 ? null : times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}

// Shared with the modules beside this one; ../conversation.ts does not re-export it.
export { later };
