// A try of an ack or late notice its worker did not store (it died after the provider took it),
// put on record from the provider's report of it.

import { ackRetryAt, type Conversation, type SettleOutcome, type Slot } from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import type { SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import { AckRetryError, type SendAckDeps } from './send-ack-deps.ts';

/**
 * The message `messageId` of an ack or notice that the provider reported taking (Twilio's status
 * callback names it: ConversationStore.reportedSend) though no worker stored it: read back from
 * the report's provider by its id (ChannelSender.fetchSent: the text the customer got, when, and
 * where), stored under `messageId` with its provider id, as its worker would have (an earlier
 * store is kept). Stored where the provider says it went, not at the conversation's route now:
 * the customer may have written on another channel or provider since (then asked all the same:
 * sending there instead would text them twice), or from a new number (a WhatsApp number change,
 * its conversation answered there since). A message that went to an address the route no longer
 * names still told the customer: it went to the address they wrote from then, before the change
 * reached us, and the episode gets one ack, so it is recorded sent there (the inbox shows where)
 * and not sent again to the new address. Null when nothing was reported or the provider has no
 * such message. Stamped no earlier than `notBefore` (the job's requestedAt: after the message it
 * answers; Twilio's time is whole seconds). Throws the sender's SendError when the provider
 * cannot tell now: the job is tried again (reportUnread). Reads: the report (one item); with one,
 * the provider, then one write.
 */
export async function reportedTry(
  deps: { store: ConversationStore; senders: SenderRegistry; log: Log },
  conversation: Conversation,
  slot: Slot,
  messageId: string,
  notBefore: string,
): Promise<Message | null> {
  const reported = await deps.store.reportedSend(messageId);
  if (!reported) return null;
  const { route } = conversation;
  const onRoute = reported.provider === route.provider;
  // The registry is keyed by the route's channel (a call's SMS is sent by the voice entry); a
  // provider's entries share its sender, and only Twilio's (SMS among them) can read one back.
  const sender = onRoute
    ? deps.senders(route.provider, route.channel, route.businessId)
    : deps.senders(reported.provider, 'sms');
  const read = sender?.fetchSent ? await sender.fetchSent(reported.providerMessageId) : null;
  if (!read) return null;
  const to = read.to ?? route.customer;
  if (to !== route.customer)
    deps.log.info('reported automatic message went to an earlier address of the customer', {
      conversationId: conversation.id,
      slot,
      channel: read.channel,
      routeChannel: route.channel,
    });
  const at = Math.max(read.at.getTime(), Date.parse(notBefore) + 1 || 0);
  const { message } = await deps.store.putMessage({
    id: messageId,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: slot,
    channel: read.channel,
    provider: reported.provider,
    providerMessageId: reported.providerMessageId,
    // A Messaging Service's sender unknown yet: our number on the route, where it is this provider's.
    from: read.from ?? (onRoute ? route.business : ''),
    to,
    text: read.text,
    media: [],
    createdAt: new Date(at).toISOString(),
    contactKey: conversation.contact.key,
  });
  return message;
}

/**
 * The try stored already under `messageId` (its worker died after storing it), or, for a claim
 * after another's or a redrive's (`again`: the job's requestedAt), the one the provider reported
 * (reportedTry); 'unknown' when the provider could not be read back now (reportUnread).
 */
export async function earlierTry(
  deps: SendAckDeps,
  conversation: Conversation,
  slot: Slot,
  messageId: string,
  again: string | false,
): Promise<Message | null | { unknown: SendError }> {
  const stored = await deps.store.getMessage(messageId);
  if (stored || again === false) return stored;
  try {
    return await reportedTry(deps, conversation, slot, messageId, again);
  } catch (error) {
    if (error instanceof SendError) return { unknown: error };
    throw error;
  }
}

/**
 * A reported try the provider could not be read back now (an API outage): never sent again
 * unread. The job backs off as after a send outage, each read counted as a try: pending
 * (LOOKUP_FAILED, the sweeper queues it at retryAt), then, its tries spent, failed and
 * dead-lettered: the job goes on to the DLQ under its alarm, and its redrive reads the report
 * again (a redrive's claim is `again`). Throws AckRetryError for the queue.
 */
export async function reportUnread(
  deps: SendAckDeps,
  conversation: Conversation,
  slot: Slot,
  receiveCount: number,
  settle: (outcome: SettleOutcome) => Promise<unknown>,
  { unknown: error }: { unknown: SendError },
): Promise<never> {
  const now = deps.clock.now();
  const attempts = conversation[slot]?.attempts ?? 1;
  const final = attempts >= deps.ack.maxAttempts || receiveCount >= deps.ack.maxAttempts;
  const reason = 'LOOKUP_FAILED';
  await settle(
    final
      ? { state: 'failed', reason, at: now, deadLettered: true }
      : { state: 'pending', reason, retryAt: ackRetryAt(now, attempts, (deps.random ?? Math.random)()) },
  );
  deps.log.warn('provider could not be asked for a reported automatic message', {
    conversationId: conversation.id,
    slot,
    final,
    attempts,
    error: error.code,
  });
  throw new AckRetryError(reason, error, final);
}
