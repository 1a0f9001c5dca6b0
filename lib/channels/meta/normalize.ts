import { phoneContactKey } from '#lib/domain/contact.ts';
import { keywordOf, markKeyword } from '#lib/domain/keywords.ts';
import type { DeliveryStatus, InboundEvent, InboundMessage, Media } from '#lib/domain/message.ts';
import {
  isBusinessScopedUserId,
  type MessagingEvent,
  type MetaItem,
  type MetaPayload,
  safeName,
  type WhatsAppContactCard,
  type WhatsAppContent,
  type WhatsAppContext,
  type WhatsAppEcho,
  type WhatsAppMessage,
  type WhatsAppStatus,
} from './schema.ts';
import { isOutsideWindow, messageIdOfTag } from './send.ts';

const PROVIDER = 'meta';
// InboundMessageSchema caps contactName; a display name is never worth rejecting a message.
const MAX_NAME = 200;

type Channel = 'messenger' | 'instagram';

// Meta gives an attachment type, never a MIME type; a wildcard keeps what it said.
const ATTACHMENT_TYPES: Record<string, string> = {
  image: 'image/*',
  sticker: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  file: 'application/octet-stream',
};

const ignored = (reason: string): InboundEvent => ({ type: 'ignored', reason });

function isoOfMillis(ms: number | undefined): string {
  const date = new Date(ms ?? Date.now());
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
}

/** When Meta says a message was sent, if it says so legibly: it only orders a batch. */
function sentAtOf(ms: number | undefined): string | undefined {
  const date = new Date(ms ?? Number.NaN);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function mediaOf(attachments: NonNullable<MessagingEvent['message']>['attachments']): Media[] {
  const media: Media[] = [];
  for (const attachment of attachments ?? []) {
    const url = attachment.payload?.url;
    if (!url) continue; // templates, locations and some fallbacks carry no file
    const contentType =
      ATTACHMENT_TYPES[attachment.type] ?? `application/x-meta-${safeName(attachment.type)}`;
    media.push({ url, contentType });
  }
  return media;
}

function messagingEvent(channel: Channel, standby: boolean, event: MessagingEvent): InboundEvent[] {
  const { sender, recipient, message, postback, delivery, read } = event;
  if (message?.is_echo) {
    // Sent by the business side (our app, another app, a person in the inbox): sender is the page.
    const ourMessageId = messageIdOfTag(message.metadata);
    const echo = {
      provider: PROVIDER,
      providerMessageId: message.mid,
      channel,
      contactKey: `${channel}:${recipient.id}`,
      from: sender.id,
      to: recipient.id,
      text: message.text ?? '',
      media: mediaOf(message.attachments),
      ...(message.app_id === undefined ? {} : { appId: String(message.app_id) }),
      ...(event.timestamp === undefined ? {} : { sentAt: isoOfMillis(event.timestamp) }),
      ...(ourMessageId ? { ourMessageId } : {}),
    };
    return [{ type: 'echo', echo }];
  }
  if (message?.is_deleted) return [ignored('deleted')];
  let inbound: InboundMessage | undefined;
  if (message) {
    inbound = base(channel, sender.id, recipient.id, message.mid, message.text ?? '');
    inbound.media = mediaOf(message.attachments);
  } else if (postback) {
    // Older postbacks have no mid; sender + time is what Meta resends unchanged on a retry.
    const key = postback.mid ?? `postback:${sender.id}:${event.timestamp ?? 0}`;
    inbound = base(channel, sender.id, recipient.id, key, postback.title ?? postback.payload ?? '');
  }
  if (inbound) {
    const sentAt = sentAtOf(event.timestamp);
    if (sentAt) inbound.sentAt = sentAt;
    // In handover another app owns the thread; answering over it would talk across that app.
    if (standby) inbound.noAckReason = 'standby';
    return [{ type: 'message', message: inbound }];
  }
  if (delivery) {
    if (!delivery.mids?.length) return [ignored('delivery-watermark')];
    const at = isoOfMillis(delivery.watermark ?? event.timestamp);
    return delivery.mids.map((mid) => ({
      type: 'delivery',
      update: { provider: PROVIDER, providerMessageId: mid, status: 'delivered', at },
    }));
  }
  if (read || 'messaging_seen' in event) return [ignored(read?.mid ? 'read-receipt' : 'read-watermark')];
  for (const kind of [
    'reaction',
    'referral',
    'optin',
    'message_edit',
    'account_linking',
    'policy_enforcement',
  ]) {
    if (kind in event) return [ignored(kind.replaceAll('_', '-'))];
  }
  return [ignored('unsupported-event')];
}

function base(channel: Channel, from: string, to: string, id: string, text: string): InboundMessage {
  return {
    provider: PROVIDER,
    providerMessageId: id,
    channel,
    kind: 'message',
    contactKey: `${channel}:${from}`,
    from,
    to,
    text,
    media: [],
  };
}

function whatsappMedia(message: WhatsAppContent): { media: Media[]; caption?: string } {
  const type = message.type as 'image' | 'video' | 'audio' | 'document' | 'sticker';
  const item = ['image', 'video', 'audio', 'document', 'sticker'].includes(type) ? message[type] : undefined;
  if (!item) return { media: [] };
  // Only an id arrives: its short-lived URL needs the access token, so it is fetched later.
  const media: Media = {
    url: `whatsapp-media:${item.id}`,
    contentType: item.mime_type ?? (type === 'document' ? 'application/octet-stream' : `${type}/*`),
  };
  if (item.filename) media.name = item.filename;
  return { media: [media], caption: item.caption };
}

/** A shared contact card as one line: "👤 Jan Kowalski, +48 602 345 678, jan@example.com". */
function contactCardText(card: WhatsAppContactCard): string {
  const name =
    card.name?.formatted_name?.trim() ||
    [card.name?.first_name, card.name?.last_name].filter(Boolean).join(' ').trim();
  const phones = (card.phones ?? []).map((phone) => phone.phone ?? (phone.wa_id ? `+${phone.wa_id}` : ''));
  const emails = (card.emails ?? []).map((email) => email.email ?? '');
  const parts = [name, card.org?.company?.trim() ?? '', ...phones, ...emails].filter(Boolean);
  return `👤 ${parts.join(', ')}`;
}

/** An order from the catalog: the customer's note, then "2 × SKU-1 (49.99 PLN)" per item. */
function orderText(order: NonNullable<WhatsAppContent['order']>): string {
  const items = (order.product_items ?? []).map((item) => {
    const price =
      item.item_price === undefined ? '' : ` (${item.item_price}${item.currency ? ` ${item.currency}` : ''})`;
    return `${item.quantity ?? 1} × ${item.product_retailer_id ?? '?'}${price}`;
  });
  return [`🛒 ${order.text?.trim() ?? ''}`.trimEnd(), ...items].join('\n');
}

/**
 * A WhatsApp Flow's answers as "field: value" lines (its `flow_token` is ours, not the
 * customer's); the reply's body ("Sent") when they are not a JSON object.
 */
function flowReplyText(reply: FlowReply): string {
  let answers: unknown;
  try {
    answers = JSON.parse(reply.response_json ?? '');
  } catch {
    answers = undefined;
  }
  if (!answers || typeof answers !== 'object' || Array.isArray(answers)) return reply.body ?? '';
  return Object.entries(answers)
    .filter(([field]) => field !== 'flow_token')
    .map(([field, value]) => `${field}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

function whatsappText(message: WhatsAppContent, caption: string | undefined): string {
  if (message.text) return message.text.body;
  if (caption !== undefined) return caption;
  if (message.button) return message.button.text ?? message.button.payload ?? '';
  const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
  if (reply) return reply.title;
  if (message.interactive?.nfm_reply) return flowReplyText(message.interactive.nfm_reply);
  if (message.location) {
    const { latitude, longitude, name } = message.location;
    return `📍 ${latitude},${longitude}${name ? ` ${name}` : ''}`;
  }
  if (message.contacts?.length) return message.contacts.map(contactCardText).join('\n');
  if (message.order) return orderText(message.order);
  return '';
}

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

type FlowReply = NonNullable<NonNullable<WhatsAppContent['interactive']>['nfm_reply']>;

const WHATSAPP_IGNORED = new Set(['reaction', 'system', 'request_welcome', 'ephemeral']);

/** What normalizing needs to know of our own setup. */
export type MetaNormalizeOptions = {
  /** The WhatsApp number we answer from (WHATSAPP_PHONE_NUMBER_ID). */
  whatsappPhoneNumberId?: string | undefined;
};

function whatsappMessage(
  context: WhatsAppContext,
  message: WhatsAppMessage,
  options: MetaNormalizeOptions,
): InboundEvent {
  if (message.type === 'system') return whatsappSystem(message);
  if (WHATSAPP_IGNORED.has(message.type)) return ignored(`whatsapp-${message.type.replaceAll('_', '-')}`);
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
    text: whatsappText(message, caption),
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
  // Another number of the same WhatsApp Business Account: our acks and replies go out from ours
  // only, and a customer must not hear from a number they never wrote to (nor could: no open
  // window there). Its STOP still stops the contact.
  const ours = options.whatsappPhoneNumberId;
  if (ours && context.phoneNumberId !== ours) inbound.noAckReason = 'other-number';
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
  const ourMessageId = messageIdOfTag(status.biz_opaque_callback_data);
  return {
    type: 'delivery',
    update: {
      provider: PROVIDER,
      providerMessageId: status.id,
      status: status.status as DeliveryStatus,
      ...(code === undefined ? {} : { errorCode: String(code).slice(0, 64) }),
      ...(windowClosed ? { windowClosed } : {}),
      ...(ourMessageId ? { ourMessageId } : {}),
      at: isoOfMillis(at),
    },
  };
}

function eventsOf(item: MetaItem, options: MetaNormalizeOptions): InboundEvent[] {
  switch (item.kind) {
    case 'messaging':
      return messagingEvent(item.channel, item.standby, item.event);
    case 'whatsapp-message':
      return [whatsappMessage(item.context, item.message, options)];
    case 'whatsapp-status':
      return [whatsappStatus(item.status)];
    case 'whatsapp-echo':
      return [whatsappEcho(item.context, item.echo)];
    case 'skip':
      return [ignored(item.reason)];
  }
}

/**
 * Turns a checked Meta webhook into normalized events, every entry and event in the order
 * Meta sent them; an unknown `object` is one `ignored` event. Never throws.
 */
export function normalizeMetaWebhook(
  payload: MetaPayload,
  options: MetaNormalizeOptions = {},
): InboundEvent[] {
  if (!['page', 'instagram', 'whatsapp_business_account'].includes(payload.object)) {
    return [ignored(`unknown-object:${safeName(payload.object)}`)];
  }
  const events: InboundEvent[] = [];
  // A loop, not flatMap + spread: a 10,000-event batch must not build 10,000 small arrays twice.
  for (const item of payload.items) {
    for (const event of eventsOf(item, options)) events.push(event);
  }
  return events;
}
