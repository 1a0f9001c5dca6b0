import { isWithheldCallerId, phoneContactKey, WITHHELD_CALLER } from '#lib/domain/contact.ts';
import type { InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import type {
  TwilioRecordActionPayload,
  TwilioRecordingPayload,
  TwilioTranscriptionPayload,
  TwilioVoicePayload,
} from './voice-schema.ts';

/**
 * Who is calling, from a call's `From`: an E.164 number (or a carrier's placeholder for a
 * withheld one: isWithheldCallerId), a SIP URI (`sip:user@host`: the From header of the
 * INVITE, for calls through a SIP domain or trunk) or a Twilio Client identity (`client:name`).
 * - Withheld: a placeholder word or number, bare, as a Client identity or as a SIP URI's user
 *   part (RFC 3323's `sip:anonymous@anonymous.invalid`, `sip:restricted@<trunk>`), a SIP URI
 *   at the host `anonymous.invalid`, or one without a user part (it names only the trunk,
 *   which every caller through it shares).
 * - A SIP user part that is an E.164 number (`sip:+48601234567@trunk`) is that phone's
 *   contact, the one its SMS and WhatsApp have, and that number (RFC 3966's visual separators
 *   dropped) is the caller's `number`: what a reply texts. Any other user part is a contact of its own,
 *   `sip:<user>@<host>` (the user part as given, the host lower-cased: RFC 3261's comparison,
 *   without port and parameters, which change from call to call).
 * - A Client identity is `client:<identity>`: an app's user, never a phone number.
 */
function callerOf(
  from: string,
): { withheld: true } | { withheld: false; contactKey: string; number?: string } {
  const trimmed = from.trim();
  const sip = /^sips?:(.*)$/i.exec(trimmed);
  if (sip) return sipCallerOf(sip[1] as string);
  const client = /^client:(.*)$/i.exec(trimmed);
  if (client) {
    const identity = (client[1] as string).trim();
    return isWithheldCallerId(identity)
      ? { withheld: true }
      : { withheld: false, contactKey: `client:${identity}` };
  }
  return isWithheldCallerId(trimmed)
    ? { withheld: true }
    : { withheld: false, contactKey: phoneContactKey(trimmed) };
}

function sipCallerOf(uri: string): ReturnType<typeof callerOf> {
  const at = uri.lastIndexOf('@');
  if (at < 0) return { withheld: true };
  // userinfo = user [";" telephone-subscriber params] [":" password] (RFC 3261 §25.1)
  const user = decoded(uri.slice(0, at).split(':')[0]?.split(';')[0] ?? '').trim();
  const host = (uri.slice(at + 1).split(/[;?]/)[0] ?? '').replace(/:\d*$/, '').toLowerCase();
  if (isWithheldCallerId(user) || host === 'anonymous.invalid' || host === '') return { withheld: true };
  if (/^\+[\d\-.()]+$/.test(user)) {
    const contactKey = phoneContactKey(user.replace(/[-.()]/g, ''));
    return { withheld: false, contactKey, number: contactKey.slice('phone:'.length) };
  }
  return { withheld: false, contactKey: `sip:${user}@${host}` };
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Whether a call's `From` hides the caller's number. */
export function isWithheldCaller(from: string): boolean {
  return callerOf(from).withheld;
}

/**
 * Contact key of a voicemail until the core resolves it through `callId`: the recording
 * status callback names only the call, never the caller. Never a real contact's key.
 */
export function callContactKey(callSid: string): string {
  return `call:${callSid}`;
}

/**
 * An incoming call becomes one `call` message on the voice channel, keyed by the caller's
 * number like SMS and WhatsApp (a SIP or Client caller: see callerOf). Its `from` is what
 * answers go to: a SIP caller's E.164 user part is recorded bare (texts go to the phone, never
 * to the trunk's URI); a withheld caller as `anonymous`, never the placeholder (a keypad form
 * such as +86282452253 is a stranger's number: a reply would text it); any other caller's
 * `From` as given. A withheld number gets a key of its own per call (`anonymous:<CallSid>`), so
 * strangers are never merged into one conversation, and is never acknowledged but by the
 * greeting (there is no number to answer). Calls we placed are ignored.
 */
export function normalizeTwilioCall(payload: TwilioVoicePayload): InboundEvent[] {
  if (payload.Direction !== 'inbound') return [{ type: 'ignored', reason: `call:${payload.Direction}` }];
  const caller = callerOf(payload.From);
  const message: InboundMessage = {
    provider: 'twilio',
    providerMessageId: payload.CallSid,
    channel: 'voice',
    kind: 'call',
    contactKey: caller.withheld ? `anonymous:${payload.CallSid}` : caller.contactKey,
    from: caller.withheld ? WITHHELD_CALLER : caller.number || payload.From,
    to: payload.To,
    // The UI renders the kind; a made-up sentence would only need translating.
    text: '',
    media: [],
  };
  if (caller.withheld) message.noAckReason = 'anonymous-caller';
  // Our own number calling itself (a test, a forwarding loop): never answered.
  else if (message.from.trim() === payload.To.trim()) message.noAckReason = 'own-number';
  return [{ type: 'message', message }];
}

function mp3Of(recordingUrl: string): string {
  // Twilio serves WAV by default and MP3 when ".mp3" is appended; MP3 is a tenth the size.
  return `${recordingUrl.replace(/\.(mp3|wav)$/i, '')}.mp3`;
}

/**
 * A completed recording becomes one `voicemail` message: the MP3 as its media, its length,
 * and `callId` = the CallSid. The callback carries neither `From` nor `To`, so `from` and
 * `to` are empty and `contactKey` is the placeholder `call:<CallSid>`: the core must take the
 * contact (and the caller's number) from the stored call message with that provider id.
 * Absent, failed and in-progress recordings are ignored.
 */
export function normalizeTwilioRecording(payload: TwilioRecordingPayload): InboundEvent[] {
  if (payload.RecordingStatus !== 'completed') {
    const code = payload.ErrorCode && !/^0+$/.test(payload.ErrorCode) ? `:${payload.ErrorCode}` : '';
    return [{ type: 'ignored', reason: `recording:${payload.RecordingStatus}${code}` }];
  }
  const message: InboundMessage = {
    provider: 'twilio',
    providerMessageId: payload.RecordingSid,
    channel: 'voice',
    kind: 'voicemail',
    contactKey: callContactKey(payload.CallSid),
    from: '',
    to: '',
    text: '',
    // The schema guarantees both for a completed recording.
    media: [{ url: mp3Of(payload.RecordingUrl ?? ''), contentType: 'audio/mpeg' }],
    durationSeconds: Number(payload.RecordingDuration ?? 0),
    callId: payload.CallSid,
  };
  return [{ type: 'message', message }];
}

/**
 * A completed transcription completes the voicemail it came from (keyed by RecordingSid,
 * in either order). Failed or empty transcriptions are ignored.
 */
export function normalizeTwilioTranscription(payload: TwilioTranscriptionPayload): InboundEvent[] {
  if (payload.TranscriptionStatus !== 'completed') {
    return [{ type: 'ignored', reason: `transcription:${payload.TranscriptionStatus}` }];
  }
  const text = payload.TranscriptionText.trim();
  if (!text) return [{ type: 'ignored', reason: 'transcription:empty' }];
  return [
    {
      type: 'transcription',
      transcription: { provider: 'twilio', providerMessageId: payload.RecordingSid, text },
    },
  ];
}

/**
 * The `<Record>` action request says only that recording ended; the voicemail itself comes
 * with the recording status callback once the file can be fetched.
 */
export function normalizeTwilioRecordAction(_payload: TwilioRecordActionPayload): InboundEvent[] {
  return [{ type: 'ignored', reason: 'record-action' }];
}
