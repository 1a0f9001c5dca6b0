// A message the provider refused for what the customer's number is (SendError.recipient): an
// automatic one, or an agent's reply.

import { phoneContactKey } from '#lib/domain/contact.ts';
import {
  ackSpokenInstead,
  type Conversation,
  type ReplyRoute,
  type Slot,
  settleAck,
} from '#lib/domain/conversation.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { AgentDeps } from './agent-actions.ts';
import { markRefusedNumber } from './refused-number.ts';
import type { ReplyResult } from './reply-records.ts';
import type { SendAckDeps, SendAckResult } from './send-ack-deps.ts';

/**
 * The provider refused the send for the number itself: it opted out with the provider (Twilio's
 * STOP list, 21610: a STOP from before us, or one we never heard) or takes no SMS (21635,
 * 21614). Not a failure of ours, and no try would go: the number's contact is marked so
 * (markRefusedNumber: opted out as by its STOP, the conversation's other pending automatic job
 * ended with it, or `noSmsAt`), and the message skipped, `opted-out` or
 * `channel-cannot-send`; a call's ack is the promise its greeting spoke (`spoken-on-call`,
 * `spoken`: counted sent). Null for any other error.
 */
export async function refusedForNumber(
  deps: Pick<SendAckDeps, 'store' | 'log'>,
  conversation: Conversation,
  slot: Slot,
  episode: number,
  error: unknown,
  now: Date,
): Promise<SendAckResult | null> {
  if (!(error instanceof SendError) || !error.recipient) return null;
  const { route } = conversation;
  const spoken = slot === 'ack' && route.channel === 'voice';
  const reason = spoken
    ? 'spoken-on-call'
    : error.recipient === 'opted-out'
      ? 'opted-out'
      : 'channel-cannot-send';
  // The slot settled, and (an opt-out) the conversation's other pending job ended, in one write.
  await markRefusedNumber(
    { store: deps.store, now },
    { key: phoneContactKey(route.customer), recipient: error.recipient, at: now },
    conversation.id,
    (current) =>
      spoken
        ? ackSpokenInstead(current, episode, now)
        : settleAck(current, episode, { state: 'skipped', reason, at: now }, slot),
  );
  deps.log.info('automatic message refused for the number: skipped', {
    conversationId: conversation.id,
    slot,
    reason,
    providerCode: error.providerCode,
  });
  return spoken ? { kind: 'spoken' } : { kind: 'skipped', reason };
}

/**
 * An agent's reply the provider refused for good: not delivered, told to the agent with its reason
 * (`SEND_REJECTED:21610`). Refused for the number itself (SendError.recipient), the number's
 * contact is marked as for an automatic message (markRefusedNumber): opted out as by its STOP, as
 * of the refusal (the conversation's pending ack or late notice ended, none started after, as a
 * STOP does: consentFromElsewhere), or `noSmsAt` (a call's next text refused at once,
 * callerTakesNoSms; its next call's ack the spoken one). A person may still write to a number
 * that opted out: the provider decides.
 */
export async function replyRejected(
  deps: Pick<AgentDeps, 'store' | 'log'>,
  conversation: Conversation,
  route: ReplyRoute,
  error: SendError,
  now: Date,
): Promise<ReplyResult> {
  const reason = `${error.code}${error.providerCode ? `:${error.providerCode}` : ''}`;
  if (error.recipient) {
    await markRefusedNumber(
      { store: deps.store, now },
      { key: phoneContactKey(route.customer), recipient: error.recipient, at: now },
      conversation.id,
    );
    deps.log.info('agent reply refused for the number: contact marked', {
      conversationId: conversation.id,
      recipient: error.recipient,
      providerCode: error.providerCode,
    });
  }
  return { kind: 'rejected', reason, provider: route.provider };
}

/**
 * Whether a call's route leads to a number the provider reported takes no SMS (Contact.noSmsAt,
 * a landline): an agent's text there is refused at once (409 NO_ROUTE: call them back), not sent
 * to come back undelivered. One read, for a reply on a call only.
 */
export async function callerTakesNoSms(store: Pick<ConversationStore, 'getContact'>, route: ReplyRoute) {
  if (route.channel !== 'voice') return false;
  return !!(await store.getContact(phoneContactKey(route.customer)))?.noSmsAt;
}
