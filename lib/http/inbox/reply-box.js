// The reply box: what it holds for each conversation (a draft, a reply still without an answer,
// locked, or a reply moved from a resolved conversation) and what it says about it.

import { keyTag } from './api.js';
import { $ } from './page.js';
import { state } from './state.js';

export function showNoteError(text) {
  $('note-error').hidden = !text;
  $('note-error').textContent = text ?? '';
}

/** Keeps the shown conversation's half-typed note, as keepDraft keeps its reply (memory only). */
export function keepNoteDraft() {
  if (!state.shownId || !state.apiKey) return;
  const key = draftKey(keyTag(state.apiKey), state.shownId);
  const text = $('note-text').value;
  if (text.trim()) state.noteDrafts.set(key, text);
  else state.noteDrafts.delete(key);
}

/** A conversation just shown: its note box gets the note begun in it, if any. */
export function showKeptNote(id) {
  $('note-text').value = state.noteDrafts.get(draftKey(keyTag(state.apiKey), id)) ?? '';
  showNoteError(null);
}

export function showReplyError(text) {
  $('reply-error').hidden = !text;
  $('reply-error').textContent = text ?? '';
}

/** What the agent reads while a reply has no answer yet (it keeps its text and key until it has). */
export const UNANSWERED = {
  network: 'The network failed: the reply may or may not have gone. Press Send again: it is safe.',
  server: (result) =>
    `The server failed (${result.error?.message ?? result.status}): the reply may or may not have gone. Press Send again: it is safe.`,
  running:
    'Still sending: Switchboard is still working on this reply. Wait a moment, then press Send again to see how it went: it is safe.',
  again:
    'This reply was sent but no answer came back: it may or may not have gone. Press Send again: it is safe.',
  sending: 'Still sending: no answer has come back yet. It shows here when it does.',
  otherKey:
    'This reply was sent with another API key and no answer came back: it may have reached the customer. Read the messages above before you send it: from this key it would be a new reply.',
};

/** What the agent reads over a reply moved from the resolved conversation it was typed in. */
export const MOVED = {
  shown:
    'Not sent: this conversation is resolved and the customer has written again since. Their open conversation is shown now, with your reply kept: read it, then press Send to answer there.',
  held: 'Your reply from their resolved conversation is kept: it comes into the box once this one is answered.',
  next: 'Your reply from their resolved conversation is in the box now: read it, then press Send to send it too.',
  draft:
    'The draft you had begun here follows it, after a blank line: make them the one reply you mean before you send.',
};

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

// A tab closed or reloaded loses what only this tab holds: a draft, a reply with no answer yet.
window.addEventListener('beforeunload', (event) => {
  keepDraft();
  keepNoteDraft();
  if (state.drafts.size > 0 || state.noteDrafts.size > 0 || state.unanswered.size > 0 || state.moved.size > 0)
    event.preventDefault();
});

/**
 * A conversation just shown: its reply box gets what was kept for it. Its own unanswered reply
 * first, locked, since Send sends that one (what the box shows is always what Send sends);
 * else a reply moved to it, once (from then on it is in the box like any typed text), with its
 * draft after it; else its draft.
 */
export function showKeptReply(id) {
  const attempt = state.unanswered.get(id);
  if (attempt && !attempt.sending && attempt.keyTag !== keyTag(state.apiKey)) {
    // Sent with a key since forgotten: the API keeps its Idempotency-Key under that key, so
    // from this one it would be a new request. The text is the agent's, so it stays, unlocked.
    state.unanswered.delete(id);
    $('reply-text').value = attempt.text;
    lockReply(false);
    return showReplyError(state.moved.has(id) ? `${UNANSWERED.otherKey} ${MOVED.held}` : UNANSWERED.otherKey);
  }
  if (attempt) {
    $('reply-text').value = attempt.text;
    lockReply(true);
    const why = attempt.sending ? UNANSWERED.sending : UNANSWERED.again;
    return showReplyError(state.moved.has(id) ? `${why} ${MOVED.held}` : why);
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
  showReplyError(draft?.trim() ? `${MOVED.shown} ${MOVED.draft}` : MOVED.shown);
}
