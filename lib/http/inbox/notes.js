// Internal notes on the conversation shown (POST /api/conversations/:id/notes): for the team,
// never sent to the customer; the API keeps them among the conversation's messages (kind "note"),
// so the timeline shows them where they were written.

import { refusalText } from './actions.js';
import { api, keyTag, networkTrouble, newIdempotencyKey, offline } from './api.js';
import { openConversation } from './conversation.js';
import { changed } from './freshness.js';
import { t } from './i18n.js';
import { dropUnansweredNote, keepUnansweredNote } from './kept-unanswered.js';
import { $, setStatus } from './page.js';
import { apiErrorText } from './reasons.js';
import { draftKey, showNoteError } from './reply-box.js';
import { state } from './state.js';

$('note-form').addEventListener('submit', (event) => {
  event.preventDefault();
  addNote().catch(networkTrouble);
});

// Ctrl+Enter (⌘+Enter) adds it, as Send does in the reply box.
$('note-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $('note-form').requestSubmit();
  }
});

async function addNote() {
  const id = state.shownId;
  const busy = `note ${id}`;
  const text = $('note-text').value.trim();
  if (!id || !text || state.busy.has(busy)) return;
  const who = $('conversation-title').textContent;
  // The same note again after no answer goes under the same key: stored once, whatever happened
  // (the API keeps Idempotency-Keys per API key: only under the key it went with).
  const tag = keyTag(state.apiKey);
  const previous = state.unansweredNotes.get(id);
  const attempt =
    previous?.text === text && previous.keyTag === tag
      ? previous
      : { text, key: newIdempotencyKey(), keyTag: tag };
  keepUnansweredNote(id, attempt);
  state.busy.add(busy);
  $('add-note').disabled = true;
  showNoteError(null);
  let result;
  try {
    result = await api(`/api/conversations/${encodeURIComponent(id)}/notes`, {
      method: 'POST',
      body: { text },
      idempotencyKey: attempt.key,
    }).catch(offline);
  } finally {
    state.busy.delete(busy);
    if (id === state.shownId) $('add-note').disabled = false;
  }
  const shown = id === state.shownId;
  const tell = (text) =>
    shown ? showNoteError(text) : setStatus(() => t('status.about', { who, text: text() }));
  // The box holds another note begun meanwhile: "press Add note again" would add that one (found
  // at stop 31), so the words are about this one, as when the agent comes back to it.
  const other = shown && $('note-text').value.trim() !== text;
  if ((!result || result.status >= 500) && other) return tell(() => t('note.againEarlier'));
  if (!result) return tell(() => t('note.network'));
  if (result.status >= 500) {
    return tell(() => t('note.server', { why: apiErrorText(result) }));
  }
  dropUnansweredNote(id);
  if (!result.ok) return tell(refusalText('refusal.noteNotAdded', result));
  changed(id);
  // Added: out of the box (and of the drafts), into the timeline. The box stays open to typing
  // while a note is on its way: what the agent typed since is theirs, kept (found at stop 30:
  // the answer emptied the box, and the draft, whatever they held).
  // A shown conversation's draft is its box (kept again when the agent looks elsewhere).
  const drafted = draftKey(attempt.keyTag, id);
  if (shown) {
    if ($('note-text').value.trim() === text) $('note-text').value = '';
    state.noteDrafts.delete(drafted);
    // What the box said while it ran (the agent came back to it meanwhile) is over.
    showNoteError(null);
  } else if (state.noteDrafts.get(drafted)?.trim() === text) state.noteDrafts.delete(drafted);
  setStatus(shown ? () => t('note.added') : () => t('note.addedTo', { who }), { passes: true });
  if (state.openId) await openConversation(state.openId, false).catch(networkTrouble);
}
