// The agent's replies and notes without an answer (state.unanswered, state.unansweredNotes),
// kept in this tab's sessionStorage as well as in its memory: a reload must not lose the
// knowledge that a reply or a note may or may not have gone, nor its Idempotency-Key, or the text
// typed again would go under a new key: a reply could reach the customer twice, a note be stored
// twice (found at stop 31).
//
// sessionStorage, not localStorage: it lives as long as this tab, as the key does (state.js), so
// the customer's words leave the computer's storage when the tab is closed, and each tab retries
// only what it sent. One item per conversation and kind, { text, key, keyTag }: the text, its
// Idempotency-Key (worth nothing without the API key) and the tag of the API key it went under
// (api.js's keyTag, a 53-bit hash: the key itself is never stored here). Never whether its
// request runs: after a reload no request of the page runs, so what was on its way is without
// an answer.

import { state } from './state.js';

const KINDS = {
  reply: { prefix: 'switchboard.unanswered.', held: () => state.unanswered },
  note: { prefix: 'switchboard.unansweredNote.', held: () => state.unansweredNotes },
};

/** Whether `value` is an attempt as this module writes it. */
function isKept(value) {
  return (
    typeof value?.text === 'string' &&
    value.text.trim() !== '' &&
    typeof value.key === 'string' &&
    /^[0-9a-f]{32}$/.test(value.key) &&
    Number.isSafeInteger(value.keyTag)
  );
}

function keep(kind, id, attempt) {
  KINDS[kind].held().set(id, attempt);
  const { text, key, keyTag } = attempt;
  try {
    sessionStorage.setItem(KINDS[kind].prefix + id, JSON.stringify({ text, key, keyTag }));
  } catch {
    // Storage full or switched off: the tab's memory still holds it until a reload.
  }
}

function drop(kind, id) {
  KINDS[kind].held().delete(id);
  try {
    sessionStorage.removeItem(KINDS[kind].prefix + id);
  } catch {
    // Nothing stored to remove.
  }
}

/** Conversation `id`'s reply without an answer: in memory, and in this tab's storage. */
export const keepUnanswered = (id, attempt) => keep('reply', id, attempt);
/** Conversation `id`'s reply is answered (or dropped): out of memory and storage. */
export const dropUnanswered = (id) => drop('reply', id);
/** Conversation `id`'s note without an answer: in memory, and in this tab's storage. */
export const keepUnansweredNote = (id, attempt) => keep('note', id, attempt);
/** Conversation `id`'s note is answered (or dropped): out of memory and storage. */
export const dropUnansweredNote = (id) => drop('note', id);

/** What this tab kept before a reload, back in memory (what is unreadable is removed). */
function restore() {
  let names;
  try {
    names = Object.keys(sessionStorage);
  } catch {
    return;
  }
  for (const [kind, { prefix, held }] of Object.entries(KINDS)) {
    for (const name of names.filter((stored) => stored.startsWith(prefix))) {
      let kept = null;
      try {
        kept = JSON.parse(sessionStorage.getItem(name) ?? 'null');
      } catch {
        // Not JSON: removed below.
      }
      const id = name.slice(prefix.length);
      if (held().has(id)) continue;
      if (!id || !isKept(kept)) {
        sessionStorage.removeItem(name);
        continue;
      }
      const { text, key, keyTag } = kept;
      held().set(id, kind === 'reply' ? { text, key, keyTag, sending: false } : { text, key, keyTag });
    }
  }
}

restore();
