import type { EventHandlers } from '#lib/http/ingest.ts';
import { recordAliasChange } from '#lib/use-cases/record-alias-change.ts';
import { recordDelivery } from '#lib/use-cases/record-delivery.ts';
import { recordEcho } from '#lib/use-cases/record-echo.ts';
import { type RecordInboundDeps, recordInbound } from '#lib/use-cases/record-inbound.ts';
import { recordTranscription, type UpdateDeps } from '#lib/use-cases/record-updates.ts';

/**
 * The use cases each kind of normalized webhook event goes to, bound to their dependencies:
 * a message or an echo at its receipt time (`clock`), a message recorded later than received
 * also with the clock of the store's writes.
 */
export function eventHandlers(recordDeps: RecordInboundDeps, updateDeps: UpdateDeps): EventHandlers {
  return {
    message: (message, clock, recordingClock) =>
      recordInbound({ ...recordDeps, clock, ...(recordingClock ? { recordingClock } : {}) }, message),
    delivery: (update) => recordDelivery(updateDeps, update),
    echo: (echo, clock, recordingClock, lastReceive) =>
      recordEcho(
        {
          ...updateDeps,
          clock,
          ...(recordingClock ? { recordingClock } : {}),
          ...(lastReceive ? { lastReceive } : {}),
        },
        echo,
      ),
    transcription: (transcription) => recordTranscription(updateDeps, transcription),
    alias: (change) => recordAliasChange(updateDeps, change),
  };
}
