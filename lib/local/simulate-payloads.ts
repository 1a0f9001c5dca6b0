import { createHmac, randomBytes, randomUUID } from 'node:crypto';
// Only the signature helpers: the whole twilio package costs ~175 ms to import.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { twilioSignature } from '#lib/channels/twilio/signed-url.ts';
import { SIGNATURE_SETTINGS_HEADER } from '#lib/channels/twilio/verify.ts';
import { DEV_SNS_TOPIC_ARN, type DevSnsIdentity, signDevSns } from './dev-sns.ts';

/** One signed webhook, ready to POST to the running Switchboard. */
export type SignedWebhook = { path: string; headers: Record<string, string>; body: string };

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const twilioSid = (prefix: string) => `${prefix}${hex(16)}`;

/**
 * A Twilio form webhook signed against the public URL: with twilio's own helper and the auth token,
 * or, given TWILIO_WEBHOOK_SHARED_KEY, with it the Webhook-Rule way (HMAC_SHA256 + Settings header).
 */
export function twilioWebhook(
  path: string,
  params: Record<string, string>,
  secrets: { authToken: string; publicUrl: string; sharedKey?: string | undefined },
): SignedWebhook {
  const url = `${secrets.publicUrl}${path}`;
  // With a shared key, as a Webhook Rule's Setting signs (docs/deploy.md); else with the auth token.
  const headers: Record<string, string> = secrets.sharedKey
    ? {
        'x-twilio-signature': twilioSignature('sha256', secrets.sharedKey, url, params),
        [SIGNATURE_SETTINGS_HEADER]: 'key=webhooks_shared_key_simulated,algorithm=HMAC_SHA256',
      }
    : { 'x-twilio-signature': getExpectedTwilioSignature(secrets.authToken, url, params) };
  return {
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  };
}

/** An inbound SMS/MMS/WhatsApp message as Twilio posts it. */
export function twilioMessageParams(options: {
  from: string;
  to: string;
  body: string;
  accountSid: string;
  media?: string[];
  mediaType?: string;
  profileName?: string;
}): Record<string, string> {
  const sid = twilioSid(options.media?.length ? 'MM' : 'SM');
  const params: Record<string, string> = {
    ToCountry: 'PL',
    SmsMessageSid: sid,
    NumMedia: String(options.media?.length ?? 0),
    SmsSid: sid,
    SmsStatus: 'received',
    Body: options.body,
    To: options.to,
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: options.accountSid,
    From: options.from,
    FromCountry: 'PL',
    ApiVersion: '2010-04-01',
  };
  if (options.profileName) {
    params.ProfileName = options.profileName;
    params.WaId = options.from.replace(/\D/g, '');
  }
  options.media?.forEach((url, index) => {
    params[`MediaUrl${index}`] = url;
    params[`MediaContentType${index}`] = options.mediaType ?? 'image/jpeg';
  });
  return params;
}

/**
 * Twilio's delivery status callback for one of our sends (a Messaging Service's "Delivery Status
 * Callback"), with the error code Twilio gives an undelivered or failed message.
 */
export function twilioStatusParams(options: {
  messageSid: string;
  status: string;
  from: string;
  to: string;
  accountSid: string;
  errorCode?: string;
}): Record<string, string> {
  return {
    SmsSid: options.messageSid,
    SmsStatus: options.status,
    MessageStatus: options.status,
    To: options.to,
    MessageSid: options.messageSid,
    AccountSid: options.accountSid,
    From: options.from,
    ApiVersion: '2010-04-01',
    ...(options.errorCode ? { ErrorCode: options.errorCode } : {}),
  };
}

/** An incoming call (the voice webhook), a finished recording and its transcription. */
export function twilioCallParams(options: { from: string; to: string; accountSid: string; callSid: string }) {
  const common = { AccountSid: options.accountSid, CallSid: options.callSid, ApiVersion: '2010-04-01' };
  const recordingSid = twilioSid('RE');
  const recordingUrl = `https://api.twilio.com/2010-04-01/Accounts/${options.accountSid}/Recordings/${recordingSid}`;
  return {
    call: {
      ...common,
      From: options.from,
      To: options.to,
      Caller: options.from,
      Called: options.to,
      CallStatus: 'ringing',
      Direction: 'inbound',
    },
    recording: {
      ...common,
      RecordingSid: recordingSid,
      RecordingUrl: recordingUrl,
      RecordingStatus: 'completed',
      RecordingDuration: '17',
      RecordingChannels: '1',
      RecordingSource: 'RecordVerb',
    },
    transcription: (text: string) => ({
      ...common,
      From: options.from,
      To: options.to,
      RecordingSid: recordingSid,
      RecordingUrl: recordingUrl,
      TranscriptionSid: twilioSid('TR'),
      TranscriptionStatus: 'completed',
      TranscriptionText: text,
      TranscriptionUrl: `https://api.twilio.com/2010-04-01/Accounts/${options.accountSid}/Transcriptions/${twilioSid('TR')}`,
    }),
  };
}

/** A Meta webhook (Messenger, Instagram or WhatsApp Cloud) signed with the app secret. */
export function metaWebhook(payload: unknown, appSecret: string): SignedWebhook {
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', appSecret).update(body, 'utf8').digest('hex');
  return {
    path: '/webhooks/meta',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` },
    body,
  };
}

/** A Messenger (`page`) or Instagram text message from one person to our page/account. */
export function metaMessagingPayload(
  object: 'page' | 'instagram',
  options: { from: string; to: string; text: string },
) {
  const now = Date.now();
  return {
    object,
    entry: [
      {
        id: options.to,
        time: now,
        messaging: [
          {
            sender: { id: options.from },
            recipient: { id: options.to },
            timestamp: now,
            message: { mid: `m_${hex(24)}`, text: options.text },
          },
        ],
      },
    ],
  };
}

/** A WhatsApp Cloud API text message from `from` (E.164) to our business number. */
export function whatsappCloudPayload(options: {
  from: string;
  to: string;
  text: string;
  name: string;
  phoneNumberId: string;
}) {
  const waId = options.from.replace(/\D/g, '');
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: options.to.replace(/\D/g, ''),
                phone_number_id: options.phoneNumberId,
              },
              contacts: [{ profile: { name: options.name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.${Buffer.from(hex(16)).toString('base64')}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: options.text },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

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
