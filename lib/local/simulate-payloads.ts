// npm run simulate's signed webhooks from Twilio and Meta (email's: simulate-email-payloads.ts).
import { createHmac, randomBytes } from 'node:crypto';
// Only the signature helpers: the whole twilio package costs ~175 ms to import.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { twilioSignature } from '#lib/channels/twilio/signed-url.ts';
import { SIGNATURE_SETTINGS_HEADER } from '#lib/channels/twilio/verify.ts';

/** One signed webhook, ready to POST to the running Switchboard. */
export type SignedWebhook = { path: string; headers: Record<string, string>; body: string };

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
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
