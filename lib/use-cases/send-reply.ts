import type { Channel } from '#lib/domain/channel.ts';
import {
  type Conversation,
  type ReplyRoute,
  replyInFlight,
  replyLanded,
  replyUncertain,
  routeOf,
  sendChannelOf,
} from '#lib/domain/conversation.ts';
import { stableId } from '#lib/domain/ids.ts';
import {
  replyTemplateFor,
  TEMPLATE_PARAMETER_LIMIT,
  templateStoredText,
} from '#lib/domain/reply-template.ts';
import { actingName, replySigner } from '#lib/domain/signer.ts';
import { fitsLimit, textLimitOf, textSize } from '#lib/domain/text-limits.ts';
import { signReply, templateReplyParameters } from '#lib/domain/texts/index.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import { type Agent, type AgentDeps, storedBeforeStop25 } from './agent-actions.ts';
import { updateConversation } from './conversation-writes.ts';
import { earlierTry, type OutboundOf } from './reply-earlier-try.ts';
import { finishReply, otherOpenConversation, type ReplyResult, storeReply } from './reply-records.ts';
import { replyWindow } from './reply-window.ts';
import { UNCERTAIN_WAIT_MS } from './send-once.ts';
import { callerTakesNoSms, replyRejected } from './send-refused.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

/** The route for answering on `channel`: the conversation's own, or that of the customer's last message there. */
async function routeFor(
  store: ConversationStore,
  conversation: Conversation,
  channel: Channel | undefined,
): Promise<ReplyRoute | null> {
  if (!channel || channel === conversation.route.channel) return conversation.route;
  const last = await store.lastInboundOn(conversation.id, channel);
  if (!last) return null;
  return routeOf(last);
}

/**
 * How long into a reply's send a lookup may still follow an uncertain end: a sender's own budget
 * is 8 s and Twilio's lookup 2 s, inside the HTTP function's 10 s with our writes.
 */
const LOOKUP_AFTER_SEND_MS = 6_000;

/** How long an agent's reply counts as in flight (the provider's call and our writes). */
const REPLY_IN_FLIGHT_MS = 60_000;

/**
 * An agent's reply: sent on the conversation's last inbound channel (or the one chosen from
 * the contact's channels), signed by a named person with their direct contact (replySigner;
 * an email under their name), recorded as an outbound `reply`;
 * the waiting episode ends and the first reply is measured. Outside a 24-hour window it is
 * refused before the provider is called, except on Messenger and Instagram within 7 days,
 * where it goes tagged HUMAN_AGENT (when the Meta app may: `humanAgent`), and on WhatsApp,
 * where it goes as the approved template configured for the conversation's locale
 * (`whatsapp.replyTemplates`; its text and signature as the two parameters). Callers make it idempotent (Idempotency-Key): the
 * message id derives from `requestKey`, which names the request (its API key, Idempotency-Key
 * and body), so even a retry that got past that stores once, while another text under a key
 * whose idempotency record has expired is another reply, sent.
 */
export async function sendReply(
  deps: AgentDeps,
  request: {
    conversationId: string;
    text: string;
    channel?: Channel;
    agent: Agent;
    requestKey: string;
    legacyRequestKey?: string | null;
  },
  /**
   * The provider refused it free-form for a closed window that ours (counted from our receipt of
   * the customer's message, which Meta may deliver hours late) still had open: closed, whatever
   * the clock says.
   */
  providerWindowClosed = false,
): Promise<ReplyResult> {
  const conversation = await deps.store.getConversation(request.conversationId);
  if (!conversation) return { kind: 'not-found' };
  const id = stableId('msg', `reply:${conversation.id}:${request.requestKey}`);
  // The retry of a reply an earlier attempt sent and stored, then died before answering: it is
  // finished, never sent again. (One that died between the provider's send and our write is
  // the double-send window of docs/store.md.)
  const earlier =
    (await deps.store.getMessage(id)) ??
    (await storedBeforeStop25(deps.store, 'reply', conversation.id, request.legacyRequestKey, request.text));
  if (earlier?.kind === 'reply') return finishReply(deps, conversation, earlier, request.agent, true);
  // Never unsigned, never without a direct contact: a key without an agent name signs as the
  // person the customer was promised; one whose person is not listed is refused.
  const signer = replySigner(deps.business, {
    agentName: request.agent.name,
    agentId: request.agent.id ?? null,
    promise: conversation.promise,
  });
  if (!signer) return { kind: 'agent-not-listed', agentName: request.agent.name ?? '' };
  const route = await routeFor(deps.store, conversation, request.channel);
  const channel = request.channel ?? conversation.route.channel;
  // A call is answered by SMS, and only to a caller with a number (sendChannelOf); a message
  // to another number of our WhatsApp account, from none (we send from ours only).
  const sendChannel = route ? sendChannelOf(route) : null;
  const sender = route ? deps.senders(route.provider, route.channel, route.businessId) : undefined;
  // (nor to a caller whose number the provider reported takes no SMS: call them back)
  if (!route || !sender || !sendChannel || (await callerTakesNoSms(deps.store, route)))
    return { kind: 'no-route', channel };
  // Sending there is switched off in this deployment (configured by half): refused up front, so
  // that the agent knows at once, and the same key sends it once the configuration is completed.
  if (sender.switchedOff) return { kind: 'switched-off', provider: route.provider };
  const now = deps.clock.now();
  // After WhatsApp's 24-hour window a person's reply goes only as an approved template, the one
  // configured for the conversation's locale on its provider (none: refused below, 409).
  const windowState = providerWindowClosed
    ? 'closed'
    : replyWindow({ ...conversation, route }, now, deps.humanAgent ?? false);
  const template =
    windowState === 'closed' && sendChannel === 'whatsapp'
      ? replyTemplateFor(deps.business.whatsapp.replyTemplates, route.provider, conversation.locale)
      : null;
  const outbound: OutboundOf = (text, senderName, humanAgent, as) => ({
    channel: sendChannel,
    provider: route.provider,
    to: route.customer,
    from: route.business,
    text,
    subject: route.thread?.subject ?? null,
    senderName,
    idempotencyKey: id,
    ...(route.thread ? { thread: route.thread } : {}),
    ...(humanAgent ? { humanAgent: true } : {}),
    ...(as ? { template: { ...as.template, parameters: as.parameters } } : {}),
  });
  // An earlier try of this request ended without the provider's answer: asked for first (earlierTry).
  const uncertain = conversation.uncertainReplies?.[id];
  if (uncertain) {
    const earlier = await earlierTry(
      deps,
      { conversation, uncertain, route, sender, sendChannel, outbound, id, now },
      request.agent,
    );
    if (earlier) return earlier;
  }
  const open = await otherOpenConversation(deps.store, conversation);
  if (open) return { kind: 'other-open', conversationId: open };
  if (windowState === 'closed' && !template) {
    return {
      kind: 'outside-window',
      channel,
      ...(sendChannel === 'whatsapp'
        ? { template: { locale: conversation.locale, provider: route.provider } }
        : {}),
    };
  }

  const parameters = template
    ? templateReplyParameters({ text: request.text, signer, locale: conversation.locale })
    : undefined;
  const text = parameters
    ? templateStoredText(parameters)
    : signReply({ text: request.text, signer, channel: sendChannel, locale: conversation.locale });
  // A template's text parameter has a limit of its own (the signature is its second parameter).
  if (parameters && !fitsLimit(parameters[0], TEMPLATE_PARAMETER_LIMIT)) {
    return {
      kind: 'too-long',
      channel: sendChannel,
      limit: TEMPLATE_PARAMETER_LIMIT,
      signed: textSize(parameters[0]),
      signature: { chars: 0, bytes: 0 },
      template: true,
    };
  }
  // Refused before anything is sent: a provider would refuse it (Twilio 21617) or, as Meta's
  // senders once did, it would be cut, its signature lost and the stored text not the one sent.
  const limit = textLimitOf(route.provider, sendChannel);
  if (!parameters && !fitsLimit(text, limit)) {
    const signed = textSize(text);
    const own = textSize(request.text.trim());
    return {
      kind: 'too-long',
      channel: sendChannel,
      limit,
      signed,
      signature: { chars: signed.chars - own.chars, bytes: signed.bytes - own.bytes },
    };
  }
  // Meta echoes what we send, and an echo may arrive before the reply is stored: marked in
  // flight, an echo without an app id waits (503, Meta retries) instead of passing for a
  // person's inbox reply. The reply's own write clears the mark; a failed send lets it lapse.
  if (route.provider === 'meta') {
    const until = new Date(now.getTime() + REPLY_IN_FLIGHT_MS);
    await updateConversation(deps.store, conversation.id, (current) =>
      replyInFlight(current, id, now, until),
    );
  }
  const message = outbound(
    text,
    signer.name,
    windowState === 'human-agent',
    template && parameters ? { template, parameters } : undefined,
  );
  const started = performance.now();
  let providerMessageId: string | null;
  try {
    providerMessageId = (await sender.send(message)).providerMessageId;
  } catch (error) {
    // It may have gone: asked at once (a provider that took it lists it), else remembered on the
    // conversation, so that the retry of this request looks for it before sending again.
    if (error instanceof SendError && error.uncertain) {
      // Only while the request has time for it (the HTTP function's 10 s): else the retry asks.
      const found =
        canLookUp(sender) && performance.now() - started < LOOKUP_AFTER_SEND_MS
          ? await findUncertainSend(deps.store, sender, message, now, id).catch(() => null)
          : null;
      if (found)
        return storeReply(
          deps,
          conversation,
          {
            route,
            channel: sendChannel,
            id,
            text: text,
            providerMessageId: found.providerMessageId,
            at: now,
            template,
          },
          request.agent,
        );
      await updateConversation(deps.store, conversation.id, (current) =>
        replyUncertain(
          current,
          id,
          now,
          text,
          template && parameters ? template : null,
          {
            channel: message.channel,
            provider: message.provider,
            to: message.to,
            from: message.from,
            ...(route.businessId ? { businessId: route.businessId } : {}),
          },
          actingName(deps.business, request.agent),
        ),
      );
      return { kind: 'uncertain', retryAfterSeconds: UNCERTAIN_WAIT_MS / 1000 };
    }
    // Refused by the provider (for the customer or for our token), the reply is not on its
    // way: its mark must not put off a person's inbox reply for a minute. After a timeout it
    // may be, and the mark lapses.
    if (route.provider === 'meta' && error instanceof SendError && (error.permanent || error.ours)) {
      await updateConversation(deps.store, conversation.id, (current) => replyLanded(current, id));
    }
    if (error instanceof SendError && error.providerCode === 'outside-window') {
      // WhatsApp's window closed before ours: the reply goes as the template, as after ours.
      const configured =
        sendChannel === 'whatsapp' &&
        replyTemplateFor(deps.business.whatsapp.replyTemplates, route.provider, conversation.locale) !== null;
      if (configured && !template) return sendReply(deps, request, true);
      return {
        kind: 'outside-window',
        channel,
        ...(sendChannel === 'whatsapp' && !configured
          ? { template: { locale: conversation.locale, provider: route.provider } }
          : {}),
      };
    }
    if (template && error instanceof SendError && error.providerCode?.startsWith('template:')) {
      deps.log.error('the provider refused the reply template configured', {
        conversationId: conversation.id,
        provider: route.provider,
        template: template.name,
        error: error.providerCode,
      });
      return {
        kind: 'template-refused',
        provider: route.provider,
        template,
        providerCode: error.providerCode.slice('template:'.length),
      };
    }
    if (error instanceof SendError && error.permanent)
      return replyRejected(deps, conversation, route, error, now);
    throw error;
  }
  return storeReply(
    deps,
    conversation,
    { route, channel: sendChannel, id, text: text, providerMessageId: providerMessageId, at: now, template },
    request.agent,
  );
}
