import { withoutDiacritics } from './keywords.ts';
import { type InboundMessage, isWholeText, type Media } from './message.ts';
import { THANKS_PHRASES } from './thanks-phrases.ts';

/**
 * A customer message that only says thanks ("Dziękuję!", "dzięki wielkie", "Thank you so much!",
 * "Danke!", "Дякую!", "🙏"; the languages are in thanks-phrases.ts): recorded and shown, but
 * nobody is to answer it, as HELP or an out-of-office reply: no ack, no promise, no late notice
 * (`noAckReason: 'thanks'`), and the customer's next message that asks something is
 * acknowledged as usual. Matched on the whole text, as keywords are: "Dziękuję, ale
 * paczka nie doszła" is a question. A message with an attachment is never only thanks.
 */

type Vocabulary = { thanks: ReadonlySet<string>; before: readonly string[]; after: readonly string[] };

// Folded as a message is (fold, below), on the first message that may be thanks rather than at
// start-up (about 800 phrases, milliseconds a cold start of the API or a status callback would
// pay for nothing): then one Set lookup per message, whatever the languages. The words
// that may come before the thanks ("ok, dzięki", "great, thank you") or after it ("dziękuję,
// pozdrawiam", "thanks, regards") ask nothing; the longest closing is tried first, so "thanks,
// best regards" drops "best regards", not "regards" alone.
let vocabulary: Vocabulary | undefined;

function knownThanks(): Vocabulary {
  vocabulary ??= {
    // Each part folded once, then joined: the fold of "danke für die hilfe" is "danke" and
    // "fur die hilfe" folded and joined by a space, at a third of the first call's CPU.
    thanks: new Set(
      THANKS_PHRASES.flatMap(({ thanks, objects = [] }) => {
        const forWhat = objects.map(fold);
        return thanks.map(fold).flatMap((said) => [said, ...forWhat.map((object) => `${said} ${object}`)]);
      }),
    ),
    before: [...new Set(THANKS_PHRASES.flatMap(({ before = [] }) => before).map(fold))],
    after: [...new Set(THANKS_PHRASES.flatMap(({ after = [] }) => after).map(fold))].sort(
      (a, b) => b.length - a.length,
    ),
  };
  return vocabulary;
}

function withoutCourtesies(text: string, { before, after }: Vocabulary): string {
  const leading = (rest: string) => before.find((word) => rest.startsWith(`${word} `));
  const trailing = (rest: string) => after.find((words) => rest.endsWith(` ${words}`));
  let rest = text;
  for (let word = leading(rest); word; word = leading(rest)) rest = rest.slice(word.length + 1);
  for (let words = trailing(rest); words; words = trailing(rest)) rest = rest.slice(0, -(words.length + 1));
  return rest;
}

// Emoji a customer closes with; a message of these alone is thanks too. Never "❓" and the like.
const CLOSING_EMOJI =
  /^(?:\p{Emoji_Modifier}|\u{FE0F}|\u{200D}|[👍🙏🙂😊😀😃😄😁🤗❤♥💙💚💛🧡💜👌🌹💐]|\s)+$/u;

// Faces and signs that say the opposite of thanks, or say it through the teeth ("Dzięki 😡",
// "Thanks 🙄", "dzięki... 😤"): fold drops every emoji, so they are looked for before it, and a
// person reads such a message. The warm ones (🙏 😊 👍 ❤️ 😉 🥰 …) still close a conversation.
const SOUR_EMOJI = /[😡😠🤬😤🙄😒😑😐😕🙁☹😞😔😟😢😭😩😫😖😣😓😥😰🤨😏🙃🤦🤷👎💩🖕😾😿🤮🤢🥱😬💔🤡]/u;
// The same said with punctuation: ":(", ":-(", ":/", ":'(", ":|", and the Russian-style "((";
// also typed against the word or its stop ("Dzięki:(", "Thanks!:/"): a text that holds one
// is read by a person whatever comes before it.
const SOUR_EMOTICON = /[:;=]'?-?[(/\\|[]+(?=\s|$)|\({2,}\s*$/u;

/** Whether thanks come with a sour face, which takes the thanks back. */
function sour(text: string): boolean {
  return SOUR_EMOJI.test(text) || SOUR_EMOTICON.test(text);
}

function fold(text: string): string {
  return withoutDiacritics(text.toLocaleLowerCase('pl'))
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The text without the sender's own name at its end ("Dziękuję, Jan", "Thanks, John Smith"). */
function withoutSignature(folded: string, senderName: string | null | undefined): string {
  const name = fold(senderName ?? '');
  if (!name) return folded;
  for (const signed of [name, name.split(' ')[0] ?? '']) {
    if (signed && folded.endsWith(` ${signed}`)) return folded.slice(0, -(signed.length + 1));
  }
  return folded;
}

// What a phone or mail program adds as the last line ("Sent from my iPhone", "Wysłane z iPhone'a",
// "Get Outlook for Android"): a device or program named, short, asking nothing.
const SENT_FROM =
  /^(?:sent from my |sent from (?:outlook|mail|yahoo|gmail)|get outlook for |(?:wysłane|wysłano) z (?:mojego |mojej )?(?:iphone|ipad|smartfona|telefonu|urządzenia|galaxy|samsung|huawei|xiaomi|aplikacji|poczty|outlook))[^?]{0,50}$/iu;
// A signature below "-- " (RFC 3676) that is only a signature: a few lines, no question.
const MAX_SIGNATURE_LINES = 6;

/**
 * The text without what the mail program or phone signed it with: a mail's "-- " block (RFC 3676:
 * dash, dash, space, the line alone), "Sent from my iPhone". A text or chat message has no
 * signature block: what follows a bare "--" there is the customer's own ("Dziękuję\n--\nProszę o
 * zwrot pieniędzy"), as is what follows a mail's bare "--", which RFC 3676 does not delimit.
 */
function withoutMailSignature(text: string, mail: boolean): string {
  let lines = text.replace(/\r\n?/g, '\n').split('\n');
  const delimiter = mail ? lines.indexOf('-- ') : -1;
  if (delimiter > 0) {
    const block = lines.slice(delimiter + 1).filter((line) => line.trim() !== '');
    if (block.length <= MAX_SIGNATURE_LINES && !block.some((line) => line.includes('?')))
      lines = lines.slice(0, delimiter);
  }
  while (lines.length > 1 && (lines.at(-1)?.trim() ?? '') === '') lines = lines.slice(0, -1);
  if (lines.length > 1 && SENT_FROM.test(lines.at(-1)?.trim() ?? '')) lines = lines.slice(0, -1);
  return lines.join('\n');
}

/**
 * Whether a message's whole text only says thanks (or is only a closing emoji such as 👍 or 🙏),
 * perhaps signed with the sender's own name (`senderName`, as the provider gives it), as mail is,
 * or by their phone or mail program ("Sent from my iPhone", and in a mail (`mail`) a short "-- "
 * signature block). Never with a sour face ("Dzięki 😡", "Thanks 🙄", "Thanks :/").
 */
export function onlyThanks(
  text: string,
  mediaCount = 0,
  senderName?: string | null,
  { mail = false }: { mail?: boolean } = {},
): boolean {
  if (mediaCount > 0) return false;
  const trimmed = withoutMailSignature(text, mail).trim();
  if (trimmed === '' || trimmed.length > 80 || sour(trimmed)) return false;
  // A question mark asks something ("Dziękuję?" after an answer that did not answer); in Greek
  // it is ";" (U+037E, or the semicolon it folds to: "Ευχαριστώ;"), never a ";)" in Latin text.
  if (/[?？¿❓❔\u037E]/u.test(trimmed) || (/\p{Script=Greek}/u.test(trimmed) && trimmed.includes(';')))
    return false;
  if (CLOSING_EMOJI.test(trimmed)) return true;
  const known = knownThanks();
  return known.thanks.has(withoutCourtesies(withoutSignature(fold(trimmed), senderName), known));
}

/** The mark a channel puts before an edit's new text ("✏️ …", normalize-whatsapp). */
const EDIT_MARK = /^✏️\s*/u;

/** Whether an edit's new text (`noAckReason: 'edited'`, its mark dropped) only says thanks. */
export function editOnlyThanks(text: string, mediaCount = 0, senderName?: string | null): boolean {
  return onlyThanks(text.replace(EDIT_MARK, ''), mediaCount, senderName);
}

// A reply's subject prefixes, as mail clients write them in English and Polish, and in the
// languages whose thanks thanks-phrases.ts knows (Outlook's "AW:", "SV:", "R:", "RES:", "Ответ:"…).
const REPLY_PREFIX =
  /^(?:(?:re|odp|aw|sv|antw|res|rif|r|vs|vá|odg|отв|ответ|відп|απ)\s*(?:\[\d+\])?\s*:\s*)+/iu;

/**
 * Whether a mail's subject adds nothing to its thanks: none, a reply's ("Re: Pytanie o fakturę",
 * the customer thanking us on our thread), or thanks itself. A new mail whose subject says
 * something ("Gdzie jest moja paczka?", its text only "Dziękuję") asks it: a person reads it.
 */
function subjectAddsNothing(subject: string | undefined): boolean {
  const trimmed = subject?.trim() ?? '';
  return trimmed === '' || REPLY_PREFIX.test(trimmed) || onlyThanks(trimmed);
}

/**
 * The most an image inside a mail's text weighs when it is a signature's logo or icon (a few KB,
 * tens at most). iPhone Mail and Gmail put a photo or a pasted screenshot inside the text the same
 * way (inline, a Content-ID): hundreds of KB, the customer's to show, never a mere signature.
 */
const SIGNATURE_IMAGE_MAX_BYTES = 50 * 1024;

/** An image shown inside a mail's text small enough to be a signature's logo (its size known). */
function isSignatureImage(media: Media): boolean {
  return media.inline === true && media.size !== undefined && media.size <= SIGNATURE_IMAGE_MAX_BYTES;
}

/**
 * Marks a customer's message that only says thanks as nobody's to answer (`noAckReason:
 * 'thanks'`); any other message, one a channel already gave a reason, a keyword (STOP, START)
 * or a call, and a new mail whose subject asks something, are returned as they are.
 */
export function markThanks(message: InboundMessage): InboundMessage {
  if (message.kind !== 'message' || message.noAckReason !== undefined || message.consent !== undefined)
    return message;
  // A long mail's own whole text beside it, a small image inside its text (a signature's logo) or
  // Outlook's winmail.dat of formatting alone (sent with every mail some Outlooks write) is no
  // attachment of the customer's; a winmail.dat that carries their files is.
  const attached = message.media.filter(
    (media) =>
      !isWholeText(media) &&
      !isSignatureImage(media) &&
      (media.outlookBundle !== true || media.bundledFiles === true),
  ).length;
  const mail = message.channel === 'email';
  return onlyThanks(message.text, attached, message.contactName, { mail }) &&
    subjectAddsNothing(message.email?.subject)
    ? { ...message, noAckReason: 'thanks' }
    : message;
}
