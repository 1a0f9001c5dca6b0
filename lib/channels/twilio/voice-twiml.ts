import type { Locale } from '#lib/domain/channel.ts';
import { escapeXml, XML_DECLARATION } from './twiml.ts';

/** A `<Say>` language and voice; Twilio fails the verb on a combination it does not offer. */
export type TwilioSayVoice = { language: string; voice: string };

/**
 * Default voices per locale, exported so configuration can override them. Both are Amazon
 * Polly neural voices, which Twilio offers for `<Say>` (twilio-node's SayVoice list):
 * - pl: `Polly.Ola-Neural` (pl-PL), Polly's only neural Polish voice; the standard Polish
 *   voices (Polly.Ewa, Polly.Maja, Polly.Jacek, Polly.Jan) sound markedly more robotic, and
 *   Google's pl-PL voices (Standard, Wavenet, Chirp3-HD) are the alternative if wanted.
 * - en: `Polly.Amy-Neural` (en-GB), British English for a European business.
 * Neural voices may be priced above standard ones; `Polly.Ewa` is the plain fallback.
 */
export const TWILIO_SAY_VOICES: Readonly<Record<Locale, TwilioSayVoice>> = {
  pl: { language: 'pl-PL', voice: 'Polly.Ola-Neural' },
  en: { language: 'en-GB', voice: 'Polly.Amy-Neural' },
};

/** Said after `<Record>`: Twilio only gets there when the caller left no recording. */
export const NOTHING_RECORDED: Readonly<Record<Locale, string>> = {
  pl: 'Nie nagraliśmy żadnej wiadomości. Dziękujemy za telefon, do usłyszenia.',
  en: 'We did not record a message. Thank you for calling, goodbye.',
};

/** Default `<Record maxLength>`: Twilio transcribes recordings of up to two minutes only. */
export const DEFAULT_MAX_RECORDING_SECONDS = 120;

export type VoiceGreetingOptions = {
  locale: Locale;
  /** Already-composed sentences (the greeting, the spoken promise), said in order. */
  sentences: string[];
  /** Absolute URL of the recording status callback (the voicemail comes from there). */
  recordingStatusCallback: string;
  /** Absolute URL of the transcription callback; used only when transcribing. */
  transcribeCallback: string;
  /** Absolute URL Twilio calls when recording ends; must answer without a `<Record>`. */
  recordAction: string;
  /** 2 to 14400 seconds; above 120 Twilio does not transcribe. */
  maxLengthSeconds?: number;
  /**
   * Twilio's `<Record>` transcription is paid and American English only, so by default only
   * English calls ask for it: a Polish voicemail would come back as English-shaped noise.
   */
  transcribe?: boolean;
  /** Overrides TWILIO_SAY_VOICES[locale]. */
  voice?: TwilioSayVoice;
  /** Overrides NOTHING_RECORDED[locale]. */
  closingSentence?: string;
};

export type VoiceRecordedOptions = {
  locale: Locale;
  /** The thank-you said once the voicemail is recorded. */
  sentence: string;
  voice?: TwilioSayVoice;
};

function absoluteUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(`${name} must be an absolute URL`);
  }
  // A relative or odd URL would be resolved against the call's document URL: signatures
  // are checked against our configured public URL, and Twilio would call the wrong place.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`${name} must be http(s)`);
  return value;
}

function says(voice: TwilioSayVoice, sentences: readonly string[]): string {
  const open = `<Say language="${escapeXml(voice.language)}" voice="${escapeXml(voice.voice)}">`;
  return sentences
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '')
    .map((sentence) => `${open}${escapeXml(sentence)}</Say>`)
    .join('');
}

/**
 * The answer to an incoming call: the sentences, a beep and up to `maxLengthSeconds` of
 * voicemail (ended by silence, `#` or the limit), then a goodbye and `<Hangup/>` that Twilio
 * only reaches when nothing was recorded. `action` is always set: without it Twilio would
 * request this document again after recording and greet the caller in a loop.
 */
export function voiceGreetingTwiml(options: VoiceGreetingOptions): string {
  const voice = options.voice ?? TWILIO_SAY_VOICES[options.locale];
  const maxLength = options.maxLengthSeconds ?? DEFAULT_MAX_RECORDING_SECONDS;
  if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > 14_400) {
    throw new RangeError('maxLengthSeconds must be a whole number from 2 to 14400');
  }
  const transcribe = options.transcribe ?? options.locale === 'en';
  const attributes = [
    `maxLength="${maxLength}"`,
    'playBeep="true"',
    'timeout="5"',
    'finishOnKey="#"',
    `recordingStatusCallback="${escapeXml(absoluteUrl('recordingStatusCallback', options.recordingStatusCallback))}"`,
    'recordingStatusCallbackEvent="completed absent"',
    // Twilio charges for transcribe or transcribeCallback alone, so neither goes out unused.
    ...(transcribe
      ? [
          'transcribe="true"',
          `transcribeCallback="${escapeXml(absoluteUrl('transcribeCallback', options.transcribeCallback))}"`,
        ]
      : []),
    `action="${escapeXml(absoluteUrl('recordAction', options.recordAction))}"`,
  ];
  const closing = options.closingSentence ?? NOTHING_RECORDED[options.locale];
  return [
    XML_DECLARATION,
    '<Response>',
    says(voice, options.sentences),
    `<Record ${attributes.join(' ')}/>`,
    says(voice, [closing]),
    '<Hangup/>',
    '</Response>',
  ].join('');
}

/**
 * The answer to the `<Record>` action request: a short thank-you and `<Hangup/>`. It never
 * records again, so the caller cannot be sent round the greeting a second time.
 */
export function voiceRecordedTwiml(options: VoiceRecordedOptions): string {
  const voice = options.voice ?? TWILIO_SAY_VOICES[options.locale];
  return `${XML_DECLARATION}<Response>${says(voice, [options.sentence])}<Hangup/></Response>`;
}
