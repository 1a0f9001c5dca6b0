// npm run simulate's channels and the signed webhooks one simulated contact produces on each.
import type { loadDevSecrets } from './dev-secrets.ts';
import type { DevSnsIdentity } from './dev-sns.ts';
import { DEV_WHATSAPP_PHONE_NUMBER_ID } from './paths.ts';
import { mailgunWebhook, sesWebhook } from './simulate-email-payloads.ts';
import {
  metaMessagingPayload,
  metaWebhook,
  type SignedWebhook,
  twilioCallParams,
  twilioMessageParams,
  twilioSid,
  twilioWebhook,
  whatsappCloudPayload,
} from './simulate-payloads.ts';

export const CHANNELS = [
  'sms',
  'whatsapp',
  'voice',
  'voicemail',
  'messenger',
  'instagram',
  'wa-cloud',
  'email-mailgun',
  'email-ses',
] as const;
export type SimulatedChannel = (typeof CHANNELS)[number];

export type Options = {
  from: string | undefined;
  to: string | undefined;
  body: string | undefined;
  name: string;
  media: string[];
  mediaType: string;
};

type Secrets = Awaited<ReturnType<typeof loadDevSecrets>>['values'];
type Signing = { secrets: Secrets; sns: DevSnsIdentity | null };

const DEFAULT_CUSTOMER_MAIL = 'Ewa Kowalska <ewa.kowalska@example.net>';
const DEFAULT_OUR_MAIL = 'kontakt@example.com';
const DEFAULT_MAIL_TEXT = 'Dzień dobry,\n\nkiedy wyślecie moje zamówienie?\n\nEwa';

/** The customer's mail either provider brings in: the addresses given (or ours by default), the body given. */
function simulatedMail(o: Options, subject: string) {
  return {
    from: o.from?.includes('@') ? o.from : DEFAULT_CUSTOMER_MAIL,
    to: o.to?.includes('@') ? o.to : DEFAULT_OUR_MAIL,
    subject,
    text: o.body ?? DEFAULT_MAIL_TEXT,
  };
}

/** The signed webhooks one simulated contact produces, in order. */
export function webhooksFor(
  channel: SimulatedChannel,
  o: Options,
  { secrets, sns }: Signing,
  publicUrl: string,
): SignedWebhook[] {
  const twilio = { authToken: secrets.TWILIO_AUTH_TOKEN, publicUrl, sharedKey: sharedKeyOf(process.env) };
  const accountSid = secrets.TWILIO_ACCOUNT_SID;
  const phone = o.from ?? '+48601234567';
  const ours = o.to ?? '+48221234567';
  switch (channel) {
    case 'sms':
      return [
        twilioWebhook(
          '/webhooks/twilio/messaging',
          twilioMessageParams({
            from: phone,
            to: ours,
            body: o.body ?? 'Dzień dobry, mam pytanie o zamówienie.',
            accountSid,
            media: o.media,
            mediaType: o.mediaType,
          }),
          twilio,
        ),
      ];
    case 'whatsapp':
      return [
        twilioWebhook(
          '/webhooks/twilio/messaging',
          twilioMessageParams({
            from: `whatsapp:${phone}`,
            to: `whatsapp:${ours}`,
            body: o.body ?? 'Dzień dobry!',
            accountSid,
            profileName: o.name,
          }),
          twilio,
        ),
      ];
    case 'voice':
    case 'voicemail': {
      const call = twilioCallParams({ from: phone, to: ours, accountSid, callSid: twilioSid('CA') });
      const hooks = [twilioWebhook('/webhooks/twilio/voice', call.call, twilio)];
      if (channel === 'voicemail') {
        hooks.push(twilioWebhook('/webhooks/twilio/voice/recording', call.recording, twilio));
        hooks.push(
          twilioWebhook(
            '/webhooks/twilio/voice/transcription',
            call.transcription(o.body ?? 'Proszę o telefon w sprawie zamówienia.'),
            twilio,
          ),
        );
      }
      return hooks;
    }
    case 'messenger':
    case 'instagram':
      return [
        metaWebhook(
          metaMessagingPayload(channel === 'messenger' ? 'page' : 'instagram', {
            from: o.from ?? '7214568801234567',
            to: o.to ?? '104857600123456',
            text: o.body ?? 'Dzień dobry, czy paczka już wyszła?',
          }),
          secrets.META_APP_SECRET,
        ),
      ];
    case 'wa-cloud':
      return [
        metaWebhook(
          whatsappCloudPayload({
            from: phone,
            to: ours,
            text: o.body ?? 'Dzień dobry!',
            name: o.name,
            phoneNumberId: process.env.WHATSAPP_PHONE_NUMBER_ID?.trim() || DEV_WHATSAPP_PHONE_NUMBER_ID,
          }),
          secrets.META_APP_SECRET,
        ),
      ];
    case 'email-mailgun':
      return [mailgunWebhook(simulatedMail(o, 'Pytanie o zamówienie 4471'), secrets.MAILGUN_SIGNING_KEY)];
    case 'email-ses':
      if (!sns) throw new Error('email-ses needs the dev SNS identity');
      return [sesWebhook(simulatedMail(o, 'Pytanie o zamówienie 4471 – kiedy będzie wysyłka?'), sns)];
  }
}

/** The shared key npm start checks Twilio's Settings header with (from the environment, as it reads it). */
export function sharedKeyOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.TWILIO_WEBHOOK_SHARED_KEY?.trim() || undefined;
}
