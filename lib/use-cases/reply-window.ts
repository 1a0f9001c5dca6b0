// The providers' reply windows: may an automatic message (sendAck) or a person's reply (sendReply) go now.

import type { Conversation } from '#lib/domain/conversation.ts';

const WINDOW_MS = 24 * 60 * 60 * 1000;
/** Meta's window for a person's reply on Messenger and Instagram, tagged HUMAN_AGENT. */
const HUMAN_AGENT_WINDOW_MS = 7 * WINDOW_MS;

/**
 * Meta (Messenger, Instagram, WhatsApp Cloud) and WhatsApp through Twilio allow free-form
 * messages only within 24 hours of the customer's last message on that channel.
 */
export function windowClosed(conversation: Conversation, now: Date): boolean {
  return replyWindow(conversation, now, false) === 'closed';
}

/**
 * Whether a person's reply may go now: `open` inside the 24-hour window (or on a channel without
 * one); `human-agent` on Messenger and Instagram up to 7 days after the customer's last message
 * there, when the Meta app may tag it HUMAN_AGENT (`humanAgent`; Meta allows the tag for a
 * person's reply only, never for an ack or a notice); else `closed` (WhatsApp has no such tag:
 * only an approved template, which sendReply sends for a person's reply, never for an ack).
 */
export function replyWindow(
  conversation: Conversation,
  now: Date,
  humanAgent: boolean,
): 'open' | 'human-agent' | 'closed' {
  const { channel, provider } = conversation.route;
  const windowed =
    channel === 'whatsapp' || channel === 'messenger' || channel === 'instagram' || provider === 'meta';
  if (!windowed) return 'open';
  const last = conversation.inboundAt[channel];
  const since = last ? now.getTime() - Date.parse(last) : Number.POSITIVE_INFINITY;
  if (since < WINDOW_MS) return 'open';
  const tagged = humanAgent && provider === 'meta' && (channel === 'messenger' || channel === 'instagram');
  return tagged && since < HUMAN_AGENT_WINDOW_MS ? 'human-agent' : 'closed';
}
