import type { BusinessConfig } from '#lib/domain/business-config.ts';
import type { Channel, Locale } from '#lib/domain/channel.ts';
import {
  assignConversation,
  type Conversation,
  customerWaiting,
  lastReadableInboundAt,
  lastReplyKept,
  lastSentAck,
  type ReplyRoute,
  reopenConversation,
  replyInFlight,
  replyLanded,
  replyUncertain,
  resolveConversation,
  routeOf,
  sendChannelOf,
} from '#lib/domain/conversation.ts';
import { withEvent } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { Message } from '#lib/domain/message.ts';
import {
  replyTemplateFor,
  TEMPLATE_PARAMETER_LIMIT,
  type TemplateRef,
  templateStoredText,
} from '#lib/domain/reply-template.ts';
import { actingName, replySigner } from '#lib/domain/signer.ts';
import { fitsLimit, type TextLimit, textLimitOf, textSize } from '#lib/domain/text-limits.ts';
import { signReply, templateReplyParameters } from '#lib/domain/texts/index.ts';
import type { OutboundText, SenderRegistry, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import { applyStoredReply, updateConversation } from './conversation-writes.ts';
import { applyDelivery } from './record-updates.ts';
import { replyWindow, UNCERTAIN_WAIT_MS } from './send-ack.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

export type AgentDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  /** The rota: who signs a reply, and their direct contact. */
  business: BusinessConfig;
  /**
   * Records a stored customer message again, as its provider's retry would (recordInbound): a
   * reopen that gives way moves the messages that joined it meanwhile with this.
   */
  recordAgain?: (message: Message) => Promise<unknown>;
  /** The Meta app may tag a person's late Messenger or Instagram reply HUMAN_AGENT (7 days instead of 24 hours). */
  humanAgent?: boolean;
};

/**
 * Who acts: the API key's agent (`id`, their id in the configuration, signs replies; a key made
 * before keys kept it signs by `name`), or null for a key without one (its replies are signed
 * by the person the conversation's promise named: replySigner). Events and notes name them as
 * the configuration lists them now (actingName), not by the name the key stored.
 */
export type Agent = { keyId: string; name: string | null; id?: string | null };

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
  if (earlier?.kind === 'reply') return finishReply(deps, conversation, earlier, request.agent);
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
  if (!route || !sender || !sendChannel) return { kind: 'no-route', channel };
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
  const outbound = (
    text: string,
    senderName: string,
    humanAgent: boolean,
    as?: { template: TemplateRef; parameters: [string, string] },
  ): OutboundText => ({
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
  // An earlier try of this request ended without the provider's answer: it may have gone. The
  // provider is asked for it first (adopted when it has it); without a sign of it, it is sent
  // again only once the wait is over, so that a try the provider was still taking is not doubled.
  const uncertain = conversation.uncertainReplies?.[id];
  if (uncertain) {
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
        request.agent,
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
        replyUncertain(current, id, now, text, template && parameters ? template : null, {
          channel: message.channel,
          provider: message.provider,
          to: message.to,
          from: message.from,
          ...(route.businessId ? { businessId: route.businessId } : {}),
        }),
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
    if (error instanceof SendError && error.permanent) {
      return {
        kind: 'rejected',
        reason: `${error.code}${error.providerCode ? `:${error.providerCode}` : ''}`,
        provider: route.provider,
      };
    }
    throw error;
  }
  return storeReply(
    deps,
    conversation,
    { route, channel: sendChannel, id, text: text, providerMessageId: providerMessageId, at: now, template },
    request.agent,
  );
}

/**
 * The reply or note an attempt of this request stored before stop 25, under the id it derived
 * from the API key and Idempotency-Key alone (`legacyRequestKey`, given only to the retry of a
 * request whose idempotency record is still live): its retry after the deploy finishes it
 * instead of sending it again. Its text must be the one asked for now, so that a reply a key
 * carried before its record expired is never taken for a new body under that key (why ids
 * derive from the body since). One GetItem, on a retry only. Remove 24 hours after stop 25 is
 * deployed.
 */
async function storedBeforeStop25(
  store: ConversationStore,
  kind: 'reply' | 'note',
  conversationId: string,
  legacyRequestKey: string | null | undefined,
  text: string,
): Promise<Message | null> {
  if (!legacyRequestKey) return null;
  const stored = await store.getMessage(stableId('msg', `${kind}:${conversationId}:${legacyRequestKey}`));
  if (stored?.kind !== kind || stored.conversationId !== conversationId) return null;
  // A reply was stored signed (signReply: the text, then its signature); a note as written.
  const asked = text.trim();
  const same = kind === 'note' ? stored.text === asked : stored.text.startsWith(`${asked}\n`);
  return same ? stored : null;
}

/** The reply the provider took, stored as what the customer got, then finished (finishReply). */
async function storeReply(
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
async function otherOpenConversation(
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
async function finishReply(
  deps: AgentDeps,
  conversation: Conversation,
  message: Message,
  agent: Agent,
): Promise<ReplyResult> {
  if (message.providerMessageId) {
    // A status the provider sent before this alias existed was held for us.
    const early = await deps.store.putProviderAlias(message.provider, message.providerMessageId, message.id);
    if (early) await applyDelivery(deps, message, early);
  }
  const updated = await applyStoredReply(deps, message, actingName(deps.business, agent));
  deps.log.info('agent reply sent', { conversationId: conversation.id, channel: message.channel });
  return { kind: 'sent', message, conversation: updated ?? conversation };
}

export type ChangeResult =
  | { kind: 'changed'; conversation: Conversation }
  | { kind: 'not-found' }
  /** The contact has another open conversation (its id): a contact has one open at a time. */
  | { kind: 'other-open'; conversationId: string };

/** An assignment never conflicts: the last one wins. */
export type AssignResult = { kind: 'changed'; conversation: Conversation } | { kind: 'not-found' };

/** A resolve never conflicts, but it is refused when the customer wrote after what the agent saw. */
export type ResolveResult =
  | { kind: 'changed'; conversation: Conversation }
  | { kind: 'not-found' }
  /**
   * Not resolved: the conversation as it is, and when the customer's newest message became
   * readable (received, or recorded late): the `seenUntil` that passes once the agent saw it.
   */
  | { kind: 'customer-wrote'; conversation: Conversation; lastReadableAt: string };

/**
 * Resolves a conversation (twice is harmless) and frees the contact for a new one. With
 * `seenUntil` (the newest `createdAt` or `recordedAt` of the messages the agent saw), not if the
 * customer wrote after it, or a message of theirs recorded late was stored after it: checked in
 * the same conditional write as the resolve, so a message applied a moment before is never
 * resolved unread (one applied after opens a new conversation).
 */
export async function resolve(
  deps: AgentDeps,
  conversationId: string,
  agent: Agent,
  options: { seenUntil?: Date } = {},
): Promise<ResolveResult> {
  const now = deps.clock.now();
  const before = await deps.store.getConversation(conversationId);
  if (!before) return { kind: 'not-found' };
  // The contact's claim as it stands before the resolve: released only if it is still that one,
  // so a reopen racing this resolve keeps the contact pointing at the conversation it reopened.
  const contact = await deps.store.getContact(before.contact.key);
  let changed = false;
  let customerWrote: string | null = null;
  const { seenUntil } = options;
  const name = actingName(deps.business, agent);
  const resolved = await updateConversation(
    deps.store,
    conversationId,
    (current) => {
      // Receipt time alone would pass a message the worker recorded after the agent looked.
      const wrote = lastReadableInboundAt(current);
      customerWrote =
        seenUntil !== undefined &&
        current.status === 'open' &&
        wrote !== null &&
        Date.parse(wrote) > seenUntil.getTime()
          ? wrote
          : null;
      const next = customerWrote ? current : resolveConversation(current, now, name);
      changed = next !== current;
      return next;
    },
    before,
  );
  if (!resolved) return { kind: 'not-found' };
  if (customerWrote) return { kind: 'customer-wrote', conversation: resolved, lastReadableAt: customerWrote };
  // The next message of this contact opens a new conversation; a crash before this write (or
  // a release refused because of a newer claim) is finished by recordInbound, which moves a
  // message off a resolved conversation. A resolve that changed nothing releases nothing.
  if (changed && contact?.openConversationId === resolved.id) {
    await deps.store.releaseOpenConversation(
      resolved.contact.key,
      resolved.id,
      now,
      { lastAck: lastSentAck(resolved), lastReplyAt: lastReplyKept(resolved, contact) },
      contact.claimToken ?? null,
    );
  }
  return { kind: 'changed', conversation: resolved };
}

/** Opens a resolved conversation again, unless the contact already has another open one. */
export async function reopen(deps: AgentDeps, conversationId: string, agent: Agent): Promise<ChangeResult> {
  const conversation = await deps.store.getConversation(conversationId);
  if (!conversation) return { kind: 'not-found' };
  const now = deps.clock.now();
  const key = conversation.contact.key;
  const name = actingName(deps.business, agent);
  const conflict = (id: string): ChangeResult => ({ kind: 'other-open', conversationId: id });
  let reopened: Conversation = conversation;
  let claimToken: string | undefined;
  if (conversation.status === 'open') {
    // Already open: a second click, or the retry of a reopen that died before it renewed its
    // claim (below). The claim is renewed now, as it would have been then.
    const contact = await deps.store.getContact(key);
    if (contact?.openConversationId === conversation.id) claimToken = contact.claimToken;
  } else {
    // A claim even when the pointer still names this conversation (a resolve that has not
    // released it yet): the new claim token keeps that resolve from releasing it after us.
    const open = await deps.store.claimOpenConversation(
      key,
      conversation.id,
      { channel: conversation.channel, now },
      conversation.id,
    );
    if (open.conversationId !== conversation.id) return conflict(open.conversationId);
    claimToken = open.contact.claimToken;
    const written = await updateConversation(
      deps.store,
      conversationId,
      (current) => reopenConversation(current, now, name),
      conversation,
    );
    if (!written) return { kind: 'not-found' };
    reopened = written;
  }
  // Our claim renewed now that the conversation is written open: a message that read it still
  // resolved took the contact's token before this, so it can no longer replace the pointer (it
  // reads again and joins). It is the same claim token the message's replacing write needs:
  // exactly one of the two writes wins.
  if (claimToken && (await deps.store.renewClaim(key, conversation.id, claimToken))) {
    return { kind: 'changed', conversation: reopened };
  }
  // A message for the resolved conversation opened a new one first: then the contact follows
  // that one, and this one goes back to resolved (one open conversation a contact). No pointer
  // at all: a resolve that came after our reopen released it, and that resolve is the last
  // word. Our own pointer under another token: a second reopen of it.
  const pointer = (await deps.store.getContact(key))?.openConversationId ?? null;
  if (pointer === conversation.id) return { kind: 'changed', conversation: reopened };
  if (pointer === null) {
    return { kind: 'changed', conversation: (await deps.store.getConversation(conversationId)) ?? reopened };
  }
  // Customer messages may have joined the conversation while it stood open (a resolved one
  // applies none, so they are the ones its episode gained since our first read): resolving it
  // again would bury them unseen. They leave its episode and go where the contact now points,
  // as a retry of their delivery would take them (recordInbound moves a message it finds in a
  // resolved conversation that never applied it).
  let joined: string[] = [];
  await updateConversation(
    deps.store,
    conversationId,
    (current) => {
      joined = current.episodeMessageIds.filter((id) => !conversation.episodeMessageIds.includes(id));
      const resolved = resolveConversation(current, now, name);
      return joined.length === 0
        ? resolved
        : { ...resolved, episodeMessageIds: resolved.episodeMessageIds.filter((id) => !joined.includes(id)) };
    },
    reopened,
  );
  if (deps.recordAgain) {
    for (const id of joined) {
      const message = await deps.store.getMessage(id);
      if (message) await deps.recordAgain(message);
    }
  }
  return conflict(pointer);
}

/** Assigns (or, with null, unassigns) a conversation. */
export async function assign(
  deps: AgentDeps,
  conversationId: string,
  assignee: string | null,
  agent: Agent,
): Promise<AssignResult> {
  const now = deps.clock.now();
  const assigned = await updateConversation(deps.store, conversationId, (current) =>
    assignConversation(current, assignee, now, actingName(deps.business, agent)),
  );
  return assigned ? { kind: 'changed', conversation: assigned } : { kind: 'not-found' };
}

/**
 * An internal note: stored with the conversation's messages, never sent to the customer, and
 * announced (`note.added`) for the other tools an agent may work in: the event goes on the
 * conversation's outbox after the note is stored, so the retry of a request that died between
 * the two writes announces it then, under the same id.
 */
export async function addNote(
  deps: AgentDeps,
  request: {
    conversationId: string;
    text: string;
    agent: Agent;
    requestKey: string;
    legacyRequestKey?: string | null;
  },
): Promise<{ kind: 'added'; message: Message } | { kind: 'not-found' }> {
  const conversation = await deps.store.getConversation(request.conversationId);
  if (!conversation) return { kind: 'not-found' };
  const agent = actingName(deps.business, request.agent);
  // A note the earlier attempt of this request stored before stop 25 is not added twice.
  const legacy = await storedBeforeStop25(
    deps.store,
    'note',
    conversation.id,
    request.legacyRequestKey,
    request.text,
  );
  const { message } = legacy
    ? { message: legacy }
    : await deps.store.putMessage({
        id: stableId('msg', `note:${conversation.id}:${request.requestKey}`),
        conversationId: conversation.id,
        direction: 'outbound',
        kind: 'note',
        channel: conversation.channel,
        provider: 'switchboard',
        providerMessageId: null,
        from: agent ?? request.agent.keyId,
        to: '',
        text: request.text.trim(),
        media: [],
        createdAt: deps.clock.now().toISOString(),
        contactKey: conversation.contact.key,
      });
  await updateConversation(
    deps.store,
    conversation.id,
    (current) =>
      withEvent(current, 'note.added', message.id, new Date(message.createdAt), {
        messageId: message.id,
        agent,
      }),
    conversation,
  );
  return { kind: 'added', message };
}
