// What a WhatsApp message says as text and media: captions, buttons, Flows, places, contact cards, orders.
import type { Media } from '#lib/domain/message.ts';
import type { WhatsAppContactCard, WhatsAppContent } from './schema-whatsapp.ts';

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

type FlowReply = NonNullable<NonNullable<WhatsAppContent['interactive']>['nfm_reply']>;

export { whatsappMedia, whatsappText };
