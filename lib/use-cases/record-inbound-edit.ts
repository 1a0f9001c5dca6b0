// A customer's edit of a message that only thanked us: read as the message it now is.

import type { InboundMessage } from '#lib/domain/message.ts';
import { editOnlyThanks, onlyThanks } from '#lib/domain/thanks.ts';
import type { RecordInboundDeps } from './record-inbound-deps.ts';

/**
 * An edit (`noAckReason: 'edited'`) is a correction, never a new question: it joins the wait
 * its original is in. But nobody waits on a message that only thanked us (no ack, and after our
 * answer its conversation resolved itself): an edit that turns it into more than thanks
 * ("Dziękuję!" → "Dziękuję, ale gdzie jest faktura?") would be a question nobody answers. Such
 * an edit is read as a new message instead (its `edited` reason dropped: a question waits for a
 * person and is acknowledged as any); one that still only thanks, or of any other message, or
 * whose original we do not have (yet), stays an edit. One read (the original by its provider
 * id), for an edit only.
 */
export async function editOfThanksRead(
  deps: Pick<RecordInboundDeps, 'store'>,
  inbound: InboundMessage,
): Promise<InboundMessage> {
  if (inbound.noAckReason !== 'edited' || !inbound.editOf) return inbound;
  if (editOnlyThanks(inbound.text, inbound.media.length, inbound.contactName)) return inbound;
  const original = await deps.store.findByProviderId(inbound.provider, inbound.editOf);
  if (
    original?.direction !== 'inbound' ||
    original.kind !== 'message' ||
    original.contactKey !== inbound.contactKey ||
    !onlyThanks(original.text, original.media.length, inbound.contactName)
  )
    return inbound;
  const { noAckReason: _edited, ...asNew } = inbound;
  return asNew;
}
