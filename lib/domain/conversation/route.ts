// Where answers go: the reply route's schema, the route of a customer's message, and the channel
// an agent's reply or an automatic message goes out on.

import { z } from 'zod';
import { voiceSmsAllowed } from '../ack-policy.ts';
import type { BusinessConfig } from '../business-config.ts';
import { type Channel, ChannelSchema } from '../channel.ts';
import { isE164Number, isWithheldCallerId } from '../contact.ts';
import type { Message } from '../message.ts';

/** Where answers go: the channel and addresses of the customer's last message. */
export const ReplyRouteSchema = z.looseObject({
  channel: ChannelSchema,
  provider: z.string(),
  /** The customer's address on that channel: where answers go (a mail's Reply-To, if it named one). */
  customer: z.string(),
  /** Our address the customer wrote to. */
  business: z.string(),
  /**
   * The provider's id of that address, where sending from it takes the id (WhatsApp Cloud's
   * phone_number_id): a route whose id is not one we send from has no sender (SenderRegistry).
   */
  businessId: z.string().optional(),
  /** Email threading of the customer's last mail: answers go "Re:" it. */
  thread: z
    .looseObject({ subject: z.string(), messageId: z.string().optional(), references: z.array(z.string()) })
    .optional(),
});
export type ReplyRoute = z.infer<typeof ReplyRouteSchema>;

/**
 * The channel a route's messages go out on: its own, except a call's, answered by SMS to the
 * number the caller called from. A caller with no number (a Twilio Client identity, a SIP URI
 * whose user part is not E.164, a withheld number) takes no SMS: null, no route. (A withheld
 * caller is recorded as `anonymous`; a call stored before that kept the carrier's placeholder,
 * which may look like a number: never texted either.)
 */
export function sendChannelOf(route: Pick<ReplyRoute, 'channel' | 'customer'>): Channel | null {
  if (route.channel !== 'voice') return route.channel;
  return isE164Number(route.customer) && !isWithheldCallerId(route.customer) ? 'sms' : null;
}

/**
 * The channel an automatic message (an ack, a late notice) goes out on: sendChannelOf's, but
 * after a call only to a number `voiceSms` lets us text (a mobile one by default), as the call's
 * own ack is decided (ackSpokenOnly): never a late notice texted to a landline. An agent's
 * reply is the agent's choice (sendChannelOf).
 */
export function automaticChannelOf(
  route: Pick<ReplyRoute, 'channel' | 'customer'>,
  voiceSms: BusinessConfig['ack']['voiceSms'],
): Channel | null {
  if (route.channel === 'voice' && !voiceSmsAllowed(voiceSms, route.customer)) return null;
  return sendChannelOf(route);
}

/** Where answers to a customer's message go: its channel, our address, and theirs (a mail's Reply-To, if it named one). */
export function routeOf(message: Message): ReplyRoute {
  const route: ReplyRoute = {
    channel: message.channel,
    provider: message.provider,
    // A participant's mail (email.threadCustomer) is answered to the conversation's customer.
    customer: message.email?.threadCustomer ?? message.email?.replyTo ?? message.from,
    business: message.to,
    ...(message.toId ? { businessId: message.toId } : {}),
  };
  if (message.email) {
    const { subject, messageId, references } = message.email;
    route.thread = {
      subject,
      references: messageId ? [...references, messageId] : references,
      ...(messageId ? { messageId } : {}),
    };
  }
  return route;
}
