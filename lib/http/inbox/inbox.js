// The reference inbox: everything here goes through Switchboard's public agents' API
// (README, "The agents' API") with the key the user pastes. No framework and no build step,
// so a downstream tool can read it as an example: ES modules, each with one job (api.js,
// state.js, freshness.js, list.js, conversation.js, reply-box.js, actions.js, assignee.js, assign.js, notes.js,
// service-level.js, page.js), and the page's words in two languages (i18n.js, dictionaries.js).
// This one is the entry: the key, the polling, and the start. Customer text only ever reaches
// the page through textContent (see el() in page.js), never as HTML.

import './actions.js';
import './assign.js';
import './notes.js';
import { currentSignal, endSession, keyTag, networkTrouble, onUnauthorized } from './api.js';
import { loadMe, showWhoAmI } from './assignee.js';
import { clearConversation, openConversation } from './conversation.js';
import { t } from './i18n.js';
import { clearList, refreshList } from './list.js';
import { $, clearStatus, setStatus } from './page.js';
import { chartShown, refreshServiceLevel } from './service-level.js';
import { KEY_STORAGE, state } from './state.js';

const POLL_MS = 5_000;

function showKeyState() {
  $('key-form').hidden = Boolean(state.apiKey);
  $('key-set').hidden = !state.apiKey;
}

function forgetKey(message) {
  endSession();
  state.apiKey = null;
  state.openId = null;
  state.me = null;
  state.people = null;
  showWhoAmI();
  // The unanswered replies and notes stay (off screen): the same key pasted again retries them safely.
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState();
  // Without a key nothing customer-related stays on screen, nor as a draft in memory or storage.
  clearList();
  clearConversation(() => t('conversation.none'));
  state.drafts.clear();
  state.noteDrafts.clear();
  // A reply moved to a conversation not shown yet is a draft too (refused, never sent): the next
  // key's agent must not find it in their box and send it under their name.
  state.moved.clear();
  setStatus(message);
  $('api-key').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  endSession();
  state.apiKey = $('api-key').value.trim();
  state.me = null;
  state.people = null;
  $('api-key').value = '';
  sessionStorage.setItem(KEY_STORAGE, state.apiKey);
  showKeyState();
  // The form just hid the focused field: on to the list's first control, not to the page's top.
  $('view').focus();
  setStatus(() => t('status.loading'), { about: 'loading' });
  void refreshAll();
});
/** Whether a reply or note (`held`) sent under the key tagged `tag` still waits for its answer. */
const unansweredUnder = (held, tag) => [...held.values()].some((attempt) => attempt.keyTag === tag);

// One message, said once: the key forgotten, and what it leaves unconfirmed that only this key
// can retry (found at stop 30: a note without an answer went unmentioned, and a reply left by an
// earlier key was told to the next key forgotten, whose pasting back never retries it).
$('forget-key').addEventListener('click', () => {
  const tag = state.apiKey ? keyTag(state.apiKey) : null;
  const forgotten = unansweredUnder(state.unanswered, tag)
    ? 'status.forgottenUnanswered'
    : 'status.forgotten';
  const note = unansweredUnder(state.unansweredNotes, tag);
  forgetKey(note ? () => `${t(forgotten)} ${t('status.noteUnanswered')}` : () => t(forgotten));
});

onUnauthorized(forgetKey);

// --- Polling ---------------------------------------------------------------------------

async function refreshAll() {
  // A slow server must not pile up polls (a poll of a forgotten key ends with its requests).
  const signal = currentSignal();
  if (!state.apiKey || state.refreshing === signal) return;
  state.refreshing = signal;
  try {
    // Who the key is, before the list: "(you)" and the "Assigned to me" view depend on it.
    if (!state.me) {
      await loadMe();
      showWhoAmI();
    }
    await refreshList();
    if (state.openId) await openConversation(state.openId, false);
    if (!chartShown() && $('chart-note').hidden) await refreshServiceLevel();
    // The poll reached the server: a failed network it reported before is over (found at stop
    // 26: "The server cannot be reached; retrying." stayed after the next poll succeeded).
    clearStatus('network');
    if (state.apiKey) clearStatus('loading');
  } catch (error) {
    networkTrouble(error);
  } finally {
    if (state.refreshing === signal) state.refreshing = null;
  }
}

// Every few seconds, unless the tab is hidden; the chart once a minute.
setInterval(() => document.hidden || refreshAll(), POLL_MS);
setInterval(() => document.hidden || !state.apiKey || refreshServiceLevel().catch(networkTrouble), 60_000);

showKeyState();
if (!state.apiKey) setStatus(() => t('status.pasteKey'));
const CONVERSATION_ID = /^conv_[0-9a-z]{26}$/;
const fromHash = location.hash.slice(1);
if (CONVERSATION_ID.test(fromHash)) state.openId = fromHash;
void refreshAll();
// The skip link moves the focus, not the address: #conversation-title in place of the
// conversation's id would open nothing on a reload (found at stop 26).
document.querySelector('a.skip').addEventListener('click', (event) => {
  event.preventDefault();
  $('conversation-title').focus();
});
// A link to another conversation followed in this tab (or Back) opens it.
window.addEventListener('hashchange', () => {
  const id = location.hash.slice(1);
  if (state.apiKey && CONVERSATION_ID.test(id) && id !== state.openId) {
    openConversation(id, true).catch(networkTrouble);
  }
});
