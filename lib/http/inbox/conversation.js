// The conversation on the right: its header, its messages (the latest page, earlier ones on
// request, each poll merged in), and which conversation is shown at all.

import { api, networkTrouble, offline } from './api.js';
import { assigneeLabel, clearAssignment, showAssignment } from './assignee.js';
import { formatDateTime, onLanguageChange, say, t } from './i18n.js';
import { channelName, mediaKind } from './names.js';
import { $, clearStatus, el, promiseText, setStatus } from './page.js';
import { ackText, apiErrorText, deliveryText, replyFailureText } from './reasons.js';
import {
  keepDraft,
  keepNoteDraft,
  lockReply,
  showKeptNote,
  showKeptReply,
  showReplyError,
} from './reply-box.js';
import { state } from './state.js';

/** How each message looks: a label for every kind, so colour is never the only cue. */
function messageLabel(message) {
  if (message.kind === 'ack') return t('message.ack');
  if (message.kind === 'notice') return t('message.notice');
  // After WhatsApp's 24-hour window a reply goes inside an approved template's own words.
  if (message.kind === 'reply' && message.template) {
    const { name, language } = message.template;
    return t('message.template', { template: `${name}${language ? ` (${language})` : ''}` });
  }
  if (message.kind === 'reply') return t('message.reply');
  // Written by someone of the team, for the team: said so, since a note sits among the replies.
  if (message.kind === 'note') return t('message.note', { from: message.from });
  if (message.kind === 'voicemail') return t('message.voicemail');
  if (message.kind === 'call') return t('message.call');
  return t(message.direction === 'inbound' ? 'message.inbound' : 'message.outbound');
}

function messageClass(message) {
  if (message.kind === 'message') return `message ${message.direction}`;
  const inbound = message.kind === 'voicemail' || message.kind === 'call';
  return `message ${inbound ? 'inbound' : 'outbound'} kind-${message.kind}`;
}

function renderMessage(message) {
  const media = message.media?.length
    ? el(
        'p',
        { class: 'media' },
        t('message.attachments', {
          count: message.media.length,
          types: message.media.map((m) => mediaKind(m.contentType)).join(', '),
        }),
      )
    : null;
  // The provider's error in words, so the agent knows why a message did not arrive.
  const delivery = deliveryText(message);
  // An agent's reply the customer never got says so, and why, where the agent reads it.
  const failed =
    state.replyFailure?.messageId === message.id
      ? el(
          'p',
          { class: 'error' },
          t('message.notReceived', { why: replyFailureText(state.replyFailure, message.provider) }),
        )
      : null;
  return el(
    'li',
    { class: messageClass(message), 'data-kind': message.kind },
    el(
      'p',
      { class: 'message-head' },
      el('strong', {}, messageLabel(message)),
      ` · ${channelName(message.channel)} · `,
      el('time', { datetime: message.createdAt }, formatDateTime(new Date(message.createdAt))),
      delivery ? ` · ${delivery}` : null,
    ),
    el('p', { class: 'text' }, message.text ?? ''),
    media,
    failed,
  );
}

/** The API's order of a conversation's messages (its cursor's): receipt time, then id. */
const orderKey = (message) => `${message.createdAt}#${message.id}`;

/** Messages of both lists, each once (the copy in `newer` wins: a delivery status moved on), in order. */
function merged(shown, newer) {
  const byId = new Map(shown.map((message) => [message.id, message]));
  for (const message of newer) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) =>
    orderKey(a) < orderKey(b) ? -1 : orderKey(a) > orderKey(b) ? 1 : 0,
  );
}

function showMessages() {
  $('earlier').hidden = !state.cursor;
  $('messages').replaceChildren(...state.messages.map(renderMessage));
}

/** How many pages a poll reads back to reach the messages shown before it shows a fresh start instead. */
const MAX_GAP_PAGES = 5;

/**
 * The messages to show after a poll read the latest page: merged into those shown. When more
 * came since the last poll than the page holds, the pages between are read too (a few at
 * most: past them, the latest page and its cursor start afresh), so no message is ever
 * missing between the shown and the latest.
 */
async function withLatest(id, page) {
  const shownIds = new Set(state.messages.map((message) => message.id));
  const reaches = (messages, cursor) => !cursor || messages.some((message) => shownIds.has(message.id));
  if (state.messages.length === 0) return { messages: page.messages, cursor: page.nextCursor };
  if (reaches(page.messages, page.nextCursor)) {
    return { messages: merged(state.messages, page.messages), cursor: page.nextCursor ? state.cursor : null };
  }
  let messages = page.messages;
  let cursor = page.nextCursor;
  for (let n = 0; n < MAX_GAP_PAGES; n++) {
    const result = await api(
      `/api/conversations/${encodeURIComponent(id)}?cursor=${encodeURIComponent(cursor)}`,
    ).catch(offline);
    // Shown as they were until the next poll: never a gap, never a message taken away.
    if (!result?.ok) return { messages: state.messages, cursor: state.cursor };
    messages = [...result.data.messages, ...messages];
    cursor = result.data.nextCursor ?? null;
    if (reaches(result.data.messages, cursor)) {
      return { messages: merged(state.messages, messages), cursor: cursor ? state.cursor : null };
    }
  }
  return { messages, cursor };
}

// A long conversation comes a page at a time, the latest first: older pages on request.
$('earlier').addEventListener('click', () => showEarlier().catch(networkTrouble));

async function showEarlier() {
  const id = state.shownId;
  const cursor = state.cursor;
  if (!id || !cursor) return;
  const result = await api(
    `/api/conversations/${encodeURIComponent(id)}?cursor=${encodeURIComponent(cursor)}`,
  ).catch(offline);
  // Another conversation, or a poll that started afresh past a gap: this page is not the one before.
  if (id !== state.shownId || cursor !== state.cursor) return;
  if (!result?.ok) return setStatus(() => t('conversation.earlierFailed'), { about: 'earlier' });
  // The earlier page came: a failure to load it is past (found at stop 26: the line stayed).
  clearStatus('earlier');
  state.messages = merged(state.messages, result.data.messages);
  state.cursor = result.data.nextCursor ?? null;
  state.seenUntil = readableUntil(state.messages);
  showMessages();
}

/**
 * The newest time any message on screen became readable: what a resolve says the agent saw. A
 * message recorded late (recordedAt) was readable only from then, though received earlier, and
 * it is listed by its receipt, perhaps on an earlier page.
 */
function readableUntil(messages) {
  return messages.reduce((newest, message) => {
    const readable =
      message.recordedAt && message.recordedAt > message.createdAt ? message.recordedAt : message.createdAt;
    return newest === null || readable > newest ? readable : newest;
  }, null);
}

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
  $('messages').replaceChildren();
  $('earlier').hidden = true;
  $('reply-form').hidden = true;
  $('note-form').hidden = true;
  $('note-text').value = '';
  clearAssignment();
  $('reply-text').value = '';
  lockReply(false);
  showReplyError(null);
}

/** The shown conversation as last read ({ conversation, messages, now }): its header, drawn again in another language. */
let read = null;

/** The header under the customer's name: the conversation's state, who handles it, its promise, its ack. */
function showHeader() {
  if (!read) return;
  const { conversation, messages, now } = read;
  // Late while the customer still waits: said in the header as in the list, not left to the sum.
  const late = Boolean(conversation.replyBy) && Date.parse(conversation.replyBy) < now;
  $('conversation-meta').textContent = [
    t(conversation.status === 'open' ? 'conversation.open' : 'conversation.resolved'),
    t('conversation.channels', { channels: conversation.contact.channels.map(channelName).join(', ') }),
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
  const result = await api(`/api/conversations/${encodeURIComponent(id)}`).catch(offline);
  if (id !== state.openId) return false;
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
  const { conversation, messages, nextCursor } = result.data;
  const now = Date.now();
  const shown = await withLatest(id, { messages, nextCursor: nextCursor ?? null });
  if (id !== state.openId) return false;
  const switched = id !== state.shownId;
  state.shownId = id;
  state.messages = shown.messages;
  state.cursor = shown.cursor;
  state.replyFailure = conversation.replyFailure ?? null;
  state.seenUntil = readableUntil(state.messages);
  say($('conversation-title'), conversation.contact.name ?? conversation.contact.key);
  read = { conversation, messages, now };
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
  for (const item of $('conversations').querySelectorAll('[data-id]')) {
    if (item.dataset.id === id) item.setAttribute('aria-current', 'true');
    else item.removeAttribute('aria-current');
  }
  if (moveFocus) $('conversation-title').focus();
  return true;
}
