import EmailReplyParser from 'email-reply-parser';

// The reply parser's quote-header patterns scan lazily to the end of the text for every
// candidate line, so a huge text costs quadratic time. The new part of a reply sits at the
// top, so only the head is looked at.
const REPLY_SCAN_CHARS = 32_000;

// Quote headers of Polish mail clients the parser misses: the feminine "napisała:",
// Thunderbird's "pisze:", Apple Mail's "Wiadomość napisana przez", Outlook's separator, Yahoo
// Mail's "W poniedziałek, 23 listopada 2026 10:00:00 CET, Jan <jan@…> napisał(-a):" and its
// English "On Monday, November 23, 2026, 10:00:00 AM GMT+1, Jan <jan@…> wrote:". One line at a
// time, with bounded repetitions, so the scan stays linear. Yahoo's Polish header is known by the
// year and the hour it names after the day: a customer's own "W piątek, kiedy dzwoniłam,
// konsultantka napisała:" quotes what they were told, and their request follows it.
const WROTE_PL = String.raw`(napisał|napisała|napisał\(-?a\)|pisze)\s*:\s*$`;
const DAY_PL = '(poniedziałek|wtorek|środę|czwartek|piątek|sobotę|niedzielę)';
const YEAR_AND_HOUR = String.raw`(?=.{0,100}\b\d{4}\b)(?=.{0,150}\b\d{1,2}:\d{2}\b)`;
const DAY_EN = '(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
// "W dniu …"/"Dnia …" also opens a customer's own "W dniu 12 stycznia konsultant napisał:", their
// request below it: taken for a header only when it names the hour or an address, or "> " lines
// follow it (headerSigned), as the English one is.
const DATE_HEADER_PL = new RegExp(String.raw`^\s*(W dniu|Dnia)\s.{0,300}\s${WROTE_PL}`, 'i');
const QUOTE_HEADERS = [
  new RegExp(String.raw`^\s*(W|We)\s${DAY_PL},\s${YEAR_AND_HOUR}.{0,300}\s${WROTE_PL}`, 'i'),
  new RegExp(String.raw`^\s*On\s${DAY_EN},\s${YEAR_AND_HOUR}.{0,300}\swrote\s*:\s*$`, 'i'),
  /^\s*Wiadomość napisana przez\s.{0,300}:\s*$/i,
  /^\s*-{2,}\s*(Wiadomość oryginalna|Oryginalna wiadomość)\s*-{2,}\s*$/i,
];
// Outlook's header block: "Od:"/"From:" followed within a few lines by "Wysłano:"/"Sent:".
const OUTLOOK_FROM = /^\s*\*?(Od|From)\*?\s?:\s/i;
// Desktop Outlook writes "Wysłano:", Outlook on the web, the new Outlook and its phone apps "Wysłane:".
const OUTLOOK_SENT = /^\s*\*?(Wysłano|Wysłane|Data|Sent|Date)\*?\s?:\s/i;

/** The index of the first line that opens a quoted mail, by our own patterns; -1 if none. */
function quoteHeaderLine(lines: readonly string[]): number {
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    // Clients wrap a long "W dniu …" header over two lines.
    const joined = `${line} ${lines[index + 1] ?? ''}`;
    if (QUOTE_HEADERS.some((pattern) => pattern.test(line) || pattern.test(joined))) return index;
    if (DATE_HEADER_PL.test(line) && headerSigned(lines, index, line)) return index;
    if (DATE_HEADER_PL.test(joined) && headerSigned(lines, index + 1, joined)) return index;
    if (
      OUTLOOK_FROM.test(line) &&
      lines.slice(index + 1, index + 5).some((next) => OUTLOOK_SENT.test(next))
    ) {
      return index;
    }
  }
  return -1;
}

// The rule a mail client draws above the quoted mail: Outlook's "____…" line, an HTML <hr> as
// text ("-------------").
const RULE = /^\s*[-_=]{3,}\s*$/;

/** The lines above a quote header without the rule (and blank lines) that only separate it. */
function withoutRule(lines: readonly string[]): readonly string[] {
  let end = lines.length;
  while (end > 0 && ((lines[end - 1] ?? '').trim() === '' || RULE.test(lines[end - 1] ?? ''))) end--;
  return lines.slice(0, end);
}

// The reply parser takes any line "On … wrote:" (or "… on … at … wrote:") above a blank line for a
// quote header and hides everything below it, and so any "W dniu …"/"Dnia …" down to a line
// ending in "pisze:" or "napisał(a):". A client's header names when (the hour) or who (the
// address) wrote, or is followed by "> " lines; a customer's own "On Monday, 12 Jan 2026, your
// colleague wrote:" or "W dniu 12 stycznia konsultant napisał:" names neither, and their request
// follows it. Such a line is shown to the parser with a word joiner (U+2060) after the verb,
// which none of its patterns takes, and the joiner is taken out of what it returns.
const WROTE = /\bwrote(?=\s*:?[\s-]*$)|(?<!\p{L})(?:pisze|napisał(?:\(a\))?)(?=\s*:\s*$)/iu;
const OPENS_HEADER = /^\s*(On|W dniu|Dnia)\s/i;
const OPENS_PL = /^\s*(W dniu|Dnia)(?=\s)/i;
const HEADER_SIGNS = /\b\d{1,2}:\d{2}\b|[@<]/;
const JOINED = /(?<=wrote|pisze|napisał|\(a\)|^\s*W dniu|^\s*Dnia)\u2060/gimu;

/** Whether a would-be header ending at `last` names an hour or an address, or "> " lines follow it. */
function headerSigned(lines: readonly string[], last: number, header: string): boolean {
  if (HEADER_SIGNS.test(header)) return true;
  let after = last + 1;
  while (after < lines.length && (lines[after] ?? '').trim() === '') after++;
  return (lines[after] ?? '').trimStart().startsWith('>');
}

function ownWroteLines(lines: readonly string[]): string[] {
  return lines.map((line, index) => {
    if (!WROTE.test(line)) return line;
    const header = OPENS_HEADER.test(line) ? line : `${lines[index - 1] ?? ''} ${line}`;
    if (headerSigned(lines, index, header)) return line;
    // "W dniu"/"Dnia" joined too: the parser's lazy scan for a verb then never starts there.
    return line.replace(WROTE, (word) => `${word}\u2060`).replace(OPENS_PL, (word) => `${word}\u2060`);
  });
}

/**
 * Separates what the sender wrote from the quoted history ("On … wrote:", "W dniu …
 * napisał(a):", "> " lines, Outlook's "Od:/From:" block) and the signature below it. When
 * nothing quoted is found the whole text is the new part.
 */
export function splitReply(text: string): { newText: string; quoted: boolean } {
  const normalized = text.replace(/\r\n?/g, '\n');
  const lines = normalized.slice(0, REPLY_SCAN_CHARS).split('\n');
  const cut = quoteHeaderLine(lines);
  const head = cut === -1 ? lines.join('\n') : withoutRule(lines.slice(0, cut)).join('\n');
  const email = new EmailReplyParser().read(ownWroteLines(head.split('\n')).join('\n'));
  const quoted = cut !== -1 || email.getFragments().some((fragment) => fragment.isQuoted());
  if (!quoted) return { newText: normalized.trim(), quoted: false };
  const newText = email.getVisibleText().replace(JOINED, '').trim();
  // A reply that is all quote (a bare forward) has no new part; keep the whole text then.
  return newText ? { newText, quoted: true } : { newText: normalized.trim(), quoted: false };
}
