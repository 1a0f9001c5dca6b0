import type { InboundMessage } from './message.ts';

/**
 * Which words are keywords depends on who reads them besides us. `sms` (SMS and MMS through
 * Twilio): Twilio's default English keywords for long codes and toll-free numbers, which Twilio
 * itself enforces (a number that texted any of them is refused, 21610) and answers, HELP
 * included, so we must read them exactly as Twilio does. `whatsapp` (through Twilio or the
 * Cloud API): nobody handles keywords there (Twilio's STOP filtering is SMS only; Meta leaves
 * opt-outs to the business), so we read only words that cannot be an ordinary answer: an
 * order's "Cancel", "End" or "Quit" is a question for a person, not an opt-out of every phone
 * channel, and HELP is a customer asking for help.
 */
export type KeywordVocabulary = 'sms' | 'whatsapp';

const SMS_OPT_OUT = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
const WHATSAPP_OPT_OUT = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'OPTOUT',
  // Polish, matched without diacritics as well ("wypisuje sie"): "unsubscribe", "unsubscribe
  // me", "I unsubscribe". Never "NIE", "ANULUJ" or "REZYGNUJĘ": answers about an order.
  'ODSUBSKRYBUJ',
  'WYPISZ-MNIE',
  'WYPISUJE-SIE',
];
const TWILIO_OPT_IN = ['START', 'UNSTOP', 'YES'];
// Polish, matched without diacritics as well ("wznow"): "subscribe me", "I subscribe",
// "subscribe" (the opposites of WYPISZ MNIE, WYPISUJĘ SIĘ, ODSUBSKRYBUJ) and "resume" (as
// UNSTOP). Never "TAK" ("yes"), "OK" or "ZGODA": answers to an agent's question. Keywords only
// from a number that opted out, on SMS as on WhatsApp: "Zapisz mnie" from anyone else is a message.
const POLISH_OPT_IN = ['ZAPISZ-MNIE', 'ZAPISUJE-SIE', 'SUBSKRYBUJ', 'WZNOW'];
const OPT_IN = [...TWILIO_OPT_IN, ...POLISH_OPT_IN];
const HELP = ['HELP', 'INFO'];

/**
 * `conditionalOptIn`: the opt-in words that are keywords only from a number that opted out; from
 * anyone else they are an ordinary message, acknowledged. On SMS only YES (START and UNSTOP are
 * Twilio's, which answers them itself; the Polish words and punctuated ones, "Start.", read as on
 * WhatsApp, are conditional too: keywordOf). On WhatsApp all of them (found at stop 25): nobody
 * answers them there, and "Start" is a common first message (a click-to-chat greeting), so a
 * customer who never opted out must not be left without an ack.
 */
const VOCABULARIES: Readonly<
  Record<
    KeywordVocabulary,
    {
      optOut: ReadonlySet<string>;
      optIn: ReadonlySet<string>;
      help: boolean;
      conditionalOptIn: ReadonlySet<string>;
    }
  >
> = {
  sms: {
    optOut: new Set(SMS_OPT_OUT),
    optIn: new Set(TWILIO_OPT_IN),
    help: true,
    conditionalOptIn: new Set(['YES']),
  },
  whatsapp: {
    optOut: new Set(WHATSAPP_OPT_OUT),
    optIn: new Set(OPT_IN),
    help: false,
    conditionalOptIn: new Set(OPT_IN),
  },
};
const ANY_OPT_OUT = new Set([...SMS_OPT_OUT, ...WHATSAPP_OPT_OUT]);
const OPT_IN_KEYWORDS = new Set(OPT_IN);
const HELP_KEYWORDS = new Set(HELP);

/** The prefix of the reason a keyword is recorded with: `keyword:stop`. */
const KEYWORD_REASON = 'keyword:';

/**
 * A keyword message: its word (upper case), the consent it expresses, if any, and whether it is
 * a keyword only from a number that opted out (`onlyIfOptedOut`: an opt-in word the channel's
 * vocabulary reads so).
 */
export type Keyword = { word: string; consent?: InboundMessage['consent']; onlyIfOptedOut?: true };

/**
 * The consent a keyword (upper case) expresses: STOP and its synonyms, START and its (Polish
 * included). Also
 * Twilio's `OptOutType`, which names the kind (STOP, START, HELP) whatever word was used.
 */
export function consentOf(word: string): InboundMessage['consent'] {
  if (ANY_OPT_OUT.has(word)) return 'opt-out';
  if (OPT_IN_KEYWORDS.has(word)) return 'opt-in';
  return undefined;
}

/** Any question mark: ASCII, full-width, small, Arabic, reversed, interrobang, Spanish opening. */
const QUESTION_MARK = /[?？﹖؟⸮‽¿]/u;

/**
 * A WhatsApp body as a keyword is compared: trimmed, punctuation around it dropped ("Stop.",
 * "STOP!!!": people type a keyword as they type a sentence, and nobody else reads it there; but
 * never a question mark, of any script: "Stop?", "Stop？" or "¿Stop" asks something, as "Dziękuję?" does),
 * upper case, its inner spaces one hyphen ("wypisz mnie" → WYPISZ-MNIE) and without diacritics
 * (Polish customers often type without them; ł has no decomposition of its own). An SMS body is
 * compared as Twilio compares it: trimmed, any case.
 */
function canonical(body: string, vocabulary: KeywordVocabulary): string {
  if (vocabulary === 'sms') return body.trim().toUpperCase();
  const bare = QUESTION_MARK.test(body) ? body.trim() : body.replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
  return withoutDiacritics(bare).toUpperCase().replace(/\s+/g, '-');
}

/**
 * Text without its diacritics, as Polish customers often type it ("dziekuje", "wypisz"): the
 * combining marks of its decomposed form dropped, and ł (which has no decomposition) as l.
 */
export function withoutDiacritics(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/ł/g, 'l').replace(/Ł/g, 'L');
}

/**
 * The keyword a message's whole body is, matched as Twilio matches it (trimmed, any case):
 * "stop please" is a message. Which words count depends on the channel (KeywordVocabulary); the
 * opt-out words no answer could be count on SMS as on WhatsApp, Polish and punctuation included.
 */
export function keywordOf(body: string, vocabulary: KeywordVocabulary): Keyword | undefined {
  const word = canonical(body, vocabulary);
  const { optOut, optIn, help, conditionalOptIn } = VOCABULARIES[vocabulary];
  if (optOut.has(word) || optIn.has(word) || (help && HELP_KEYWORDS.has(word))) {
    return conditionalOptIn.has(word)
      ? { word, consent: consentOf(word), onlyIfOptedOut: true }
      : { word, consent: consentOf(word) };
  }
  // On SMS too, the words that cannot be an ordinary answer, read as on WhatsApp ("Wypisz mnie",
  // "Stop."): Twilio does not stop those numbers, we do (no ack, no late notice). And the opt-in
  // words read there ("Zapisz mnie", "Start."), only from a number that opted out, as on WhatsApp:
  // Twilio neither reads nor answers them.
  if (vocabulary === 'sms') {
    const lenient = canonical(body, 'whatsapp');
    if (WHATSAPP_OPT_OUT.includes(lenient)) return { word: lenient, consent: 'opt-out' };
    if (OPT_IN.includes(lenient)) return { word: lenient, consent: 'opt-in', onlyIfOptedOut: true };
  }
  return undefined;
}

/**
 * Marks `message` as the keyword: recorded, never acknowledged (`keyword:<word>`), with the
 * consent it expresses; a conditional opt-in (YES and the Polish words; on WhatsApp START and
 * UNSTOP too) opts in only
 * a number that opted out (recordInbound decides).
 */
export function markKeyword(message: InboundMessage, keyword: Keyword): void {
  message.noAckReason = `${KEYWORD_REASON}${keyword.word.toLowerCase()}`;
  if (keyword.consent) message.consent = keyword.consent;
  if (keyword.onlyIfOptedOut) message.optInOnlyIfOptedOut = true;
}

/**
 * A conditional keyword (YES, the Polish opt-in words; on WhatsApp START and UNSTOP too) from a number that had not opted out is an ordinary message: its
 * keyword's marks go, and any other reason the channel gave not to answer it stays.
 */
export function withoutKeyword(message: InboundMessage): InboundMessage {
  const { optInOnlyIfOptedOut: _conditional, consent: _consent, noAckReason, ...plain } = message;
  return noAckReason && !noAckReason.startsWith(KEYWORD_REASON) ? { ...plain, noAckReason } : plain;
}
