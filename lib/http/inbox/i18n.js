// The page's language: English or Polish, as the agent last chose (this browser's localStorage),
// else as the browser's own language starts ("pl…": Polish), else English. Every text the page
// shows comes from the dictionaries (dictionaries.js) through t(); dates, times and numbers are
// written by Intl in the same language. The EN/PL switch redraws the page in place, never
// reloading it: a reload asks before leaving a draft, and loses a reply moved from a resolved conversation.

import { DICTIONARIES, translate } from './dictionaries.js';

export const LANGUAGE_STORAGE = 'switchboard.language';

function initialLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(LANGUAGE_STORAGE);
  } catch {
    // Storage refused (a locked-down browser): the browser's language decides.
  }
  if (saved && DICTIONARIES[saved]) return saved;
  return (navigator.language ?? '').toLowerCase().startsWith('pl') ? 'pl' : 'en';
}

let current = initialLanguage();

/** The page's language now ('en' or 'pl'). */
export const language = () => current;

/** The text of `key` in the page's language, its {placeholders} filled from `params`. */
export const t = (key, params) => translate(current, key, params);

// The clock's hours as the agent's own locale counts them (24 h in Poland), whatever the
// language (found at stop 26: the page's words and its dates were in two languages).
const { hourCycle } = new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions();
function formatsOf(lang) {
  return {
    dateTime: new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', hourCycle }),
    relative: new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }),
    shortDay: new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric' }),
    decimal: new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
  };
}
let formats = formatsOf(current);

/** A date and time ("Nov 26, 2026, 09:00"; "26 lis 2026, 09:00"). */
export const formatDateTime = (date) => formats.dateTime.format(date);
/** "in 5 minutes", "za 5 minut". */
export const formatRelative = (value, unit) => formats.relative.format(value, unit);
/** A day as the chart's axis writes it ("Nov 27", "27 lis"). */
export const formatShortDay = (date) => formats.shortDay.format(date);
/** A number with one decimal ("1.5", "1,5"). */
export const formatDecimal = (value) => formats.decimal.format(value);

/**
 * The elements whose text is a message of the moment (the status line, an error under a box):
 * `text` is a function that writes it, so that a change of language writes it again.
 */
const live = new Map();

/** Puts `text` (a string as it is, or a function of the language's words) in `node`. */
export function say(node, text) {
  if (typeof text === 'function') live.set(node, text);
  else live.delete(node);
  node.textContent = typeof text === 'function' ? text() : (text ?? '');
}

const redraws = [];
/** `redraw` runs after each change of language: what a module drew, it draws again. */
export function onLanguageChange(redraw) {
  redraws.push(redraw);
}

/** The page's own words: its title, the elements marked data-i18n, and the switch's state. */
function applyLanguage() {
  document.documentElement.lang = current;
  document.title = t('page.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  }
  for (const button of document.querySelectorAll('[data-language]')) {
    button.setAttribute('aria-pressed', String(button.dataset.language === current));
  }
  for (const [node, text] of live) node.textContent = text();
}

export function setLanguage(next) {
  if (!DICTIONARIES[next] || next === current) return;
  current = next;
  formats = formatsOf(next);
  try {
    localStorage.setItem(LANGUAGE_STORAGE, next);
  } catch {
    // Not saved: this page still speaks it until the tab closes.
  }
  applyLanguage();
  for (const redraw of redraws) redraw();
}

for (const button of document.querySelectorAll('[data-language]')) {
  button.addEventListener('click', () => setLanguage(button.dataset.language));
}
applyLanguage();
