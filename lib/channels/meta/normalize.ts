import { phoneContactKey } from '#lib/domain/contact.ts';
import type { DeliveryStatus, InboundEvent, InboundMessage, Media } from '#lib/domain/message.ts';
import {
  type MessagingEvent,
  type MetaItem,
  type MetaPayload,
  safeName,
  type WhatsAppContext,
  type WhatsAppMessage,
  type WhatsAppStatus,
} from './schema.ts';

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

function whatsappMedia(message: WhatsAppMessage): { media: Media[]; caption?: string } {
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

function whatsappText(message: WhatsAppMessage, caption: string | undefined): string {
  if (message.text) return message.text.body;
  if (caption !== undefined) return caption;
  if (message.button) return message.button.text ?? message.button.payload ?? '';
  const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
  if (reply) return reply.title;
  if (message.location) {
    const { latitude, longitude, name } = message.location;
    return `📍 ${latitude},${longitude}${name ? ` ${name}` : ''}`;
  }
  return '';
}

function contactNameOf(context: WhatsAppContext, waId: string): string | undefined {
  const match = context.contacts.find((contact) => contact.wa_id === waId);
  // Some numbers (e.g. Brazil's ninth digit) arrive with a wa_id that differs from `from`.
  const contact = match ?? (context.contacts.length === 1 ? context.contacts[0] : undefined);
  const name = contact?.profile?.name?.trim();
  // Never cut a surrogate pair in half.
  return name ? name.slice(0, MAX_NAME).replace(/[\uD800-\uDBFF]$/, '') : undefined;
}

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
  if (WHATSAPP_IGNORED.has(message.type)) return ignored(`whatsapp-${message.type.replaceAll('_', '-')}`);
  const from = `+${message.from}`;
  const { media, caption } = whatsappMedia(message);
  const inbound: InboundMessage = {
    provider: PROVIDER,
    providerMessageId: message.id,
    channel: 'whatsapp',
    kind: 'message',
    // The same key as SMS and calls from this number, so they are one contact.
    contactKey: phoneContactKey(from),
    from,
    to: `+${context.displayPhoneNumber.replace(/\D/g, '')}`,
    text: whatsappText(message, caption),
    media,
  };
  const sentAt = sentAtOf(message.timestamp ? Number(message.timestamp) * 1000 : undefined);
  if (sentAt) inbound.sentAt = sentAt;
  const name = contactNameOf(context, message.from);
  if (name) inbound.contactName = name;
  // Another number of the same WhatsApp Business Account: our acks go out from ours only, and a
  // customer must not hear from a number they never wrote to (nor could: no open window there).
  const ours = options.whatsappPhoneNumberId;
  if (ours && context.phoneNumberId !== ours) inbound.noAckReason = 'other-number';
  return { type: 'message', message: inbound };
}

const WHATSAPP_STATUSES = new Set<string>(['sent', 'delivered', 'read', 'failed']);

function whatsappStatus(status: WhatsAppStatus): InboundEvent {
  if (!WHATSAPP_STATUSES.has(status.status)) return ignored(`whatsapp-status:${safeName(status.status)}`);
  const code = status.errors?.[0]?.code;
  const at = status.timestamp ? Number(status.timestamp) * 1000 : undefined;
  return {
    type: 'delivery',
    update: {
      provider: PROVIDER,
      providerMessageId: status.id,
      status: status.status as DeliveryStatus,
      ...(code === undefined ? {} : { errorCode: String(code).slice(0, 64) }),
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
