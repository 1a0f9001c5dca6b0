// Meta webhook normalization: every checked item, in Meta's order, to the channel's normalizer.
import type { InboundEvent } from '#lib/domain/message.ts';
import { ignored } from './normalize-common.ts';
import { messagingEvent } from './normalize-messaging.ts';
import {
  type MetaNormalizeOptions,
  whatsappEcho,
  whatsappMessage,
  whatsappStatus,
} from './normalize-whatsapp.ts';
import { type MetaItem, type MetaPayload, safeName } from './schema.ts';

export type { MetaNormalizeOptions } from './normalize-whatsapp.ts';

function eventsOf(item: MetaItem, options: MetaNormalizeOptions): InboundEvent[] {
  switch (item.kind) {
    case 'messaging':
      return messagingEvent(item.channel, item.standby, item.event, options.answersOnly?.[item.channel]);
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
