// The page's dictionaries, one per language, and the one function that reads them. Nothing here
// touches the page (i18n.js does), so a plain node test can check that every key has its twin.

import { enErrors } from './errors-en.js';
import { plErrors } from './errors-pl.js';
import { enReasons } from './reasons-en.js';
import { plReasons } from './reasons-pl.js';
import { en } from './strings-en.js';
import { pl } from './strings-pl.js';

export const DICTIONARIES = {
  en: { ...en, ...enReasons, ...enErrors },
  pl: { ...pl, ...plReasons, ...plErrors },
};

export const LANGUAGES = Object.keys(DICTIONARIES);

/** Whether the dictionaries have words for `key` (every language has the same keys). */
export const hasWords = (key) => DICTIONARIES.en[key] !== undefined;

const pluralRules = new Map();
function pluralOf(language, count) {
  if (!pluralRules.has(language)) pluralRules.set(language, new Intl.PluralRules(language));
  return pluralRules.get(language).select(count);
}

/**
 * The text of `key` in `language` (English for a language or key it lacks), its {placeholders}
 * filled from `params`. A plural entry picks its form by `params.count`.
 */
export function translate(language, key, params = {}) {
  const known = DICTIONARIES[language]?.[key] !== undefined;
  const entry = known ? DICTIONARIES[language][key] : DICTIONARIES.en[key];
  if (entry === undefined) return key;
  const text =
    typeof entry === 'string'
      ? entry
      : (entry[pluralOf(known ? language : 'en', params.count)] ?? entry.other);
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}
