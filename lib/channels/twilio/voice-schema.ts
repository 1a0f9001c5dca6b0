import { z } from 'zod';
import { parseTwilioPayload, type TwilioFormParams, twilioSid } from './schema.ts';

// Schemas of Twilio's voice webhooks. Like every Twilio webhook they gain params without
// notice, so each is a loose object: only what we use is validated, the rest passes through
// (and is still covered by the signature, which is checked over every param received).

// Lower-case words with dashes (call directions, statuses): safe to put in a log reason.
const word = z.string().regex(/^[a-z][a-z-]{0,39}$/);
const seconds = z.string().regex(/^\d{1,6}$/);
const address = z.string().max(320);

/**
 * The incoming-call webhook (the number's Voice URL). `From` is what the network gave:
 * an E.164 number, a withheld-number placeholder, or nothing at all.
 */
export const TwilioVoiceSchema = z.looseObject({
  CallSid: twilioSid('CA'),
  AccountSid: twilioSid('AC'),
  From: address.default(''),
  To: address.default(''),
  Direction: word,
  CallStatus: word.optional(),
  Caller: address.optional(),
  CallerName: z.string().max(320).optional(),
  ForwardedFrom: address.optional(),
});
export type TwilioVoicePayload = z.output<typeof TwilioVoiceSchema>;

/**
 * The `<Record>` recordingStatusCallback. It carries no `From` or `To`, only the CallSid the
 * recording belongs to; RecordingDuration only comes with `completed`.
 */
export const TwilioRecordingSchema = z
  .looseObject({
    RecordingSid: twilioSid('RE'),
    CallSid: twilioSid('CA'),
    AccountSid: twilioSid('AC'),
    RecordingStatus: word,
    RecordingUrl: z.string().max(2048).optional(),
    RecordingDuration: seconds.optional(),
    ErrorCode: z
      .string()
      .regex(/^\d{0,10}$/)
      .optional(),
    RecordingSource: z.string().max(64).optional(),
  })
  .superRefine((form, ctx) => {
    if (form.RecordingStatus !== 'completed') return;
    // A completed recording without its file or length is not something we can store.
    if (!form.RecordingUrl || !/^https:\/\/[^\s]+$/.test(form.RecordingUrl)) {
      ctx.addIssue({ code: 'custom', path: ['RecordingUrl'], message: 'an https URL is required' });
    }
    if (form.RecordingDuration === undefined) {
      ctx.addIssue({ code: 'custom', path: ['RecordingDuration'], message: 'required when completed' });
    }
  });
export type TwilioRecordingPayload = z.output<typeof TwilioRecordingSchema>;

/**
 * The `<Record>` transcribeCallback: the standard voice params (From, To, CallSid…) plus
 * the transcription's. Sent for completed recordings only, never for absent ones.
 */
export const TwilioTranscriptionSchema = z.looseObject({
  TranscriptionSid: twilioSid('TR'),
  TranscriptionStatus: word,
  TranscriptionText: z.string().default(''),
  RecordingSid: twilioSid('RE'),
  CallSid: twilioSid('CA').optional(),
  AccountSid: twilioSid('AC'),
});
export type TwilioTranscriptionPayload = z.output<typeof TwilioTranscriptionSchema>;

/**
 * The `<Record>` action request: the standard voice params plus RecordingUrl,
 * RecordingDuration and Digits (the key that ended it, or `hangup`). The recording may not
 * be downloadable yet, which is why the voicemail comes from the recording status callback.
 */
export const TwilioRecordActionSchema = z.looseObject({
  CallSid: twilioSid('CA'),
  AccountSid: twilioSid('AC'),
  RecordingUrl: z.string().max(2048).optional(),
  RecordingDuration: seconds.optional(),
  Digits: z.string().max(32).optional(),
});
export type TwilioRecordActionPayload = z.output<typeof TwilioRecordActionSchema>;

/** Validates a raw incoming-call body; MalformedPayloadError names params, never values. */
export function parseTwilioVoice(body: string | TwilioFormParams): TwilioVoicePayload {
  return parseTwilioPayload(TwilioVoiceSchema, 'voice', body);
}

/** Validates a raw recording status callback body. */
export function parseTwilioRecording(body: string | TwilioFormParams): TwilioRecordingPayload {
  return parseTwilioPayload(TwilioRecordingSchema, 'recording status', body);
}

/** Validates a raw transcription callback body. */
export function parseTwilioTranscription(body: string | TwilioFormParams): TwilioTranscriptionPayload {
  return parseTwilioPayload(TwilioTranscriptionSchema, 'transcription', body);
}

/** Validates a raw `<Record>` action request body. */
export function parseTwilioRecordAction(body: string | TwilioFormParams): TwilioRecordActionPayload {
  return parseTwilioPayload(TwilioRecordActionSchema, 'record action', body);
}
