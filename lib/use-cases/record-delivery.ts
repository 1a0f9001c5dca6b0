import type { DeliveryUpdate } from '#lib/domain/message.ts';
import { applyDelivery, noteReported, type UpdateDeps, type UpdateResult } from './record-updates.ts';
import { settleReported } from './settle-reported.ts';

/** How long a status for a provider id we have not aliased yet is held for the alias's writer. */
const HELD_DELIVERY_SECONDS = 24 * 60 * 60;

/**
 * A status callback or receipt for one of our outbound messages: stored on the message if it
 * is newer than what we have; a failed acknowledgement or late notice marks the conversation's
 * failed (skipped when the window had closed). It never creates a message and never triggers
 * an acknowledgement. One for a provider id we have no alias for yet (it came between the
 * provider's answer to our send and our write of the alias) is held, and applied by the
 * alias's writer (applyDelivery).
 */
export async function recordDelivery(deps: UpdateDeps, update: DeliveryUpdate): Promise<UpdateResult> {
  const message = await deps.store.findByProviderId(update.provider, update.providerMessageId);
  if (message) return applyDelivery(deps, message, update, true);
  if (await deps.store.holdDelivery(update, HELD_DELIVERY_SECONDS, deps.clock.now())) {
    // Named by our send's tag (WhatsApp's biz_opaque_callback_data, Twilio's ?m=): the provider took it. Noted
    // for a try whose answer was lost (findUncertainSend), and that try settled now where it waits
    // for its lookup (settleReported); its status waits here for the alias, written then.
    if (update.ourMessageId) {
      await noteReported(deps, update.ourMessageId, update);
      if (update.contactKey)
        await settleReported(deps, update.ourMessageId, update, { contactKey: update.contactKey });
    }
    return { kind: 'held' };
  }
  // The alias was written meanwhile.
  const aliased = await deps.store.findByProviderId(update.provider, update.providerMessageId);
  return aliased ? applyDelivery(deps, aliased, update, true) : { kind: 'unknown' };
}
