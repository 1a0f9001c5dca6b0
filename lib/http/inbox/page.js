// The page's small helpers: its elements, its status line, and the dates and promises as an agent
// reads them. Customer text only ever reaches the page through textContent (see el()), never as HTML.

export const $ = (id) => document.getElementById(id);
// Dates and "in 5 minutes" in the page's language (<html lang>), so a line reads in one language
// whatever the browser's (found at stop 26: "reply by 26 lis 2026, 09:00 (za 60 minut)" on an
// English page); the clock's hours as the agent's own locale counts them (24 h in Poland).
const language = document.documentElement.lang || 'en';
const { hourCycle } = new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions();
export const dateTime = new Intl.DateTimeFormat(language, {
  dateStyle: 'medium',
  timeStyle: 'short',
  hourCycle,
});
const relative = new Intl.RelativeTimeFormat(language, { numeric: 'auto' });
/** A day as the chart's axis writes it ("Nov 27"), in the page's language like every other date. */
export const shortDay = new Intl.DateTimeFormat(language, { month: 'short', day: 'numeric' });

/** Creates an element; children are nodes or strings, and strings become text, never markup. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** How long a success stays in the status line ("Reply sent."): read, then out of the way. */
export const PASSING_MS = 10_000;
let passing = null;
/** What the error in the status line is about ('list', 'conversation', 'earlier', 'network'), or null. */
let about = null;

/**
 * Says `text` in the status line (a polite live region: screen readers read each new text, never
 * its removal). An error or a state stays until the next message; a success (`passes`) fades and
 * is cleared after PASSING_MS, so that the line never tells of an old reply as if of the last one.
 * An error `about` a read goes when that read next succeeds (clearStatus): the list or the
 * conversation the poll reads again, the earlier messages the agent asks for again, the network
 * the next poll reaches.
 */
export function setStatus(text, { passes = false, about: subject = null } = {}) {
  const status = $('status');
  clearTimeout(passing);
  passing = null;
  about = subject;
  status.classList.remove('passing');
  status.textContent = text;
  if (!passes || !text) return;
  // Read before the class comes back, so that a second success fades from the start again.
  void status.offsetWidth;
  status.classList.add('passing');
  passing = setTimeout(() => setStatus(''), PASSING_MS);
}

/**
 * Clears the status line if it still tells of a failed read `subject` that has just succeeded
 * (found at stop 26: "Could not list conversations…" stayed after the next poll listed them).
 */
export function clearStatus(subject) {
  if (about === subject) setStatus('');
}

/** An episode only an out-of-office reply, a list post or a keyword began promised nobody anything. */
export function promiseText(conversation, now) {
  return conversation.awaiting === 'no-reply-needed'
    ? 'no reply needed'
    : replyByText(conversation.replyBy, now);
}

function replyByText(replyBy, now) {
  if (!replyBy) return 'no promise';
  const minutes = Math.round((Date.parse(replyBy) - now) / 60_000);
  const near = Math.abs(minutes) < 90 ? relative.format(minutes, 'minute') : null;
  return `reply by ${dateTime.format(new Date(replyBy))}${near ? ` (${near})` : ''}`;
}
