import type { Channel, Locale } from '#lib/domain/channel.ts';
import {
  type Conversation,
  customerWaiting,
  type ReplyRoute,
  replyApplied,
} from '#lib/domain/conversation.ts';
import type { Message } from '#lib/domain/message.ts';
import type { TemplateRef } from '#lib/domain/reply-template.ts';
import { actingName } from '#lib/domain/signer.ts';
import type { TextLimit } from '#lib/domain/text-limits.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Agent, AgentDeps } from './agent-actions.ts';
import { applyStoredReply } from './conversation-writes.ts';
import { applyDelivery } from './record-updates.ts';

// What an agent's reply ends in (sendReply), and the writes of one the provider took.

export type ReplyResult =
  | { kind: 'sent'; message: Message; conversation: Conversation }
  | { kind: 'not-found' }
  /**
   * The window is closed. On WhatsApp `template` names what would have let the reply go: no
   * approved template is configured for the conversation's locale on its provider.
   */
  | {
      kind: 'outside-window';
      channel: Channel;
      template?: { locale: Locale; provider: string };
    }
  /**
   * The provider refused the approved template we sent (its name, language, parameters, or its
   * status): our configuration's fault, never the customer's. `providerCode` is the provider's.
   */
  | { kind: 'template-refused'; provider: string; template: TemplateRef; providerCode: string }
  | { kind: 'no-route'; channel: Channel }
  /**
   * Sending on the provider is switched off in this deployment (its configuration is incomplete:
   * ChannelSender.switchedOff): refused before anything is written or sent.
   */
  | { kind: 'switched-off'; provider: string }
  /** The conversation is resolved and the contact has another, open one: answer there. */
  | { kind: 'other-open'; conversationId: string }
  /** The key's agent name is not listed in the configuration: nobody to sign with a direct contact. */
  | { kind: 'agent-not-listed'; agentName: string }
  /** The provider refused the reply for good: its reason (`SEND_REJECTED:21610`) and who refused it. */
  | { kind: 'rejected'; reason: string; provider: string }
  /**
   * The provider did not answer after taking the request: the reply may have gone. Retried with
   * the same Idempotency-Key after `retryAfterSeconds`, it is looked up and sent only if it did not.
   */
  | { kind: 'uncertain'; retryAfterSeconds: number }
  /**
   * With its signature the reply is longer than the channel's provider takes in one message
   * (`limit`): `signature` is what the signature adds, so the agent may write `limit` less that.
   */
  | {
      kind: 'too-long';
      channel: Channel;
      limit: TextLimit;
      signed: { chars: number; bytes: number };
      signature: { chars: number; bytes: number };
      /** Sent as a WhatsApp template (after the window): the limit is its text parameter's. */
      template?: true;
    };

/** The reply the provider took, stored as what the customer got, then finished (finishReply). */
export async function storeReply(
  deps: AgentDeps,
  conversation: Conversation,
  sent: {
    route: ReplyRoute;
    channel: Channel;
    id: string;
    text: string;
    providerMessageId: string | null;
    at: Date;
    /** Sent as this WhatsApp template (after the window). */
    template?: TemplateRef | null;
  },
  agent: Agent,
): Promise<ReplyResult> {
  const { route, channel, id, text, providerMessageId, at, template } = sent;
  const { message } = await deps.store.putMessage({
    id,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: 'reply',
    channel,
    provider: route.provider,
    providerMessageId,
    from: route.business,
    to: route.customer,
    text,
    media: [],
    createdAt: at.toISOString(),
    contactKey: conversation.contact.key,
    ...(template ? { template } : {}),
  });
  return finishReply(deps, conversation, message, agent);
}

/**
 * The contact's open conversation in which they wait for a person, when it is not this resolved
 * one (null otherwise). A reply here would reach the customer but stop no clock: the one they
 * wait in would still get its late notice and count a breach. One nobody waits in (answered, or
 * opened only by their mailbox's out-of-office reply, HELP) does not stand in the way of a
 * follow-up. Read after the reply's time is taken, so a conversation the contact opens after
 * this check began after the reply, which could not have answered it. Only a reply on a
 * resolved conversation pays these reads.
 */
export async function otherOpenConversation(
  store: ConversationStore,
  conversation: Conversation,
): Promise<string | null> {
  if (conversation.status !== 'resolved') return null;
  const pointer = (await store.getContact(conversation.contact.key))?.openConversationId;
  if (!pointer || pointer === conversation.id) return null;
  // A pointer a resolve has not released yet names a conversation that is no longer open.
  const other = await store.getConversation(pointer);
  return other && customerWaiting(other) ? other.id : null;
}

/** After the reply is stored: its provider id findable, the waiting episode ended (at the time it was stored). */
export async function finishReply(
  deps: AgentDeps,
  conversation: Conversation,
  message: Message,
  agent: Agent,
  /** The retry of a request whose reply is stored already: applied again only when it is not yet. */
  retry = false,
): Promise<ReplyResult> {
  if (message.providerMessageId) {
    // A status the provider sent before this alias existed was held for us.
    const early = await deps.store.putProviderAlias(message.provider, message.providerMessageId, message.id);
    if (early) await applyDelivery(deps, message, early);
  }
  // Applied already (Meta's report of a try whose answer was lost settled it, settleReported):
  // applying it again would announce its reply.sent again.
  if (retry && isApplied(conversation, message)) return { kind: 'sent', message, conversation };
  const updated = await applyStoredReply(deps, message, actingName(deps.business, agent));
  deps.log.info('agent reply sent', { conversationId: conversation.id, channel: message.channel });
  return { kind: 'sent', message, conversation: updated ?? conversation };
}

/**
 * Whether a stored reply is applied to its conversation: listed among its applied replies, or not
 * though every reply since the list's start is (appliedReplies). Older than the list (stored
 * before stop 32, or over a day ago): no longer marked uncertain or in flight, and the
 * conversation's last reply is it or later (another reply applied since hides it then).
 */
function isApplied(conversation: Conversation, message: Message): boolean {
  const listed = replyApplied(conversation, message.id, message.createdAt);
  if (listed !== null) return listed;
  if (conversation.uncertainReplies?.[message.id] || conversation.repliesInFlight?.[message.id]) return false;
  return Date.parse(conversation.lastReplyAt ?? '') >= Date.parse(message.createdAt);
}
