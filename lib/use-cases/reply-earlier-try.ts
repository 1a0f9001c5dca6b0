import type { Channel } from '#lib/domain/channel.ts';
import type { Conversation, ReplyRoute } from '#lib/domain/conversation.ts';
import type { TemplateRef } from '#lib/domain/reply-template.ts';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { Agent, AgentDeps } from './agent-actions.ts';
import { type ReplyResult, storeReply } from './reply-records.ts';
import { UNCERTAIN_WAIT_MS } from './send-once.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

/** The provider message of a reply, in the form it goes in (a template's, with its two parameters). */
export type OutboundOf = (
  text: string,
  senderName: string,
  humanAgent: boolean,
  as?: { template: TemplateRef; parameters: [string, string] },
) => OutboundText;

/**
 * An earlier try of this request ended without the provider's answer: it may have gone. The
 * provider is asked for it first (adopted when it has it); without a sign of it, it is sent
 * again only once the wait is over, so that a try the provider was still taking is not doubled.
 * The reply stored, or `uncertain` while the wait runs; null when it is to be sent (again).
 */
export async function earlierTry(
  deps: AgentDeps,
  reply: {
    conversation: Conversation;
    uncertain: NonNullable<Conversation['uncertainReplies']>[string];
    route: ReplyRoute;
    sender: ChannelSender;
    sendChannel: Channel;
    outbound: OutboundOf;
    id: string;
    now: Date;
  },
  agent: Agent,
): Promise<ReplyResult | null> {
  const { conversation, uncertain, route, sender, sendChannel, outbound, id, now } = reply;
  let found: SendReceipt | null = null;
  let lookupFailed: string | null = null;
  // Asked from where it went (its mark's `via`), not the route in force now: the customer may
  // have written to another of our numbers since (a mark from before stop 26: the route).
  const { via } = uncertain;
  const wentBy = via ? deps.senders(via.provider, via.channel, via.businessId) : sender;
  const wentRoute: ReplyRoute = via
    ? { ...route, provider: via.provider, customer: via.to, business: via.from, businessId: via.businessId }
    : route;
  const wentChannel = via?.channel ?? sendChannel;
  if (wentBy && canLookUp(wentBy)) {
    try {
      // Asked in the form it went in (the window may have opened or closed since): a template's
      // stored text is its two parameters, a line each (templateStoredText).
      const cut = uncertain.text.lastIndexOf('\n');
      const asked: OutboundText = {
        ...outbound(
          uncertain.text,
          '',
          false,
          uncertain.template
            ? {
                template: uncertain.template,
                parameters: [uncertain.text.slice(0, cut), uncertain.text.slice(cut + 1)],
              }
            : undefined,
        ),
        channel: wentChannel,
        provider: wentRoute.provider,
        to: wentRoute.customer,
        from: wentRoute.business,
      };
      found = await findUncertainSend(deps.store, wentBy, asked, new Date(uncertain.at), id);
    } catch (error) {
      lookupFailed = error instanceof SendError ? error.code : (error as Error).name;
    }
  }
  // Stamped when it went: a customer message received since then is not answered by it.
  if (found) {
    const at = new Date(uncertain.at);
    return storeReply(
      deps,
      conversation,
      {
        route: wentRoute,
        channel: wentChannel,
        id,
        text: uncertain.text,
        providerMessageId: found.providerMessageId,
        at: at,
        template: uncertain.template ?? null,
      },
      agent,
    );
  }
  const waited = now.getTime() - Date.parse(uncertain.at);
  if (waited < UNCERTAIN_WAIT_MS) {
    return {
      kind: 'uncertain',
      retryAfterSeconds: Math.max(1, Math.ceil((UNCERTAIN_WAIT_MS - waited) / 1000)),
    };
  }
  // After the wait a provider that still cannot be asked (a key that may not read its Messages
  // list, a list outage) is treated as one that cannot be asked at all (Meta, SES): the reply
  // is sent. A reply the customer may get twice beats one the agent can never send (a 503 on
  // every retry, for as long as the lookup fails); the warning tells ops the list is out of reach.
  if (lookupFailed) {
    deps.log.warn('provider could not be asked for an uncertain reply; sent again after the wait', {
      conversationId: conversation.id,
      error: lookupFailed,
    });
  }
  return null;
}
