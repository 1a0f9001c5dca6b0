// Messenger and Instagram messaging events as normalized events: messages, postbacks, echoes, receipts.
import type { InboundEvent, InboundMessage, Media } from '#lib/domain/message.ts';
import { ignored, isoOfMillis, PROVIDER, sentAtOf } from './normalize-common.ts';
import { safeName } from './schema.ts';
import type { MessagingEvent } from './schema-messaging.ts';
import { messageIdOfTag } from './send.ts';

type Channel = 'messenger' | 'instagram';

// Meta gives an attachment type, never a MIME type; a wildcard keeps what it said.
const ATTACHMENT_TYPES: Record<string, string> = {
  image: 'image/*',
  sticker: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  file: 'application/octet-stream',
};

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

function messagingEvent(
  channel: Channel,
  standby: boolean,
  event: MessagingEvent,
  answersOnly?: readonly string[],
): InboundEvent[] {
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
    // A Page (an Instagram account) subscribed to the app that we hold no token for, while
    // others have theirs: recorded, and answered by none (no other Page can write to her).
    else if (answersOnly && !answersOnly.includes(recipient.id)) inbound.noAckReason = 'other-page';
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
    // What a reply is sent with: the Page's (Instagram account's) own token, by its id.
    toId: to,
    text,
    media: [],
  };
}

export { messagingEvent };
