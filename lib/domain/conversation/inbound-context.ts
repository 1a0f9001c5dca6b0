// What applying a customer message takes (InboundContext) and gives (ApplyInboundResult).

import type { z } from 'zod';
import type { LocaleSchema } from '../channel.ts';
import type { ReplyPromiseSchema } from '../promise.ts';
import type { Ack } from './ack-schema.ts';
import type { Conversation } from './schema.ts';

/** Why no acknowledgement is sent for an episode; recorded on the conversation. */
export type NoAckReason = string;

export type InboundContext = {
  now: Date;
  /** The promise for a message received now on this channel. */
  promise: z.infer<typeof ReplyPromiseSchema>;
  /** null: acknowledge; otherwise the reason not to. */
  noAckReason: NoAckReason | null;
  /** The language of a conversation this message opens (chooseLocale). */
  defaultLocale: z.infer<typeof LocaleSchema>;
  /**
   * The language this message is confidently in (null or absent: it does not say). A
   * conversation whose language no message has told yet takes it: one that began with a photo,
   * a call or an "ok" (the default, or the contact's last language) is answered in the
   * language the customer then writes in.
   */
  detectedLocale?: z.infer<typeof LocaleSchema> | null;
  newConversationId: string;
  /** The customer's name as the provider gave it (WhatsApp profile, email display name). */
  contactName?: string | undefined;
  /** A call: the greeting already told the caller the promise, so that is the acknowledgement. */
  spokenAck?: boolean;
  /** The message is the customer's STOP or START (the contact's consent is already recorded). */
  consent?: 'opt-out' | 'opt-in' | undefined;
  /**
   * Not before this moment does the ack of an episode this message opens go (its `retryAt`; the
   * sweeper queues it then): a message recorded late, whose answer from the provider's own inbox
   * may still wait on the queue (LATE_ACK_HOLD_MS). The re-check at send time skips it if so.
   */
  holdAckUntil?: string | undefined;
  /** The ack this episode's would wait for (Ack.after): the person's other key's, still queued. */
  ackAfter?: Ack['after'];
  /**
   * Our last reply to this person on a conversation of theirs that has ended (the contact's
   * lastReplyAt, and whether it asked something): a bare thanks that opens a conversation soon
   * after an answer that asked nothing opens it resolved (thanks-resolve.ts). Null: none kept.
   */
  endedReply?: { at: string; asked: boolean } | null;
};

export type ApplyInboundResult =
  | { kind: 'applied'; conversation: Conversation; ackRequested: boolean; opened: boolean }
  | { kind: 'unchanged'; conversation: Conversation }
  | { kind: 'closed'; conversation: Conversation };
