// npm run simulate's signed email webhooks: a Mailgun route forward and SES mail through SNS.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DEV_SNS_TOPIC_ARN, type DevSnsIdentity, signDevSns } from './dev-sns.ts';
import { hex, type SignedWebhook } from './simulate-payloads.ts';

/** A Mailgun route forward (urlencoded) signed with the webhook signing key. */
export function mailgunWebhook(
  options: { from: string; to: string; subject: string; text: string },
  signingKey: string,
): SignedWebhook {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = hex(25);
  const signature = createHmac('sha256', signingKey).update(`${timestamp}${token}`).digest('hex');
  const messageId = `<${hex(8)}@mail.example.com>`;
  const headers: Array<[string, string]> = [
    ['From', options.from],
    ['To', options.to],
    ['Subject', options.subject],
    ['Message-Id', messageId],
    ['Date', new Date().toUTCString()],
    ['Content-Type', 'text/plain; charset="utf-8"'],
  ];
  const form = new URLSearchParams({
    recipient: options.to,
    sender: options.from.replace(/^.*<|>.*$/g, ''),
    from: options.from,
    subject: options.subject,
    'body-plain': options.text,
    'stripped-text': options.text,
    'message-headers': JSON.stringify(headers),
    'Message-Id': messageId,
    timestamp,
    token,
    signature,
  });
  return {
    path: '/webhooks/email/mailgun',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  };
}

/** A header value as RFC 2047 encoded words when it is not plain ASCII (each word ≤ 75 chars). */
export function encodeHeaderWords(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    // 45 bytes of UTF-8 are 60 of base64: with `=?UTF-8?B?` and `?=` a word stays within 75.
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join('\r\n ');
}

/** `Name <address>` or a bare address, split. */
function mailbox(value: string): { name: string; address: string } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(value);
  return match ? { name: match[1] ?? '', address: match[2] ?? '' } : { name: '', address: value.trim() };
}
const headerMailbox = ({ name, address }: { name: string; address: string }) =>
  name ? `${encodeHeaderWords(name)} <${address}>` : address;

const SES_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * SES inbound mail as a receipt rule's SNS action (encoding BASE64) delivers it: a "Received"
 * notification with the raw MIME inline, in an SNS Notification signed with the dev identity.
 */
export function sesWebhook(
  options: { from: string; to: string; subject: string; text: string },
  identity: DevSnsIdentity,
): SignedWebhook {
  const now = new Date();
  const from = mailbox(options.from);
  const to = mailbox(options.to);
  const sesId = Array.from(randomBytes(40), (byte) =>
    SES_ID_ALPHABET.charAt(byte % SES_ID_ALPHABET.length),
  ).join('');
  const messageId = `<${hex(8)}.${hex(4)}@${from.address.split('@')[1] ?? 'example.net'}>`;
  const date = now.toUTCString().replace('GMT', '+0000');
  const headers: Array<{ name: string; value: string }> = [
    { name: 'Return-Path', value: `<${from.address}>` },
    {
      name: 'Received',
      value: `from mail.example.net (mail.example.net [203.0.113.25]) by inbound-smtp.eu-central-1.amazonaws.com with SMTP id ${sesId} for ${to.address}; ${date}`,
    },
    { name: 'From', value: headerMailbox(from) },
    { name: 'To', value: headerMailbox(to) },
    { name: 'Subject', value: encodeHeaderWords(options.subject) },
    { name: 'Date', value: date },
    { name: 'Message-ID', value: messageId },
    { name: 'MIME-Version', value: '1.0' },
    { name: 'Content-Type', value: 'text/plain; charset="UTF-8"' },
    { name: 'Content-Transfer-Encoding', value: 'base64' },
  ];
  const body = Buffer.from(options.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64');
  const mime = `${headers.map((h) => `${h.name}: ${h.value}`).join('\r\n')}\r\n\r\n${body.match(/.{1,76}/g)?.join('\r\n') ?? ''}\r\n`;
  const received = {
    notificationType: 'Received',
    mail: {
      timestamp: now.toISOString(),
      source: from.address,
      messageId: sesId,
      destination: [to.address],
      headersTruncated: false,
      headers,
      commonHeaders: {
        returnPath: from.address,
        from: [options.from],
        date,
        to: [options.to],
        messageId,
        subject: options.subject,
      },
    },
    receipt: {
      timestamp: now.toISOString(),
      processingTimeMillis: 418,
      recipients: [to.address],
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      spfVerdict: { status: 'PASS' },
      dkimVerdict: { status: 'PASS' },
      dmarcVerdict: { status: 'PASS' },
      action: { type: 'SNS', topicArn: DEV_SNS_TOPIC_ARN, encoding: 'BASE64' },
    },
    content: Buffer.from(mime, 'utf8').toString('base64'),
  };
  const snsMessageId = randomUUID();
  const message = signDevSns(
    {
      Type: 'Notification',
      MessageId: snsMessageId,
      TopicArn: DEV_SNS_TOPIC_ARN,
      Subject: 'Amazon SES Email Receipt Notification',
      Message: JSON.stringify(received),
      Timestamp: now.toISOString(),
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${DEV_SNS_TOPIC_ARN}:${randomUUID()}`,
    },
    identity,
  );
  return {
    path: '/webhooks/email/ses',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': snsMessageId,
      'x-amz-sns-topic-arn': DEV_SNS_TOPIC_ARN,
      'user-agent': 'Amazon Simple Notification Service Agent',
    },
    body: JSON.stringify(message),
  };
}
