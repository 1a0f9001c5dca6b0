import {
  ackRetryAt,
  CHANNEL_WAIT_REASON,
  type Conversation,
  type SentVia,
  type Slot,
  sendChannelOf,
  settleAck,
  type UncertainTry,
} from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import type { ChannelSender, OutboundText, SenderRegistry, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

// The lookup-only tries of the worker (send-ack.ts): an automatic message whose last try was uncertain
// and that is no longer to be sent (its episode ended, or nothing sends there now) is only looked
// for at the provider, and recorded as sent when the provider has it.

/** What a lookup-only try needs of the worker's dependencies (SendAckDeps). */
export type LookUpDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  ack: { maxAttempts: number };
  /** [0, 1): the retry backoff's jitter; tests pin it. */
  random?: () => number;
};

/** How a lookup-only try ended (a subset of SendAckResult). */
export type LookUpResult =
  | { kind: 'sent'; messageId: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'nothing-to-do'; reason: 'not-yet' };

/**
 * The lookup-only try of an ack or notice whose episode ended while its last try was uncertain:
 * the message the provider took, stored as sent then (what the customer got must be on record,
 * and a status or echo of it must find it); null when the provider has none (or cannot be asked
 * at all); 'unknown' when it cannot tell now; 'switched-off' when this deployment cannot ask it
 * (ChannelSender.switchedOff: Twilio without its account SID): the lookup waits for one that can.
 */
export async function lookUpEnded(
  deps: LookUpDeps,
  conversation: Conversation,
  slot: Slot,
  uncertain: UncertainTry,
  messageId: string,
): Promise<Message | null | 'unknown' | 'switched-off'> {
  const target = lookUpTarget(deps, conversation, uncertain, messageId);
  if (target?.sender.switchedOff) {
    deps.log.info('uncertain automatic message waits for its channel to be configured', {
      conversationId: conversation.id,
      slot,
      provider: target.message.provider,
    });
    return 'switched-off';
  }
  if (!target || !canLookUp(target.sender)) return null;
  const { sender, message } = target;
  let found: SendReceipt | null;
  try {
    found = await findUncertainSend(deps.store, sender, message, new Date(uncertain.at), messageId);
  } catch (error) {
    deps.log.warn('provider could not be asked for an uncertain automatic message', {
      conversationId: conversation.id,
      slot,
      error: error instanceof SendError ? error.code : (error as Error).name,
    });
    return 'unknown';
  }
  if (!found) return null;
  const { message: stored } = await deps.store.putMessage({
    id: messageId,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: slot,
    channel: message.channel,
    provider: message.provider,
    providerMessageId: found.providerMessageId,
    from: message.from,
    to: message.to,
    text: uncertain.text,
    media: [],
    createdAt: uncertain.at,
    contactKey: conversation.contact.key,
  });
  return stored;
}

/** Where an uncertain try went, as its mark keeps it (UncertainTry.via). */
export function viaOf(
  message: OutboundText,
  businessId: string | undefined,
): NonNullable<UncertainTry['via']> {
  const { channel, provider, to, from } = message;
  return { channel, provider, to, from, ...(businessId ? { businessId } : {}) };
}

/**
 * Where an uncertain try went: its mark's `via`, or, for a mark written before stop 26, the
 * conversation's route. Null when the route sends nothing.
 */
export function wentVia(conversation: Conversation, uncertain: Pick<UncertainTry, 'via'>): SentVia | null {
  const { route } = conversation;
  const channel = uncertain.via?.channel ?? sendChannelOf(route);
  if (!channel) return null;
  return (
    uncertain.via ?? {
      channel,
      provider: route.provider,
      to: route.customer,
      from: route.business,
      ...(route.businessId ? { businessId: route.businessId } : {}),
    }
  );
}

/**
 * The sender and message to look an uncertain try up with: where it went (its mark's `via`), or,
 * for a mark written before stop 26, the conversation's route. Null when nothing sends there now.
 */
export function lookUpTarget(
  deps: LookUpDeps,
  conversation: Conversation,
  uncertain: UncertainTry,
  messageId: string,
): { sender: ChannelSender; message: OutboundText } | null {
  const { route } = conversation;
  const via = wentVia(conversation, uncertain);
  if (!via) return null;
  const { channel } = via;
  // The registry is keyed by the route's channel: a call's SMS is sent by the voice entry.
  const sender = deps.senders(via.provider, uncertain.via ? via.channel : route.channel, via.businessId);
  if (!sender) return null;
  const message: OutboundText = {
    channel,
    provider: via.provider,
    to: via.to,
    from: via.from,
    text: uncertain.text,
    idempotencyKey: messageId,
    automatic: true,
  };
  return { sender, message };
}

/**
 * When the lookup of an uncertain try asks again while its channel is switched off in this
 * deployment (lookUpEnded's 'switched-off'). It spends no try, however long the configuration
 * stays incomplete (an ack the customer may have got must not be given up for a missing
 * setting), so it is not the backoff's minutes either: nothing changes before a deploy does, and
 * then the next job asks at most this long after it.
 */
export const SWITCHED_OFF_WAIT_MS = 10 * 60_000;

/** The next lookup of an uncertain try its channel's configuration kept from being made. */
export function switchedOffRetryAt(now: Date): Date {
  return new Date(now.getTime() + SWITCHED_OFF_WAIT_MS);
}

/** Why a pending ack or notice waits while its channel is switched off (AppConfig.misconfiguredChannels). */
export const SWITCHED_OFF_REASON = CHANNEL_WAIT_REASON;

/** An ack or notice its channel's configuration kept from going: pending, the claim's try given back. */
export function switchedOffWait(claimedAttempts: number | undefined, now: Date) {
  const attempts = Math.max(0, (claimedAttempts ?? 1) - 1);
  return {
    state: 'pending',
    reason: SWITCHED_OFF_REASON,
    retryAt: switchedOffRetryAt(now),
    attempts,
  } as const;
}

/**
 * After a lookup that could not be made: the job pending again, counted as a try, backing off
 * like any; null once its tries are spent (then it is skipped: the episode no longer needs it).
 * One its channel's configuration kept from being made (`switchedOff`) counts none and waits
 * SWITCHED_OFF_WAIT_MS: never null.
 */
export function laterLookUp(
  deps: LookUpDeps,
  conversation: Conversation,
  job: NonNullable<Conversation[Slot]>,
  slot: Slot,
  now: Date,
  switchedOff = false,
): Conversation | null {
  if (switchedOff) {
    const retryAt = switchedOffRetryAt(now);
    return settleAck(
      conversation,
      job.episode,
      { state: 'pending', reason: SWITCHED_OFF_REASON, retryAt },
      slot,
    );
  }
  const attempts = job.attempts + 1;
  if (attempts >= deps.ack.maxAttempts) return null;
  const counted: Conversation = { ...conversation, [slot]: { ...job, attempts } };
  const retryAt = ackRetryAt(now, attempts, (deps.random ?? Math.random)());
  return settleAck(counted, job.episode, { state: 'pending', reason: 'LOOKUP_FAILED', retryAt }, slot);
}
