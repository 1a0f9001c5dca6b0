// One try of an automatic message that never doubles an earlier uncertain try, and the wait after one.

import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

/**
 * How long a try whose outcome we do not know waits before the next (which asks the provider
 * first where it can, and otherwise sends again): long enough for a request the provider was
 * still working on when we gave up to be done, and for its status callbacks to arrive.
 */
export const UNCERTAIN_WAIT_MS = 5 * 60_000;

/**
 * One try of an automatic message that never doubles one the provider may already have: an
 * earlier uncertain try's message, when the provider has it, is adopted instead of sending; a
 * send that ends uncertain is looked up at once (the provider that took it lists it). Returns
 * the receipt and the text the customer got; throws the send's SendError (still uncertain when
 * the provider cannot tell or has no such message yet).
 */
async function sendOnce(
  store: ConversationStore,
  sender: ChannelSender,
  message: OutboundText,
  earlier: { at: string; sender: ChannelSender; message: OutboundText } | undefined,
  now: Date,
): Promise<SendReceipt & { text: string }> {
  if (earlier && canLookUp(earlier.sender)) {
    let found: SendReceipt | null;
    try {
      found = await findUncertainSend(
        store,
        earlier.sender,
        earlier.message,
        new Date(earlier.at),
        message.idempotencyKey,
      );
    } catch (cause) {
      // The provider cannot tell now: nothing was sent, and the earlier try stays uncertain.
      throw new SendError(
        'automatic message not sent: the provider could not say whether it has the earlier try',
        {
          permanent: false,
          cause,
        },
      );
    }
    if (found) return { ...found, text: earlier.message.text };
  }
  try {
    return { ...(await sender.send(message)), text: message.text };
  } catch (error) {
    if (!(error instanceof SendError && error.uncertain && canLookUp(sender))) throw error;
    const found = await findUncertainSend(store, sender, message, now, message.idempotencyKey).catch(
      () => null,
    );
    if (found) return { ...found, text: message.text };
    throw error;
  }
}

export { sendOnce };
