// The reply box: what it holds for each conversation (a draft, a reply still without an answer,
// locked, or a reply moved from a resolved conversation) and what it says about it.

import { keyTag } from './api.js';
import { say, t } from './i18n.js';
import { dropUnanswered, dropUnansweredNote } from './kept-unanswered.js';
import { $, clearStatus } from './page.js';
import { apiErrorText } from './reasons.js';
import { state } from './state.js';

/** Says `text` (a function of the language's words) under the note box, or nothing (null). */
export function showNoteError(text) {
  $('note-error').hidden = !text;
  say($('note-error'), text);
}

/** Keeps the shown conversation's half-typed note, as keepDraft keeps its reply (memory and the tab's storage). */
export function keepNoteDraft() {
  if (!state.shownId || !state.apiKey) return;
  const key = draftKey(keyTag(state.apiKey), state.shownId);
  const text = $('note-text').value;
  if (text.trim()) state.noteDrafts.set(key, text);
  else state.noteDrafts.delete(key);
}

/**
 * A conversation just shown: its note box gets its note added without an answer, if any (as a
 * reply's, kept across "Forget key": the same text added again goes under the same key), else the
 * note begun in it. A note begun since that one went wins the box (the box stays open to typing
 * while a note goes): the agent finds what they left, and is told of the other note.
 */
export function showKeptNote(id) {
  const attempt = state.unansweredNotes.get(id);
  const draft = state.noteDrafts.get(draftKey(keyTag(state.apiKey), id));
  if (attempt) {
    // What the agent typed since that note went is in the box as they left it, and the note is
    // told of (found at stop 31: the box showed the note instead, and emptied it once added).
    const typed = draft?.trim() && draft.trim() !== attempt.text ? draft : null;
    $('note-text').value = typed ?? attempt.text;
    // Still on its way: no answer yet is not a failure (found at stop 30: "no answer came back").
    if (state.busy.has(`note ${id}`)) {
      return showNoteError(() => t(typed ? 'note.sendingEarlier' : 'note.sending'));
    }
    if (attempt.keyTag === keyTag(state.apiKey)) {
      return showNoteError(() => t(typed ? 'note.againEarlier' : 'note.again'));
    }
    // Added under a key since forgotten: from this key it would be a new note, maybe a second.
    dropUnansweredNote(id);
    return showNoteError(() => t('note.otherKey'));
  }
  $('note-text').value = draft ?? '';
  showNoteError(null);
}

/** Says `text` (a function of the language's words) under the reply box, or nothing (null). */
export function showReplyError(text) {
  $('reply-error').hidden = !text;
  say($('reply-error'), text);
}

/** What the agent reads while a reply has no answer yet (it keeps its text and key until it has). */
export const UNANSWERED = {
  network: () => t('unanswered.network'),
  server: (result) => () => t('unanswered.server', { why: apiErrorText(result) }),
  running: () => t('unanswered.running'),
  again: () => t('unanswered.again'),
  sending: () => t('unanswered.sending'),
  otherKey: () => t('unanswered.otherKey'),
};

/** What the agent reads over a reply moved from the resolved conversation it was typed in. */
export const MOVED = {
  shown: () => t('moved.shown'),
  held: () => t('moved.held'),
  next: () => t('moved.next'),
  draft: () => t('moved.draft'),
};

/** Two messages of the moment as one (each a function of the language's words). */
export const both = (first, second) => () => `${first()} ${second()}`;

/** A reply without an answer keeps its text as sent: the same request again is the safe retry. */
export function lockReply(locked) {
  $('reply-text').readOnly = locked;
}

export const draftKey = (tag, id) => `${tag} ${id}`;

/** Keeps what the box holds as the shown conversation's draft (a locked box holds a reply sent, not a draft). */
export function keepDraft() {
  if (!state.shownId || !state.apiKey || $('reply-text').readOnly) return;
  const key = draftKey(keyTag(state.apiKey), state.shownId);
  const text = $('reply-text').value;
  if (text.trim()) state.drafts.set(key, text);
  else state.drafts.delete(key);
}

// Each change to a box is its draft at once (kept in the tab's storage too): a reload, or a tab
// that crashed, finds it.
$('reply-text').addEventListener('input', keepDraft);
$('note-text').addEventListener('input', keepNoteDraft);

// A tab closed loses what only this tab holds (a draft, a reply with no answer yet); a reload keeps
// them (not a reply moved from a resolved conversation), but the browser cannot tell the two apart.
window.addEventListener('beforeunload', (event) => {
  keepDraft();
  keepNoteDraft();
  const kept = [state.drafts, state.noteDrafts, state.unanswered, state.unansweredNotes, state.moved];
  if (kept.some((held) => held.size > 0)) event.preventDefault();
});

/**
 * A conversation just shown: its reply box gets what was kept for it. Its own unanswered reply
 * first, locked, since Send sends that one (what the box shows is always what Send sends);
 * else a reply moved to it, once (from then on it is in the box like any typed text), with its
 * draft after it; else its draft.
 */
export function showKeptReply(id) {
  // A reply moved here is the box's to tell of now: the line's "could not open it yet" is past
  // (found at stop 30: it stayed once the poll had opened the conversation).
  if (state.moved.has(id)) clearStatus('moved');
  const attempt = state.unanswered.get(id);
  if (attempt && !attempt.sending && attempt.keyTag !== keyTag(state.apiKey)) {
    // Sent with a key since forgotten: the API keeps its Idempotency-Key under that key, so
    // from this one it would be a new request. The text is the agent's, so it stays, unlocked.
    dropUnanswered(id);
    $('reply-text').value = attempt.text;
    lockReply(false);
    return showReplyError(state.moved.has(id) ? both(UNANSWERED.otherKey, MOVED.held) : UNANSWERED.otherKey);
  }
  if (attempt) {
    $('reply-text').value = attempt.text;
    lockReply(true);
    const why = attempt.sending ? UNANSWERED.sending : UNANSWERED.again;
    return showReplyError(state.moved.has(id) ? both(why, MOVED.held) : why);
  }
  const moved = state.moved.get(id);
  if (moved === undefined) {
    $('reply-text').value = state.drafts.get(draftKey(keyTag(state.apiKey), id)) ?? '';
    return;
  }
  state.moved.delete(id);
  // The draft begun here stays, after the moved reply (found at stop 26: the moved reply took its
  // place, and keepDraft lost it once the agent looked elsewhere).
  const draft = state.drafts.get(draftKey(keyTag(state.apiKey), id));
  $('reply-text').value = draft?.trim() ? `${moved}\n\n${draft}` : moved;
  lockReply(false);
  showReplyError(draft?.trim() ? both(MOVED.shown, MOVED.draft) : MOVED.shown);
}
