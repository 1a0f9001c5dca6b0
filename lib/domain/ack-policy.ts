import type { BusinessConfig } from './business-config.ts';
import { type Contact, isE164Number, isMobileNumber } from './contact.ts';
import type { InboundMessage } from './message.ts';

export type AckPolicyInput = {
  contact: Contact | null;
  message: Pick<InboundMessage, 'channel' | 'kind' | 'noAckReason'>;
  /** Whether a sender exists for this channel (voice: whether the caller's number takes SMS, voiceSmsAllowed). */
  canSendOn: boolean;
  /** The conversation the message goes to, as it is now (null: it opens one). */
  conversation: { id: string; lastReplyAt: string | null } | null;
  now: Date;
  settings: Pick<BusinessConfig['ack'], 'quietMinutesAfterReply' | 'minutesBetweenAcks'>;
};

const MINUTE = 60_000;

/**
 * The reasons this policy gives about the customer's situation (not about one message): an
 * episode skipped for one of these stays unacknowledged whatever comes next in it. Any other
 * reason belongs to the message that opened the episode (an auto-reply, a list post, HELP…),
 * and the customer's own next message in the episode is acknowledged after all.
 */
const SITUATION_REASONS = new Set([
  'opted-out',
  'channel-cannot-send',
  'recently-answered',
  'recently-acknowledged',
  // Whoever withheld their number stays unreachable for the whole episode (their voicemail too).
  'anonymous-caller',
  'own-number',
]);

/**
 * Whether a person may answer this provider's customers in the provider's own inbox, their reply
 * reaching us as an echo (Meta: the Page inbox, Instagram, the WhatsApp Business app). The ack of
 * a message recorded late there waits for such a reply queued behind it (LATE_ACK_HOLD_MS).
 */
export function inboxRepliesEchoed(provider: string): boolean {
  return provider === 'meta';
}

/** Whether an episode skipped for `reason` is acknowledged once a message that warrants it joins. */
export function acknowledgedLater(reason: string | undefined): boolean {
  return reason !== undefined && !SITUATION_REASONS.has(reason);
}

/** Reasons the worker gives when it could not send (the message itself was a question). */
const SEND_TIME_REASONS = new Set(['outside-window', 'no-promise']);

/** Situations in which nobody is there to answer: our own number writing to itself (a loop, a test). */
const NOBODY_TO_ANSWER = new Set(['own-number']);

/**
 * Whether an episode skipped for `reason` promised nobody anything: it began with a message
 * not to be answered (a keyword, an auto-reply) or one nobody sent to us (our own number), not
 * with a question the worker could not acknowledge in time.
 */
export function promisedNobody(reason: string | undefined): boolean {
  if (reason !== undefined && NOBODY_TO_ANSWER.has(reason)) return true;
  return acknowledgedLater(reason) && !SEND_TIME_REASONS.has(reason as string);
}

/**
 * The one place that decides whether a new waiting episode gets an acknowledgement.
 * Returns null to acknowledge, or the reason recorded on the conversation for not doing so.
 * (One ack per episode is enforced by the episode itself, see applyInbound.)
 */
export function noAckReason(input: AckPolicyInput): string | null {
  const { contact, message, canSendOn, conversation, now, settings } = input;
  if (message.noAckReason) return message.noAckReason;
  // A call's greeting states the promise whatever SMS can do: where no SMS may follow, the
  // greeting is its ack (ackSpokenOnly), never a skipped one, and it is measured. The quiet
  // times below hold back a text, and there is none to hold back: skipped for them, the call
  // would have its late notice texted (to a caller who opted out of our texts, or to a landline).
  if (message.kind === 'call') {
    if (ackSpokenOnly(input)) return null;
  } else {
    if (contact?.optedOut) return 'opted-out';
    if (!canSendOn) return 'channel-cannot-send';
  }
  // An agent answered minutes ago: the customer is mid-conversation, an ack would be noise. In
  // this conversation or another of theirs (a follow-up on a resolved one, whose answer opens
  // a new conversation).
  const replies = [conversation?.lastReplyAt, contact?.lastReplyAt].filter((at) => typeof at === 'string');
  if (replies.some((at) => now.getTime() - Date.parse(at) < settings.quietMinutesAfterReply * MINUTE)) {
    return 'recently-answered';
  }
  // The same person was just acknowledged on another conversation (a new one after a resolve).
  if (
    contact?.lastAckAt &&
    contact.lastAckConversationId !== conversation?.id &&
    now.getTime() - Date.parse(contact.lastAckAt) < settings.minutesBetweenAcks * MINUTE
  ) {
    return 'recently-acknowledged';
  }
  return null;
}

/**
 * Whether a call's acknowledgement is the promise its greeting spoke, with no SMS after it: the
 * caller's number takes none (a landline, by its number or as the provider reported it; no
 * number; `voiceSms`), or they opted out of our texts.
 * STOP stops our texts, not our word: the call-back the greeting promised is kept and measured.
 */
export function ackSpokenOnly(input: Pick<AckPolicyInput, 'contact' | 'message' | 'canSendOn'>): boolean {
  const { contact } = input;
  // The provider said before that this number takes no SMS (Contact.noSmsAt): a landline.
  return (
    input.message.kind === 'call' && (!input.canSendOn || contact?.optedOut === true || !!contact?.noSmsAt)
  );
}

/**
 * Whether a caller also gets the acknowledgement by SMS (beyond the promise the greeting
 * speaks): per config, always, never, or only to a mobile number. Never to a caller who has
 * no phone number to text (a SIP URI, a Twilio Client identity).
 */
export function voiceSmsAllowed(setting: BusinessConfig['ack']['voiceSms'], callerNumber: string): boolean {
  if (setting === 'never' || !isE164Number(callerNumber)) return false;
  if (setting === 'always') return true;
  return isMobileNumber(callerNumber);
}
