import type { InboundMessage } from './message.ts';

// Twilio's default English keywords (long codes, toll-free), the words customers text to any
// business; the same words stop a phone contact on every channel that carries text to it.
const OPT_OUT_KEYWORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP', 'YES']);
/** YES opts back in, but only one that had opted out says it as a keyword. */
const CONDITIONAL_OPT_IN = 'YES';
const HELP_KEYWORDS = new Set(['HELP', 'INFO']);

/** The prefix of the reason a keyword is recorded with: `keyword:stop`. */
const KEYWORD_REASON = 'keyword:';

/** A keyword message: its word (upper case), and the consent it expresses, if any. */
export type Keyword = { word: string; consent?: InboundMessage['consent'] };

/** The consent a keyword (upper case) expresses: STOP and its synonyms, START and its. */
export function consentOf(word: string): InboundMessage['consent'] {
  if (OPT_OUT_KEYWORDS.has(word)) return 'opt-out';
  if (OPT_IN_KEYWORDS.has(word)) return 'opt-in';
  return undefined;
}

/**
 * The keyword a message's whole body is, matched as Twilio matches it (trimmed, any case):
 * "stop please" is a message. HELP / INFO count only where the provider answers them itself
 * (`help`: Twilio); elsewhere they are a customer asking for help, answered as such.
 */
export function keywordOf(body: string, options: { help: boolean }): Keyword | undefined {
  const word = body.trim().toUpperCase();
  if (OPT_OUT_KEYWORDS.has(word) || OPT_IN_KEYWORDS.has(word) || (options.help && HELP_KEYWORDS.has(word))) {
    return { word, consent: consentOf(word) };
  }
  return undefined;
}

/**
 * Marks `message` as the keyword: recorded, never acknowledged (`keyword:<word>`), with the
 * consent it expresses; YES opts in only a number that opted out (recordInbound decides).
 */
export function markKeyword(message: InboundMessage, keyword: Keyword): void {
  message.noAckReason = `${KEYWORD_REASON}${keyword.word.toLowerCase()}`;
  if (keyword.consent) message.consent = keyword.consent;
  if (keyword.word === CONDITIONAL_OPT_IN) message.optInOnlyIfOptedOut = true;
}

/**
 * A conditional keyword (YES) from a number that had not opted out is an ordinary message: its
 * keyword's marks go, and any other reason the channel gave not to answer it stays.
 */
export function withoutKeyword(message: InboundMessage): InboundMessage {
  const { optInOnlyIfOptedOut: _conditional, consent: _consent, noAckReason, ...plain } = message;
  return noAckReason && !noAckReason.startsWith(KEYWORD_REASON) ? { ...plain, noAckReason } : plain;
}
