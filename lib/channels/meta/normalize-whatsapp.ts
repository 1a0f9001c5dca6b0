// WhatsApp Cloud messages, system messages (identity changes), app echoes and statuses as normalized events.
import { phoneContactKey } from '#lib/domain/contact.ts';
import { keywordOf, markKeyword } from '#lib/domain/keywords.ts';
import type { DeliveryStatus, InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import { ignored, isoOfMillis, MAX_NAME, PROVIDER, sentAtOf } from './normalize-common.ts';
import { whatsappMedia, whatsappText } from './normalize-whatsapp-text.ts';
import { safeName, type WhatsAppContext } from './schema.ts';
import {
  isBusinessScopedUserId,
  type WhatsAppEcho,
  type WhatsAppMessage,
  type WhatsAppStatus,
} from './schema-whatsapp.ts';
import { isOutsideWindow, isRetryableFailure, messageIdOfTag } from './send.ts';

function contactNameOf(context: WhatsAppContext, message: WhatsAppMessage): string | undefined {
  const match = context.contacts.find((contact) =>
    message.from === undefined ? contact.user_id === message.from_user_id : contact.wa_id === message.from,
  );
  // Some numbers (e.g. Brazil's ninth digit) arrive with a wa_id that differs from `from`.
  const contact = match ?? (context.contacts.length === 1 ? context.contacts[0] : undefined);
  const name = contact?.profile?.name?.trim();
  // Never cut a surrogate pair in half.
  return name ? name.slice(0, MAX_NAME).replace(/[\uD800-\uDBFF]$/, '') : undefined;
}

// A reaction is no message; a revoke (the customer deleted one they sent) takes nothing back from
// the record, and asks nothing.
const WHATSAPP_IGNORED = new Set(['reaction', 'system', 'request_welcome', 'ephemeral', 'revoke']);

const WHATSAPP_IGNORED_UNSUPPORTED = new Set(['pin', 'revoke', 'reaction']);

/** Whether the message is an edit of one the customer sent, its content given or not. */
const isEdit = (message: WhatsAppMessage) =>
  message.type === 'edit' || (message.type === 'unsupported' && message.unsupported?.type === 'edit');

/**
 * What an edit says: its new content's text ("✏️ …", only "✏️" where the Cloud API cannot pass it
 * on); what the Cloud API cannot pass on, named ("⚠️ [poll_creation]", no language: locale.ts); a message's
 * own text otherwise.
 */
function textOf(message: WhatsAppMessage, caption: string | undefined): string {
  if (message.type === 'unsupported' && !isEdit(message)) {
    const kind = message.unsupported?.type?.replace(/[^\w-]/g, '');
    return kind ? `⚠️ [${kind}]` : '⚠️';
  }
  if (!isEdit(message)) return whatsappText(message, caption);
  const edited = { id: message.id, type: 'text', ...message.edit?.message };
  return `✏️ ${whatsappText(edited, whatsappMedia(edited).caption)}`.trimEnd();
}

/** What normalizing needs to know of our own setup. */
export type MetaNormalizeOptions = {
  /** The WhatsApp number we answer from (WHATSAPP_PHONE_NUMBER_ID). */
  whatsappPhoneNumberId?: string | undefined;
  /** Every WhatsApp number we answer from (with WHATSAPP_PHONE_NUMBER_IDS). */
  whatsappPhoneNumberIds?: readonly string[] | undefined;
  /**
   * The only Pages (Instagram accounts) answered, where each has its own token and no single
   * token answers the others; undefined: every one.
   */
  answersOnly?: Partial<Record<'messenger' | 'instagram', readonly string[] | undefined>>;
};

function whatsappMessage(
  context: WhatsAppContext,
  message: WhatsAppMessage,
  options: MetaNormalizeOptions,
): InboundEvent {
  if (message.type === 'system') return whatsappSystem(message);
  if (WHATSAPP_IGNORED.has(message.type)) return ignored(`whatsapp-${message.type.replaceAll('_', '-')}`);
  // A pin (or an unpin) of a message, or a deletion, the Cloud API cannot pass on: nothing said.
  if (message.type === 'unsupported' && WHATSAPP_IGNORED_UNSUPPORTED.has(message.unsupported?.type ?? ''))
    return ignored('whatsapp-unsupported');
  // A user with a username may come without a number, as their BSUID only (the schema lets
  // no message through without one or the other): a contact of its own, answered at the BSUID.
  const from = message.from === undefined ? (message.from_user_id ?? '') : `+${message.from}`;
  const { media, caption } = whatsappMedia(message);
  const inbound: InboundMessage = {
    provider: PROVIDER,
    providerMessageId: message.id,
    channel: 'whatsapp',
    kind: 'message',
    // The same key as SMS and calls from this number, so they are one contact.
    contactKey: message.from === undefined ? `whatsapp:${from}` : phoneContactKey(from),
    from,
    to: `+${context.displayPhoneNumber.replace(/\D/g, '')}`,
    // What a reply is sent from: the Cloud API sends from a phone number id, not the number.
    toId: context.phoneNumberId,
    text: textOf(message, caption),
    media,
  };
  // The number and the BSUID side by side say they are one person: recordInbound links the
  // BSUID to the number's contact once, and a later message with the BSUID only finds it.
  if (message.from !== undefined && isBusinessScopedUserId(message.from_user_id ?? '')) {
    inbound.aliasKey = `whatsapp:${message.from_user_id}`;
  }
  const sentAt = sentAtOf(message.timestamp ? Number(message.timestamp) * 1000 : undefined);
  if (sentAt) inbound.sentAt = sentAt;
  const name = contactNameOf(context, message);
  if (name) inbound.contactName = name;
  // STOP and START, read as on WhatsApp through Twilio (the same phone contact): no provider
  // stands between the customer and us here, and WhatsApp's policy asks businesses to honour an
  // opt-out. Only unambiguous words (an order's "Cancel" is a question); HELP is a customer
  // asking for help: nobody else answers it on the Cloud API.
  const keyword = message.type === 'text' ? keywordOf(inbound.text, 'whatsapp') : undefined;
  if (keyword) markKeyword(inbound, keyword);
  // A correction of what they wrote, not a new question: shown, joining the episode, never acknowledged.
  if (isEdit(message)) {
    inbound.noAckReason = 'edited';
    const original = message.edit?.original_message_id;
    if (original) inbound.editOf = original;
  }
  // Another number of the same WhatsApp Business Account: our acks and replies go out from ours
  // only, and a customer must not hear from a number they never wrote to (nor could: no open
  // window there). Its STOP still stops the contact.
  const ours = [
    ...(options.whatsappPhoneNumberId ? [options.whatsappPhoneNumberId] : []),
    ...(options.whatsappPhoneNumberIds ?? []),
  ];
  if (ours.length > 0 && !ours.includes(context.phoneNumberId)) inbound.noAckReason = 'other-number';
  return { type: 'message', message: inbound };
}

/**
 * A user's new business-scoped id: after `user_changed_user_id` it leads where the old one led
 * (their number's contact, or the old id's own); after `user_changed_number` to the new number,
 * and what was answered at the number they left (`from`) or the old id is answered there.
 * Anything else a system message says (or one without both ids) is ignored.
 */
function whatsappSystem(message: WhatsAppMessage): InboundEvent {
  const system = message.system;
  const renewed = system?.user_id ?? '';
  if (!isBusinessScopedUserId(renewed)) return ignored('whatsapp-system');
  const aliasKey = `whatsapp:${renewed}`;
  const number = system?.wa_id?.replace(/\D/g, '');
  const previous = system?.previous_user_id ?? '';
  if (system?.type === 'user_changed_number' && number && /^\d{4,20}$/.test(number)) {
    const address = `+${number}`;
    // Where answers went until now: the number they left (`from`) and the id Meta replaced.
    const left = [
      message.from && message.from !== number ? phoneContactKey(`+${message.from}`) : undefined,
      isBusinessScopedUserId(previous) ? `whatsapp:${previous}` : undefined,
    ].filter((key): key is string => key !== undefined);
    return {
      type: 'alias',
      change: {
        provider: PROVIDER,
        aliasKey,
        contactKey: phoneContactKey(address),
        address,
        ...(left.length > 0 ? { movedFrom: left } : {}),
      },
    };
  }
  if (system?.type === 'user_changed_user_id' && isBusinessScopedUserId(previous)) {
    return {
      type: 'alias',
      change: { provider: PROVIDER, aliasKey, previousKey: `whatsapp:${previous}`, address: renewed },
    };
  }
  return ignored('whatsapp-system');
}

// A reaction is no answer; an edit or a revoke changes a message already sent, and is no new one.
const WHATSAPP_ECHO_IGNORED = new Set(['reaction', 'edit', 'revoke']);

/**
 * A message a person sent from the WhatsApp Business app (coexistence, `smb_message_echoes`): an
 * echo, as a reply typed in Messenger's Page inbox is, to the same phone contact as the
 * customer's messages (or their BSUID's). It has no app id: Meta sends it for the app's messages
 * only, never for a Cloud API send, and our tag on one, if ever there, still makes it ours.
 */
function whatsappEcho(context: WhatsAppContext, message: WhatsAppEcho): InboundEvent {
  if (WHATSAPP_ECHO_IGNORED.has(message.type)) return ignored(`whatsapp-echo-${message.type}`);
  const number = message.to?.replace(/\D/g, '');
  const to = number ? `+${number}` : (message.to_user_id ?? '');
  const { media, caption } = whatsappMedia(message);
  const sentAt = sentAtOf(message.timestamp ? Number(message.timestamp) * 1000 : undefined);
  const ourMessageId = messageIdOfTag(message.biz_opaque_callback_data);
  const echo = {
    provider: PROVIDER,
    providerMessageId: message.id,
    channel: 'whatsapp' as const,
    contactKey: number ? phoneContactKey(to) : `whatsapp:${to}`,
    from: `+${context.displayPhoneNumber.replace(/\D/g, '')}`,
    to,
    text: whatsappText(message, caption),
    media,
    ...(sentAt ? { sentAt } : {}),
    ...(ourMessageId ? { ourMessageId } : {}),
  };
  return { type: 'echo', echo };
}

const WHATSAPP_STATUSES = new Set<string>(['sent', 'delivered', 'read', 'failed']);

function whatsappStatus(status: WhatsAppStatus): InboundEvent {
  if (!WHATSAPP_STATUSES.has(status.status)) return ignored(`whatsapp-status:${safeName(status.status)}`);
  const code = status.errors?.[0]?.code;
  const at = status.timestamp ? Number(status.timestamp) * 1000 : undefined;
  // The Cloud API takes a send, then reports here that the window had closed (131047).
  const windowClosed = status.status === 'failed' && code !== undefined && isOutsideWindow(Number(code));
  // Or reports a failure a later try may get past (131000, 131016, 130429…).
  const retryable = status.status === 'failed' && code !== undefined && isRetryableFailure(Number(code));
  const ourMessageId = messageIdOfTag(status.biz_opaque_callback_data);
  // Whom our tagged send went to: its conversation's customer (a number, or a BSUID alone).
  const number = /^\d{4,20}$/.test(status.recipient_id ?? '') ? status.recipient_id : undefined;
  const bsuid = isBusinessScopedUserId(status.recipient_user_id ?? '') ? status.recipient_user_id : undefined;
  const contactKey = !ourMessageId
    ? undefined
    : number
      ? phoneContactKey(`+${number}`)
      : bsuid
        ? `whatsapp:${bsuid}`
        : undefined;
  return {
    type: 'delivery',
    update: {
      provider: PROVIDER,
      providerMessageId: status.id,
      status: status.status as DeliveryStatus,
      ...(code === undefined ? {} : { errorCode: String(code).slice(0, 64) }),
      ...(windowClosed ? { windowClosed } : {}),
      ...(retryable ? { retryable } : {}),
      ...(ourMessageId ? { ourMessageId } : {}),
      ...(contactKey ? { contactKey } : {}),
      at: isoOfMillis(at),
    },
  };
}

export { whatsappEcho, whatsappMessage, whatsappStatus };
