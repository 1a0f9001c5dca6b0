import type { ProviderWebhook, WebhookRequest } from '#lib/channels/channel.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { normalizeTwilioMessage } from './normalize.ts';
import { parseTwilioMessaging, type TwilioMessagingPayload, twilioFormOf } from './schema.ts';
import { createTwilioSender } from './send.ts';
import { normalizeTwilioStatus, parseTwilioStatus, type TwilioStatusPayload } from './status.ts';
import { ourIdOf } from './status-url.ts';
import { verifyTwilioSignature } from './verify.ts';
import {
  normalizeTwilioCall,
  normalizeTwilioRecordAction,
  normalizeTwilioRecording,
  normalizeTwilioTranscription,
} from './voice-normalize.ts';
import {
  parseTwilioRecordAction,
  parseTwilioRecording,
  parseTwilioTranscription,
  parseTwilioVoice,
  type TwilioRecordActionPayload,
  type TwilioRecordingPayload,
  type TwilioTranscriptionPayload,
  type TwilioVoicePayload,
} from './voice-schema.ts';

export type { TwilioMessagingPayload } from './schema.ts';
export type { TwilioStatusPayload } from './status.ts';
export { emptyTwiml, escapeXml, TWIML_CONTENT_TYPE } from './twiml.ts';
export { SIGNATURE_SETTINGS_HEADER, signatureRefusalDetails } from './verify.ts';
export { callContactKey, isWithheldCaller } from './voice-normalize.ts';
export type {
  TwilioRecordActionPayload,
  TwilioRecordingPayload,
  TwilioTranscriptionPayload,
  TwilioVoicePayload,
} from './voice-schema.ts';
export {
  DEFAULT_MAX_RECORDING_SECONDS,
  NOTHING_RECORDED,
  TWILIO_SAY_VOICES,
  type TwilioSayVoice,
  type VoiceGreetingOptions,
  type VoiceRecordedOptions,
  voiceGreetingTwiml,
  voiceRecordedTwiml,
} from './voice-twiml.ts';

export type TwilioChannelOptions = {
  /** null: the webhooks only (verified with the auth token); nothing can be sent (sender null). */
  accountSid: string | null;
  /**
   * null: only the webhooks a Webhook Rule signs with one of `webhookSharedKeys` can be verified
   * (the routes refuse the others: verifiesTokenSignatures); nothing can be sent (sender null).
   */
  authToken: string | null;
  /**
   * The secondary auth token while the primary is rotated: webhooks signed with either are
   * accepted. API requests use the primary only (docs/deploy.md, "Rotating the Twilio auth token").
   */
  secondaryAuthToken?: string | undefined;
  /**
   * The secrets of the SharedKeys a Webhook Setting signs with (the old and the new while a Rule
   * splits traffic between two Settings): webhooks carrying Twilio's Settings header are checked
   * with these, never the auth token. Empty: such webhooks are refused (docs/deploy.md).
   */
  webhookSharedKeys?: readonly string[];
  apiBaseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Stamps delivery updates with when we heard of them. */
  clock?: Clock;
  /** Our status callback URL, sent with every outbound message. */
  statusCallbackUrl?: string;
};

export type TwilioChannel = {
  provider: 'twilio';
  /** Inbound SMS, MMS and WhatsApp. */
  messaging: ProviderWebhook<TwilioMessagingPayload>;
  /** Delivery status callbacks of the messages we sent. */
  status: ProviderWebhook<TwilioStatusPayload>;
  /** The incoming-call webhook (the number's Voice URL); answer it with voiceGreetingTwiml. */
  voice: ProviderWebhook<TwilioVoicePayload>;
  /** The `<Record>` recordingStatusCallback: the voicemail itself. */
  recording: ProviderWebhook<TwilioRecordingPayload>;
  /** The `<Record>` transcribeCallback: text for a voicemail already (or soon) stored. */
  transcription: ProviderWebhook<TwilioTranscriptionPayload>;
  /** The `<Record>` action request; answer it with voiceRecordedTwiml. Emits nothing to store. */
  recordAction: ProviderWebhook<TwilioRecordActionPayload>;
  /** The Messages API sender; null without an account SID or an auth token. */
  sender: ChannelSender | null;
  /**
   * Whether a webhook signed with the auth token (one without Twilio's Settings header) can be
   * verified: false without the token, when only the shared keys' webhooks can.
   */
  verifiesTokenSignatures: boolean;
};

/**
 * Twilio's webhooks (messaging, delivery status, voice and its recording callbacks), all
 * verified with the same X-Twilio-Signature check, and its Messages API sender.
 */
export function createTwilioChannel(options: TwilioChannelOptions): TwilioChannel {
  const { accountSid, authToken, apiBaseUrl, fetch, clock = systemClock } = options;
  const sharedKeys = options.webhookSharedKeys ?? [];
  // Fail at start-up, not on the first webhook.
  if (authToken === '' || (authToken === null && sharedKeys.length === 0) || accountSid === '') {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'Twilio authToken (or a webhook shared key, for the webhooks only; and accountSid, to send) is required',
    );
  }
  const tokens = authToken
    ? options.secondaryAuthToken
      ? [authToken, options.secondaryAuthToken]
      : [authToken]
    : [];
  const verify = (request: WebhookRequest) => verifyTwilioSignature(request, tokens, sharedKeys);
  return {
    provider: 'twilio',
    messaging: {
      verify,
      parse: (request) => parseTwilioMessaging(twilioFormOf(request)),
      normalize: normalizeTwilioMessage,
    },
    status: {
      verify,
      parse: (request) => parseTwilioStatus(twilioFormOf(request), ourIdOf(request.url)),
      normalize: (payload) => normalizeTwilioStatus(payload, clock.now()),
    },
    voice: {
      verify,
      parse: (request) => parseTwilioVoice(twilioFormOf(request)),
      normalize: normalizeTwilioCall,
    },
    recording: {
      verify,
      parse: (request) => parseTwilioRecording(twilioFormOf(request)),
      normalize: normalizeTwilioRecording,
    },
    transcription: {
      verify,
      parse: (request) => parseTwilioTranscription(twilioFormOf(request)),
      normalize: normalizeTwilioTranscription,
    },
    recordAction: {
      verify,
      parse: (request) => parseTwilioRecordAction(twilioFormOf(request)),
      normalize: normalizeTwilioRecordAction,
    },
    verifiesTokenSignatures: tokens.length > 0,
    sender:
      accountSid && authToken
        ? createTwilioSender({
            accountSid,
            authToken,
            apiBaseUrl,
            fetch,
            ...(options.statusCallbackUrl ? { statusCallbackUrl: options.statusCallbackUrl } : {}),
          })
        : null,
  };
}
