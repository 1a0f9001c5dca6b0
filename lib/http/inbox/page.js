// The page's small helpers: its elements, its status line, and the promises as an agent reads
// them. Customer text only ever reaches the page through textContent (see el()), never as HTML.
// Words, dates and times are the page's language's (i18n.js).

import { formatDateTime, formatRelative, say, t } from './i18n.js';

export const $ = (id) => document.getElementById(id);
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
/**
 * What the status line is about ('loading'; a failed read: 'list', 'conversation', 'earlier',
 * 'network'; 'moved', a moved reply whose conversation could not be opened yet), or null.
 */
let about = null;

/**
 * Says `text` in the status line (a function of the language's words, written again when the
 * language changes; a string only for text from elsewhere) (a polite live region: screen readers read each new text, never
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
  say(status, text);
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
    ? t('promise.noReplyNeeded')
    : replyByText(conversation.replyBy, now);
}

function replyByText(replyBy, now) {
  if (!replyBy) return t('promise.none');
  const minutes = Math.round((Date.parse(replyBy) - now) / 60_000);
  const near = Math.abs(minutes) < 90 ? formatRelative(minutes, 'minute') : null;
  const time = formatDateTime(new Date(replyBy));
  return `${t('promise.replyBy', { time })}${near ? ` (${near})` : ''}`;
}
