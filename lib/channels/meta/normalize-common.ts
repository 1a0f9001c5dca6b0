// What the Messenger/Instagram and the WhatsApp normalizers share: the provider, bounds and times.
import type { InboundEvent } from '#lib/domain/message.ts';

const PROVIDER = 'meta';
// InboundMessageSchema caps contactName; a display name is never worth rejecting a message.
const MAX_NAME = 200;

const ignored = (reason: string): InboundEvent => ({ type: 'ignored', reason });

function isoOfMillis(ms: number | undefined): string {
  const date = new Date(ms ?? Date.now());
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
}

/** When Meta says a message was sent, if it says so legibly: it only orders a batch. */
function sentAtOf(ms: number | undefined): string | undefined {
  const date = new Date(ms ?? Number.NaN);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export { ignored, isoOfMillis, MAX_NAME, PROVIDER, sentAtOf };
