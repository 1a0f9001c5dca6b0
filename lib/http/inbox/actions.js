// Acting on the conversation shown: reply and resolve. Each answer is about the conversation it
// was sent for, which may no longer be the one on screen.

import { api, keyTag, networkTrouble, newIdempotencyKey, offline } from './api.js';
import { openConversation } from './conversation.js';
import { changed } from './freshness.js';
import { t } from './i18n.js';
import { dropUnanswered, keepUnanswered } from './kept-unanswered.js';
import { refreshList } from './list.js';
import { $, setStatus } from './page.js';
import { apiErrorText } from './reasons.js';
import { draftKey, lockReply, MOVED, showKeptReply, showReplyError, UNANSWERED } from './reply-box.js';
import { refreshServiceLevel } from './service-level.js';
import { state } from './state.js';

// How long after a reply the service-level chart is read again (the stats feed's lag).
const STATS_LAG_MS = 3_000;

// The 5xx codes of a reply refused before anything was sent or stored (the API's 500 and 503).
const REFUSED_BEFORE_SENDING = new Set(['TEMPLATE_REFUSED', 'CHANNEL_MISCONFIGURED']);

/**
 * What an agent should read for each refusal (codes from the API's error bodies), after `what`
 * (a key: 'refusal.notSent'…): a function of the language's words. The API's code is said in
 * them (apiErrorText); only a code the page has no words for is quoted as the server wrote it.
 */
export function refusalText(what, result) {
  return () => refusalWords(t(what), result);
}

function refusalWords(what, result) {
  const code = result.error?.code;
  const message = result.error ? apiErrorText(result) : null;
  if (code === 'OUTSIDE_WINDOW') {
    // A WhatsApp refusal names the missing template configuration and what to do meanwhile.
    if (result.error.details?.configure) return t('refusal.windowConfigure', { what, message });
    return t('refusal.window', { what, message });
  }
  if (code === 'TEMPLATE_REFUSED') {
    // Refused for our configuration before anything went (a 500, but an answer): the agent's
    // text is theirs to send again once ops have fixed the template or the setting.
    const { provider, template, providerCode } = result.error.details ?? {};
    const named = template?.name
      ? `"${template.name}"${template.language ? ` (${template.language})` : ''}`
      : t('refusal.templateConfigured');
    return t('refusal.template', {
      what,
      provider: provider === 'twilio' ? 'Twilio' : 'WhatsApp',
      template: named,
      code: providerCode ? t('refusal.templateCode', { code: providerCode }) : '',
    });
  }
  if (code === 'FORBIDDEN') return t('refusal.forbidden', { what });
  if (message) return t('refusal.message', { what, code: code ?? result.status, message });
  return t('refusal.status', { what, status: result.status });
}

$('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sendReply().catch(networkTrouble);
});

// Ctrl+Enter (⌘+Enter) sends from the box, as in most mail and chat tools.
$('reply-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $('reply-form').requestSubmit();
  }
});

/**
 * After the agent's reply or resolve from the reply form is answered, the keyboard goes on to the
 * next customer in the list (the soonest reply-by while the view is the waiting one): Enter opens
 * them, Tab reaches their box. Not when the agent has moved on meanwhile (the focus is elsewhere
 * than the form, or than the page itself, where a button disabled under it leaves it).
 */
function focusNext(id) {
  const active = document.activeElement;
  if (active !== document.body && !$('reply-form').contains(active)) return;
  const next = [...$('conversations').querySelectorAll('[data-id]')].find((item) => item.dataset.id !== id);
  next?.focus();
}

async function sendReply() {
  // The conversation on screen when Send was pressed: the reply goes there, whatever the screen
  // shows by the time the answer comes.
  const id = state.shownId;
  if (!id || state.unanswered.get(id)?.sending) return;
  // Named in any answer that comes once another conversation is on screen.
  const who = $('conversation-title').textContent;
  // What the box shows is what Send sends: never a kept reply other than the one on screen.
  const kept = state.unanswered.get(id);
  if (kept && $('reply-text').value.trim() !== kept.text) return showKeptReply(id);
  // A reply still unanswered goes again as it was, under its key: the server sends it once at
  // most (the key with another text is refused, and a new key could send a second reply).
  const attempt = state.unanswered.get(id) ?? {
    text: $('reply-text').value.trim(),
    key: newIdempotencyKey(),
    keyTag: keyTag(state.apiKey),
    sending: false,
  };
  if (!attempt.text) return;
  // From here the text is the reply sent, not a draft: a refusal gives it back (below).
  state.drafts.delete(draftKey(attempt.keyTag, id));
  // Kept in this tab's storage too: a reload before the answer still retries it under its key.
  keepUnanswered(id, attempt);
  lockReply(true);
  attempt.sending = true;
  $('send').disabled = true;
  showReplyError(null);
  setStatus(() => t('reply.sending'));
  let result;
  try {
    result = await api(`/api/conversations/${encodeURIComponent(id)}/replies`, {
      method: 'POST',
      body: { text: attempt.text },
      idempotencyKey: attempt.key,
    }).catch(offline);
  } finally {
    attempt.sending = false;
    if (id === state.shownId) $('send').disabled = false;
  }
  const shown = id === state.shownId;
  /** An answer about this reply: under it when its conversation is still shown, else in the status line, named. */
  const tell = (text) => {
    setStatus(shown ? '' : () => t('status.replyTo', { who, text: text() }));
    if (shown) showReplyError(text);
  };
  // No answer: the network failed, the server failed (the API keeps no answer for the key, and
  // the reply may have gone before it failed), or the first try is still running.
  if (!result) return tell(UNANSWERED.network);
  // A refused template and a channel switched off for its configuration are the 5xx that say
  // what happened: refused before anything went (below, a refusal; a new key sends it later).
  if (result.status >= 500 && !REFUSED_BEFORE_SENDING.has(result.error?.code))
    return tell(UNANSWERED.server(result));
  if (result.error?.code === 'REQUEST_IN_PROGRESS') return tell(UNANSWERED.running);
  // Any other answer is final for this key: the next reply is a new request.
  dropUnanswered(id);
  if (shown) lockReply(false);
  // A resolved conversation whose customer wrote again since: the reply belongs where they wait.
  const openId =
    result.error?.code === 'CONTACT_HAS_OPEN_CONVERSATION' && result.error.details?.conversationId;
  if (openId && shown) {
    // Kept for the open conversation until its box shows it (showKeptReply): its read may fail
    // (the poll tries again), and the box may first hold that conversation's unanswered reply.
    state.moved.set(openId, attempt.text);
    setStatus('');
    if (await openConversation(openId, false)) return;
    if (state.openId === openId && state.moved.has(openId)) {
      // Said until its box shows the reply (showKeptReply clears it).
      setStatus(() => t('moved.notOpened'), { about: 'moved' });
    }
    return;
  }
  if (!result.ok) {
    // Not sent: the text is a draft again, in the box if shown, else when the agent comes back.
    if (!shown) state.drafts.set(draftKey(attempt.keyTag, id), attempt.text);
    return tell(refusalText('refusal.notSent', result));
  }
  // Sent: a poll's read begun before this answer would show the customer still waiting.
  changed(id);
  if (shown) {
    $('reply-text').value = '';
    showReplyError(null);
    // A reply moved here waited for this one to be answered: now it is the box's.
    const moved = state.moved.get(id);
    if (moved !== undefined) {
      state.moved.delete(id);
      $('reply-text').value = moved;
      showReplyError(MOVED.next);
    }
  }
  setStatus(shown ? () => t('reply.sent') : () => t('reply.sentTo', { who }), { passes: true });
  await afterChange();
  // A reply moved here came into the box to be read first: the focus stays with it.
  if (shown && id === state.shownId && !$('reply-text').value) focusNext(id);
}

$('resolve').addEventListener('click', () => resolveShown().catch(networkTrouble));

async function resolveShown() {
  // The conversation on screen, and the newest of its messages the agent could see.
  const id = state.shownId;
  const seenUntil = state.seenUntil;
  if (!id || state.resolving.has(id)) return;
  const who = $('conversation-title').textContent;
  const fromForm = $('reply-form').contains(document.activeElement);
  state.resolving.add(id);
  $('resolve').disabled = true;
  let result;
  try {
    result = await api(`/api/conversations/${encodeURIComponent(id)}/resolve`, {
      method: 'POST',
      // Not resolved if the customer wrote after what is on the screen.
      body: seenUntil ? { seenUntil } : {},
      idempotencyKey: newIdempotencyKey(),
    }).catch(offline);
  } finally {
    state.resolving.delete(id);
    if (id === state.shownId) $('resolve').disabled = false;
  }
  const shown = id === state.shownId;
  if (result?.error?.code === 'CUSTOMER_WROTE') {
    if (shown && (await openConversation(id, false))) {
      // details.seenUntil: when their newest message became readable. Not reached by what is on
      // screen: a message recorded late, listed by when it was received, is further up.
      const readable = result.error.details?.seenUntil;
      if (readable && state.seenUntil && Date.parse(readable) > Date.parse(state.seenUntil)) {
        return showReplyError(() => t('resolve.wroteEarlier'));
      }
      return showReplyError(() => t('resolve.wrote'));
    }
    return setStatus(() => t('resolve.wroteAway', { who }));
  }
  if (!result?.ok) {
    const text = result
      ? refusalText('refusal.notResolved', result)
      : () => t('refusal.network', { what: t('refusal.notResolved') });
    return shown ? showReplyError(text) : setStatus(() => t('status.about', { who, text: text() }));
  }
  changed(id);
  if (shown) $('resolve').disabled = true;
  setStatus(shown ? () => t('resolve.done') : () => t('resolve.doneWith', { who }), { passes: true });
  await afterChange();
  if (fromForm && shown && id === state.shownId) focusNext(id);
}

$('reopen').addEventListener('click', () => reopenShown().catch(networkTrouble));

/** Opens the resolved conversation on screen again (409 while the customer has another open one). */
async function reopenShown() {
  const id = state.shownId;
  if (!id || state.resolving.has(id)) return;
  const who = $('conversation-title').textContent;
  state.resolving.add(id);
  $('reopen').disabled = true;
  let result;
  try {
    result = await api(`/api/conversations/${encodeURIComponent(id)}/reopen`, {
      method: 'POST',
      body: {},
      idempotencyKey: newIdempotencyKey(),
    }).catch(offline);
  } finally {
    state.resolving.delete(id);
    if (id === state.shownId) $('reopen').disabled = false;
  }
  const shown = id === state.shownId;
  if (!result?.ok) {
    const text = result
      ? refusalText('refusal.notReopened', result)
      : () => t('refusal.network', { what: t('refusal.notReopened') });
    return shown ? showReplyError(text) : setStatus(() => t('status.about', { who, text: text() }));
  }
  changed(id);
  // Open again now: Resolve is offered before the page reads it back (as resolving disables it).
  if (shown) {
    $('reopen').hidden = true;
    $('resolve').disabled = false;
  }
  setStatus(shown ? () => t('reopen.done') : () => t('reopen.doneWith', { who }), { passes: true });
  await afterChange();
}

/** After acting: the conversation as it is now, the list without it if nobody waits, new figures. */
async function afterChange() {
  await Promise.all([
    state.openId ? openConversation(state.openId, false) : null,
    refreshList(),
    refreshServiceLevel(),
  ]).catch(networkTrouble);
  // The stats are counted from the events a moment after the reply is stored (on AWS a rule and
  // a queue, locally a feed every second): look again once they are in.
  setTimeout(() => refreshServiceLevel().catch(() => undefined), STATS_LAG_MS);
}
