import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { ackNoLongerNeeded, type Conversation, claimAck, settleAck } from '#lib/domain/conversation.ts';
import { stableId } from '#lib/domain/ids.ts';
import { composeAck } from '#lib/domain/texts/index.ts';
import type { AckJob } from '#lib/ports/ack-queue.ts';
import type { SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError, SendError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import { MAX_WRITES, trySave, updateConversation } from './conversation-writes.ts';

export type SendAckDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  business: BusinessConfig;
  ack: { leaseMs: number; maxAttempts: number };
};

export type SendAckResult =
  | { kind: 'sent'; messageId: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'nothing-to-do'; reason: 'stale' | 'done' | 'leased' | 'missing' };

/** A transient send failure: the queue delivers the job again (and, in the end, to the DLQ). */
export class AckRetryError extends SendError {
  constructor(reason: string, cause: unknown) {
    super(`acknowledgement not sent yet: ${reason}`, { permanent: false, cause });
  }
}

/** The id of an episode's acknowledgement message: one per episode, whoever sends it. */
export function ackMessageId(conversationId: string, episode: number): string {
  return stableId('msg', `ack:${conversationId}:${episode}`);
}

/**
 * Sends one episode's acknowledgement at most once: re-checks the policy, claims the ack
 * with a conditional write (pending → sending with a lease), sends, stores the outbound
 * message, marks the ack sent. `receiveCount` is the queue's delivery count of this job.
 */
export async function sendAck(deps: SendAckDeps, job: AckJob, receiveCount = 1): Promise<SendAckResult> {
  const claimed = await claim(deps, job);
  if ('kind' in claimed) return claimed;
  const conversation = claimed.conversation;
  const route = conversation.route;
  const messageId = ackMessageId(conversation.id, job.episode);

  // A previous worker sent it and died before marking it: finish its work, never resend.
  const already = await deps.store.getMessage(messageId);
  if (already) {
    await settle(deps, conversation.id, job.episode, {
      state: 'sent',
      at: new Date(already.createdAt),
      messageId,
    });
    return { kind: 'sent', messageId };
  }

  const now = deps.clock.now();
  // A caller is acknowledged by SMS to the number they called from.
  const channel = route.channel === 'voice' ? 'sms' : route.channel;
  const sender = deps.senders(route.provider, route.channel);
  const closedWindow = windowClosed(conversation, now);
  if (!sender || !conversation.promise || closedWindow) {
    const reason = closedWindow ? 'outside-window' : sender ? 'no-promise' : 'channel-cannot-send';
    await settle(deps, conversation.id, job.episode, { state: 'skipped', reason });
    return { kind: 'skipped', reason };
  }

  const { text, subject } = composeAck(deps.business, {
    locale: conversation.locale,
    channel,
    now,
    promise: conversation.promise,
    contactName: conversation.contact.name,
  });

  let providerMessageId: string | null;
  try {
    const receipt = await sender.send({
      channel,
      provider: route.provider,
      to: route.customer,
      from: route.business,
      text,
      subject,
      idempotencyKey: messageId,
      ...(route.thread ? { thread: route.thread } : {}),
    });
    providerMessageId = receipt.providerMessageId;
  } catch (error) {
    const reason =
      error instanceof SendError
        ? `${error.code}${error.providerCode ? `:${error.providerCode}` : ''}`
        : 'error';
    const attempts = conversation.ack?.attempts ?? 1;
    const final =
      (error instanceof SendError && error.permanent) ||
      attempts >= deps.ack.maxAttempts ||
      receiveCount >= deps.ack.maxAttempts;
    // The provider says the 24-hour window is closed: not a failure of ours, and never retried.
    const outsideWindow = error instanceof SendError && error.providerCode === 'outside-window';
    await settle(
      deps,
      conversation.id,
      job.episode,
      outsideWindow
        ? { state: 'skipped', reason: 'outside-window' }
        : final
          ? { state: 'failed', reason }
          : { state: 'pending', reason },
    );
    deps.log.warn('acknowledgement send failed', {
      conversationId: conversation.id,
      reason,
      final,
      attempts,
    });
    if (outsideWindow) return { kind: 'skipped', reason: 'outside-window' };
    if (error instanceof SendError && error.permanent) return { kind: 'failed', reason };
    // Retryable failures go back to the queue, so that the last one lands in the DLQ.
    throw new AckRetryError(reason, error);
  }

  await deps.store.putMessage({
    id: messageId,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: 'ack',
    channel,
    provider: route.provider,
    providerMessageId,
    from: route.business,
    to: route.customer,
    text,
    media: [],
    // Never before the message it answers, even when this worker's clock runs behind.
    createdAt: new Date(
      Math.max(now.getTime(), Date.parse(conversation.awaitingSince ?? '') + 1 || 0),
    ).toISOString(),
    contactKey: conversation.contact.key,
  });
  if (providerMessageId) await deps.store.putProviderAlias(route.provider, providerMessageId, messageId);
  await settle(deps, conversation.id, job.episode, { state: 'sent', at: now, messageId });
  deps.log.info('acknowledgement sent', { conversationId: conversation.id, channel: route.channel });
  return { kind: 'sent', messageId };
}

async function claim(
  deps: SendAckDeps,
  job: AckJob,
): Promise<{ conversation: Conversation } | Extract<SendAckResult, { kind: 'nothing-to-do' | 'skipped' }>> {
  for (let attempt = 1; attempt <= MAX_WRITES; attempt++) {
    const current = await deps.store.getConversation(job.conversationId);
    if (!current) return { kind: 'nothing-to-do', reason: 'missing' };
    const now = deps.clock.now();
    const ended = ackNoLongerNeeded(current, job.episode);
    const pendingHere = current.ack?.episode === job.episode && current.ack.state !== 'sent';
    if (ended && pendingHere && current.ack?.state !== 'skipped' && current.ack?.state !== 'failed') {
      const skipped = settleAck(current, job.episode, { state: 'skipped', reason: ended });
      if (await trySave(deps.store, skipped, current.version)) return { kind: 'skipped', reason: ended };
      continue;
    }
    const result = claimAck(current, job.episode, now, deps.ack.leaseMs);
    if (result.kind === 'skip') return { kind: 'nothing-to-do', reason: result.reason };
    const saved = await trySave(deps.store, result.conversation, current.version);
    if (saved) return { conversation: saved };
  }
  throw new ConcurrentUpdateError(`conversation ${job.conversationId}`);
}

async function settle(
  deps: SendAckDeps,
  conversationId: string,
  episode: number,
  outcome: Parameters<typeof settleAck>[2],
): Promise<void> {
  await updateConversation(deps.store, conversationId, (current) => settleAck(current, episode, outcome));
}

const WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Meta (Messenger, Instagram, WhatsApp Cloud) and WhatsApp through Twilio allow free-form
 * messages only within 24 hours of the customer's last message on that channel.
 */
function windowClosed(conversation: Conversation, now: Date): boolean {
  const { channel, provider } = conversation.route;
  const windowed =
    channel === 'whatsapp' || channel === 'messenger' || channel === 'instagram' || provider === 'meta';
  if (!windowed) return false;
  const last = conversation.inboundAt[channel];
  return !last || now.getTime() - Date.parse(last) >= WINDOW_MS;
}
