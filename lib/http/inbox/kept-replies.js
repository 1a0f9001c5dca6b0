// The agent's replies without an answer (state.unanswered), kept in this tab's sessionStorage as
// well as in its memory: a reload must not lose the knowledge that a reply may or may not have
// gone, nor its Idempotency-Key, or the reply typed again would go under a new key and could
// reach the customer twice (found at stop 31).
//
// sessionStorage, not localStorage: it lives as long as this tab, as the key does (state.js), so
// the customer's words leave the computer's storage when the tab is closed, and each tab retries
// only what it sent. One item per conversation, { text, key, keyTag }: the reply's text, its
// Idempotency-Key (worth nothing without the API key) and the tag of the API key it went under
// (api.js's keyTag, a 53-bit hash: the key itself is never stored here). Never `sending`: after a
// reload no request of the page runs, so a reply that was on its way is one without an answer.

import { state } from './state.js';

const PREFIX = 'switchboard.unanswered.';

/** Whether `value` is a kept reply as this module writes it. */
function isKept(value) {
  return (
    typeof value?.text === 'string' &&
    value.text.trim() !== '' &&
    typeof value.key === 'string' &&
    /^[0-9a-f]{32}$/.test(value.key) &&
    Number.isSafeInteger(value.keyTag)
  );
}

/** Conversation `id`'s reply without an answer: in memory, and in this tab's storage. */
export function keepUnanswered(id, attempt) {
  state.unanswered.set(id, attempt);
  const { text, key, keyTag } = attempt;
  try {
    sessionStorage.setItem(PREFIX + id, JSON.stringify({ text, key, keyTag }));
  } catch {
    // Storage full or switched off: the tab's memory still holds it until a reload.
  }
}

/** Conversation `id`'s reply is answered (or dropped): out of memory and storage. */
export function dropUnanswered(id) {
  state.unanswered.delete(id);
  try {
    sessionStorage.removeItem(PREFIX + id);
  } catch {
    // Nothing stored to remove.
  }
}

/** The replies this tab kept before a reload, back in memory (what is unreadable is removed). */
function restore() {
  let names;
  try {
    names = Object.keys(sessionStorage).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(name) ?? 'null');
    } catch {
      // Not JSON: removed below.
    }
    const id = name.slice(PREFIX.length);
    if (id && isKept(kept) && !state.unanswered.has(id)) {
      state.unanswered.set(id, { text: kept.text, key: kept.key, keyTag: kept.keyTag, sending: false });
    } else if (!state.unanswered.has(id)) sessionStorage.removeItem(name);
  }
}

restore();
