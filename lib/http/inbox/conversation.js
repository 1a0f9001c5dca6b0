// The conversation on the right: its header, which conversation is shown at all, and the forms
// that act on it. Its messages are messages.js's.

import { api, offline } from './api.js';
import { assigneeLabel, clearAssignment, showAssignment } from './assignee.js';
import { outdated, readBegins, shownAt } from './freshness.js';
import { onLanguageChange, say, t } from './i18n.js';
import { readableUntil, showMessages, withLatest } from './messages.js';
import { channelName, contactName } from './names.js';
import { $, clearStatus, promiseText, setStatus } from './page.js';
import { ackText, apiErrorText, optOutText, replyFailureText } from './reasons.js';
import {
  keepDraft,
  keepNoteDraft,
  lockReply,
  showKeptNote,
  showKeptReply,
  showReplyError,
} from './reply-box.js';
import { state } from './state.js';

/** Empties the right side: no conversation on screen, so nothing typed or clicked can act on one. */
export function clearConversation(title) {
  read = null;
  keepDraft();
  keepNoteDraft();
  state.shownId = null;
  state.seenUntil = null;
  state.replyFailure = null;
  state.messages = [];
  state.cursor = null;
  say($('conversation-title'), title);
  $('conversation-meta').textContent = '';
  // None, and no word left about the earlier messages of the one cleared away.
  showMessages();
  $('reply-form').hidden = true;
  $('note-form').hidden = true;
  $('note-text').value = '';
  clearAssignment();
  $('reply-text').value = '';
  lockReply(false);
  showReplyError(null);
}

/** The shown conversation as last read ({ conversation, messages, now, optedOut }): its header, drawn again in another language. */
let read = null;

/** The header under the customer's name: the conversation's state, who handles it, its promise, its ack. */
function showHeader() {
  if (!read) return;
  const { conversation, messages, now, optedOut } = read;
  // Late while the customer still waits: said in the header as in the list, not left to the sum.
  const late = Boolean(conversation.replyBy) && Date.parse(conversation.replyBy) < now;
  $('conversation-meta').textContent = [
    t(conversation.status === 'open' ? 'conversation.open' : 'conversation.resolved'),
    t('conversation.channels', { channels: conversation.contact.channels.map(channelName).join(', ') }),
    // Their number (or address) beside the profile name that titles them: to call them back.
    conversation.contact.address !== contactName(conversation) ? conversation.contact.address : null,
    conversation.assignee
      ? t('assignee.to', { who: assigneeLabel(conversation.assignee) })
      : t('assignee.nobody'),
    // The promise while a customer waits, "no reply needed" while only messages nobody is to
    // answer came (replyBy is null then), nothing once nobody waits.
    conversation.replyBy || conversation.awaiting === 'no-reply-needed'
      ? late
        ? t('promise.overdue', { promise: promiseText(conversation, now) })
        : promiseText(conversation, now)
      : null,
    ackText(conversation.ack, ackProvider(messages)),
    optOutText(optedOut),
    conversation.replyFailure
      ? t('conversation.replyFailed', {
          why: replyFailureText(
            conversation.replyFailure,
            state.messages.find((message) => message.id === conversation.replyFailure.messageId)?.provider ??
              ackProvider(messages),
          ),
        })
      : null,
  ]
    .filter(Boolean)
    .join(' · ');
  $('conversation-meta').classList.toggle('overdue', late);
}

// Another language: the header and the messages again, from what was read (no request).
onLanguageChange(() => {
  showHeader();
  if (state.shownId) showMessages();
});
say($('conversation-title'), () => t('conversation.none'));

/** The provider of the conversation's acknowledgement (its error codes are that provider's). */
function ackProvider(messages) {
  return messages.findLast((message) => message.kind === 'ack' || message.direction === 'inbound')?.provider;
}

/**
 * Shows conversation `id` on the right (or brings it up to date); resolves to whether it is
 * shown. Another conversation than the one shown is cleared away first and shown only once it
 * is read: a failed read leaves nothing on screen to answer (found at stop 25: the previous
 * customer's conversation stayed, and the reply typed under it went to the one that failed).
 */
export async function openConversation(id, moveFocus) {
  if (id !== state.openId) {
    state.openId = id;
    history.replaceState(null, '', `#${id}`);
  }
  if (id !== state.shownId) clearConversation(() => t('conversation.opening'));
  const number = readBegins();
  const result = await api(`/api/conversations/${encodeURIComponent(id)}`).catch(offline);
  if (id !== state.openId) return false;
  // A read begun before the one shown, or before an action's answer: the screen is newer.
  if (outdated(id, number)) return id === state.shownId;
  if (!result?.ok) {
    // The poll tries again; until then the right side says so and offers nothing to act on.
    if (id !== state.shownId) say($('conversation-title'), () => t('conversation.openFailedTitle'));
    const why = () => (result ? apiErrorText(result) : t('conversation.unreachable'));
    setStatus(() => t('conversation.openFailed', { why: why() }), { about: 'conversation' });
    return false;
  }
  // Whichever conversation failed to open, the one chosen now is read: the failure is past.
  clearStatus('conversation');
  // The latest page (no query: the first page), merged into the messages shown.
  const { conversation, messages, nextCursor, optedOut } = result.data;
  const now = Date.now();
  const shown = await withLatest(id, { messages, nextCursor: nextCursor ?? null });
  if (id !== state.openId) return false;
  if (outdated(id, number)) return id === state.shownId;
  shownAt(id, number);
  const switched = id !== state.shownId;
  state.shownId = id;
  state.messages = shown.messages;
  state.cursor = shown.cursor;
  state.replyFailure = conversation.replyFailure ?? null;
  state.seenUntil = readableUntil(state.messages);
  say($('conversation-title'), () => contactName(conversation));
  read = { conversation, messages, now, optedOut };
  showHeader();
  showMessages();
  $('reply-form').hidden = false;
  $('note-form').hidden = false;
  showAssignment(conversation, switched);
  if (switched) {
    showKeptReply(id);
    showKeptNote(id);
  }
  $('add-note').disabled = state.busy.has(`note ${id}`);
  // The buttons say what this conversation's own requests allow, whatever runs in another.
  $('send').disabled = Boolean(state.unanswered.get(id)?.sending);
  $('resolve').disabled = conversation.status !== 'open' || state.resolving.has(id);
  $('reopen').hidden = conversation.status !== 'resolved';
  $('reopen').disabled = state.resolving.has(id);
  for (const item of $('conversations').querySelectorAll('[data-id]')) {
    if (item.dataset.id === id) item.setAttribute('aria-current', 'true');
    else item.removeAttribute('aria-current');
  }
  if (moveFocus) $('conversation-title').focus();
  return true;
}
