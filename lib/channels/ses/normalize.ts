import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { parseMime } from '#lib/channels/email/mime.ts';
import { normalizeMail, type SaveAttachment } from '#lib/channels/email/normalize-mail.ts';
import type { InboundEvent } from '#lib/domain/message.ts';
import { normalizeSesFeedback } from './feedback.ts';
import type { SesPayload, SesReceived } from './schema.ts';

/** Reads the mail an S3 receipt action stored. */
export type GetObject = (bucket: string, key: string) => Promise<Uint8Array>;

export type SesNormalizeDeps = {
  getObject: GetObject;
  saveAttachment: SaveAttachment;
  ourAddresses: readonly string[];
  /** When a bounce or complaint that names no time of its own was heard of. */
  now?: () => Date;
};

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

async function rawMimeOf(received: SesReceived, getObject: GetObject): Promise<Uint8Array> {
  const { action } = received.receipt;
  if (received.content !== undefined) {
    const encoding = action.encoding?.replace(/[-_]/g, '').toUpperCase() ?? 'UTF8';
    if (encoding !== 'BASE64') return new TextEncoder().encode(received.content);
    if (!BASE64.test(received.content)) {
      throw new MalformedPayloadError('The SES content is not base64', ['content']);
    }
    return new Uint8Array(Buffer.from(received.content, 'base64'));
  }
  if (action.type === 'S3' && action.bucketName && action.objectKey) {
    return getObject(action.bucketName, action.objectKey);
  }
  throw new MalformedPayloadError('The SES notification carries no mail and no S3 object', ['content']);
}

/**
 * Turns one verified SNS delivery into events: a received mail becomes a message (its raw
 * MIME inline or read from S3); a bounce or complaint of one of our sends a delivery update
 * (normalizeSesFeedback); confirmations and every other SES notification are ignored.
 */
export async function normalizeSesPayload(
  payload: SesPayload,
  deps: SesNormalizeDeps,
): Promise<InboundEvent[]> {
  const { envelope, notification } = payload;
  if (envelope.Type === 'SubscriptionConfirmation') {
    return [{ type: 'ignored', reason: 'subscription-confirmation' }];
  }
  if (envelope.Type === 'UnsubscribeConfirmation') {
    return [{ type: 'ignored', reason: 'unsubscribe-confirmation' }];
  }
  if (notification?.kind === 'feedback') {
    return normalizeSesFeedback(notification.type, notification.feedback, deps.now?.() ?? new Date());
  }
  if (notification?.kind !== 'received') {
    const type = notification?.kind === 'other' ? notification.type.replace(/[^A-Za-z0-9_-]/g, '') : '';
    return [{ type: 'ignored', reason: `ses-notification:${type || 'unknown'}` }];
  }
  const { received } = notification;
  const mail = await parseMime(await rawMimeOf(received, deps.getObject));
  const verdicts: { spam?: string; virus?: string } = {};
  if (received.receipt.spamVerdict) verdicts.spam = received.receipt.spamVerdict.status;
  if (received.receipt.virusVerdict) verdicts.virus = received.receipt.virusVerdict.status;
  return normalizeMail(mail, {
    provider: 'ses',
    providerMessageId: received.mail.messageId,
    recipient: received.receipt.recipients[0],
    envelopeSender: received.mail.source,
    verdicts,
    ourAddresses: deps.ourAddresses,
    saveAttachment: deps.saveAttachment,
  });
}

/** The region an SNS topic lives in, and its partition's DNS suffix. */
function topicHost(topicArn: string): string | null {
  const match = /^arn:(aws|aws-cn|aws-us-gov):sns:([a-z0-9-]+):\d{12}:/.exec(topicArn);
  if (!match) return null;
  return `sns.${match[2]}.amazonaws.com${match[1] === 'aws-cn' ? '.cn' : ''}`;
}

/**
 * Confirms an SNS subscription by GETting its SubscribeURL, but only for a topic in the
 * allow-list and only on that topic's own SNS host (https, default port, the
 * ConfirmSubscription action for that topic): a forged SubscribeURL must never make us
 * call anything else. Call it only after the delivery's signature verified.
 */
export async function confirmSubscription(
  payload: SesPayload,
  fetch: typeof globalThis.fetch,
  topicArns: readonly string[],
): Promise<boolean> {
  const { envelope } = payload;
  if (envelope.Type !== 'SubscriptionConfirmation' || !topicArns.includes(envelope.TopicArn)) return false;
  const host = topicHost(envelope.TopicArn);
  let url: URL;
  try {
    url = new URL(envelope.SubscribeURL ?? '');
  } catch {
    return false;
  }
  const safe =
    host !== null &&
    url.protocol === 'https:' &&
    url.hostname === host &&
    url.port === '' &&
    url.username === '' &&
    url.password === '' &&
    url.searchParams.get('Action') === 'ConfirmSubscription' &&
    url.searchParams.get('TopicArn') === envelope.TopicArn;
  if (!safe) return false;
  const response = await fetch(url, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(5000) });
  await response.body?.cancel();
  return response.ok;
}
