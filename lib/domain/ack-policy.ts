import type { BusinessConfig } from './business-config.ts';
import { type Contact, isMobileNumber } from './contact.ts';
import type { InboundMessage } from './message.ts';

export type AckPolicyInput = {
  contact: Contact | null;
  message: Pick<InboundMessage, 'channel' | 'kind' | 'noAckReason'>;
  /** Whether a sender exists for this channel (voice: whether the caller's number takes SMS). */
  canSendOn: boolean;
};

/**
 * The one place that decides whether a new waiting episode gets an acknowledgement.
 * Returns null to acknowledge, or the reason recorded on the conversation for not doing so.
 * (One ack per episode is enforced by the episode itself, see applyInbound.)
 */
export function noAckReason({ contact, message, canSendOn }: AckPolicyInput): string | null {
  if (message.noAckReason) return message.noAckReason;
  if (contact?.optedOut) return 'opted-out';
  if (!canSendOn) return 'channel-cannot-send';
  return null;
}

/**
 * Whether a caller also gets the acknowledgement by SMS (beyond the promise the greeting
 * speaks): per config, always, never, or only to a mobile number.
 */
export function voiceSmsAllowed(setting: BusinessConfig['ack']['voiceSms'], callerNumber: string): boolean {
  if (setting === 'always') return true;
  if (setting === 'never') return false;
  return isMobileNumber(callerNumber);
}
