import { settleAck } from '#lib/domain/conversation.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { DeliveryUpdate, Message, OutboundEcho, Transcription } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import { applyStoredReply, updateConversation } from './conversation-writes.ts';
import { ackMessageId } from './send-ack.ts';

export type UpdateDeps = {
  store: ConversationStore;
  clock: Clock;
  log: Log;
  /** App ids whose echoes are our own sends (Meta: the app that owns the webhook). */
  ourAppIds: readonly string[];
};

export type UpdateResult = { kind: 'applied' | 'stale' | 'unknown' | 'ours' | 'no-conversation' };

/**
 * A status callback or receipt for one of our outbound messages: stored on the message if it
 * is newer than what we have; a failed acknowledgement marks the conversation's ack failed.
 * It never creates a message and never triggers an acknowledgement.
 */
export async function recordDelivery(deps: UpdateDeps, update: DeliveryUpdate): Promise<UpdateResult> {
  const message = await deps.store.findByProviderId(update.provider, update.providerMessageId);
  if (!message) return { kind: 'unknown' };
  const updated = await deps.store.updateDelivery(message.id, update);
  const failure = message.kind === 'ack' && (update.status === 'failed' || update.status === 'undelivered');
  // Not stored: older than what we have, or the provider's retry of a callback whose first
  // delivery died after storing it, with the ack below still to mark.
  if (!updated && !(failure && message.delivery?.status === update.status)) return { kind: 'stale' };
  let marked = false;
  if (failure) {
    const reason = `delivery-${update.status}${update.errorCode ? `:${update.errorCode}` : ''}`;
    // The ack of the conversation's current episode, known by its id: the callback may land
    // while the worker is still between storing the message and marking the ack sent (then
    // its "sent" keeps this failure, settleAck).
    await updateConversation(deps.store, message.conversationId, (current) => {
      marked =
        current.ack !== null &&
        ackMessageId(current.id, current.ack.episode) === message.id &&
        (current.ack.state === 'sending' || current.ack.state === 'sent');
      return marked && current.ack
        ? settleAck(current, current.ack.episode, { state: 'failed', reason, at: deps.clock.now() })
        : current;
    });
  }
  if (!updated && !marked) return { kind: 'stale' };
  return { kind: 'applied' };
}

/**
 * A message sent from the business side that the provider echoes back. Our own sends are
 * recognised (by their stored provider id, or the app that sent them) and ignored; a message
 * a person wrote from the provider's own inbox is stored as an outbound reply, which ends the
 * customer's waiting episode and counts as the first reply.
 */
export async function recordEcho(deps: UpdateDeps, echo: OutboundEcho): Promise<UpdateResult> {
  if (echo.appId && deps.ourAppIds.includes(echo.appId)) return { kind: 'ours' };
  const messageId = stableId('msg', `${echo.provider}:${echo.providerMessageId}`);
  const known = await deps.store.findByProviderId(echo.provider, echo.providerMessageId);
  // Stored by an earlier delivery of this echo that died before applying it: apply it now.
  if (known?.id === messageId) return applyInboxReply(deps, known);
  if (known) return { kind: known.kind === 'reply' && known.direction === 'outbound' ? 'stale' : 'ours' };
  const contact = await deps.store.getContact(echo.contactKey);
  const conversationId = contact?.openConversationId;
  if (!conversationId) return { kind: 'no-conversation' };
  const now = deps.clock.now();
  const { message } = await deps.store.putMessage({
    id: messageId,
    conversationId,
    direction: 'outbound',
    kind: 'reply',
    channel: echo.channel,
    provider: echo.provider,
    providerMessageId: echo.providerMessageId,
    from: echo.from,
    to: echo.to,
    text: echo.text,
    media: echo.media,
    createdAt: now.toISOString(),
    contactKey: echo.contactKey,
  });
  return applyInboxReply(deps, message);
}

/** A person answered from the provider's inbox: measured like any reply (reply.sent). */
async function applyInboxReply(deps: UpdateDeps, message: Message): Promise<UpdateResult> {
  await applyStoredReply(deps.store, message, null);
  return { kind: 'applied' };
}

/** Text that completes an earlier message (a voicemail's transcription), in either order. */
export async function recordTranscription(
  deps: UpdateDeps,
  transcription: Transcription,
): Promise<UpdateResult> {
  await deps.store.completeText(
    stableId('msg', `${transcription.provider}:${transcription.providerMessageId}`),
    transcription.text,
  );
  return { kind: 'applied' };
}
