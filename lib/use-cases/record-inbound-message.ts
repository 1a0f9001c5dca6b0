import { stableId } from '#lib/domain/ids.ts';
import type { InboundMessage, Message } from '#lib/domain/message.ts';
import { NotYetError } from '#lib/ports/errors.ts';
import type { RecordInboundDeps } from './record-inbound-deps.ts';

// The message recordInbound stores: its id, what its provider's retry would bring again, the
// first delivery of a mail that came two ways, and a voicemail's caller.

/** The stable id of a provider's message: every delivery of it maps to the same item. */
function inboundMessageId(inbound: Pick<InboundMessage, 'provider' | 'providerMessageId'>): string {
  return stableId('msg', `${inbound.provider}:${inbound.providerMessageId}`);
}

/**
 * A stored customer message as its provider's retry would bring it again, for recordInbound to
 * finish (it finds the message stored and applies it where the contact now points). What only
 * the provider's payload said is not kept: the contact's name, consent, a channel's reason
 * not to answer it. Null for anything that did not come from a customer.
 */
export function storedInbound(message: Message): InboundMessage | null {
  const { kind, providerMessageId } = message;
  if (message.direction !== 'inbound' || !providerMessageId) return null;
  if (kind !== 'message' && kind !== 'call' && kind !== 'voicemail') return null;
  return {
    provider: message.provider,
    providerMessageId,
    channel: message.channel,
    kind,
    contactKey: message.contactKey,
    from: message.from,
    to: message.to,
    ...(message.toId ? { toId: message.toId } : {}),
    text: message.text,
    media: message.media,
    ...(message.durationSeconds === undefined ? {} : { durationSeconds: message.durationSeconds }),
    ...(message.callId ? { callId: message.callId } : {}),
    ...(message.email ? { email: message.email } : {}),
    ...(message.fullText ? { fullText: message.fullText } : {}),
  };
}

/**
 * How long a same-message key (SAMEMSG#) is kept after each delivery of the mail: past the last
 * day the other way can still bring it. SES's SNS delivery is accepted up to 30 days after SNS
 * signed it (its retries, a redrive from the 14-day inbound-mail DLQ, the sweeper's mail
 * recheck within hours), and a sending server may hold a mail up to 5 days before either way
 * takes it (RFC 5321); Mailgun's retries span 8 hours. 40 days covers all of it.
 */
export const SAME_MESSAGE_SECONDS = 40 * 24 * 60 * 60;

/**
 * A voicemail's callback may not say who called: its contact is the one of the call it
 * belongs to (stored when the call came in).
 */
export async function resolveVoicemailContact(
  deps: RecordInboundDeps,
  inbound: InboundMessage,
): Promise<InboundMessage> {
  // Twilio's recording callback names only the call (contact key `call:<CallSid>`).
  if (!inbound.callId || (inbound.contactKey && !inbound.contactKey.startsWith('call:'))) return inbound;
  const call = await deps.store.findByProviderId(inbound.provider, inbound.callId);
  if (!call) throw new UnknownCallError(inbound.callId);
  return {
    ...inbound,
    contactKey: call.contactKey,
    from: inbound.from || call.from,
    to: inbound.to || call.to,
  };
}

/** A voicemail for a call we never recorded: the provider retries, by then the call is stored. */
export class UnknownCallError extends NotYetError {
  constructor(callId: string) {
    super('UNKNOWN_CALL', `No call ${callId.slice(0, 8)}… is recorded yet`);
  }
}

/** The message record of a customer's message, to be stored in `conversationId`. */
export function inboundRecord(
  inbound: InboundMessage,
  conversationId: string,
  now: Date,
  recordedAt: Date | undefined,
): Message {
  return {
    id: inboundMessageId(inbound),
    conversationId,
    direction: 'inbound',
    kind: inbound.kind,
    channel: inbound.channel,
    provider: inbound.provider,
    providerMessageId: inbound.providerMessageId,
    from: inbound.from,
    to: inbound.to,
    ...(inbound.toId ? { toId: inbound.toId } : {}),
    text: inbound.text,
    media: inbound.media,
    createdAt: now.toISOString(),
    contactKey: inbound.contactKey,
    ...(inbound.durationSeconds === undefined ? {} : { durationSeconds: inbound.durationSeconds }),
    ...(inbound.callId ? { callId: inbound.callId } : {}),
    ...(inbound.email ? { email: inbound.email } : {}),
    ...(inbound.fullText ? { fullText: inbound.fullText } : {}),
    ...(recordedAt ? { recordedAt: recordedAt.toISOString() } : {}),
  };
}
