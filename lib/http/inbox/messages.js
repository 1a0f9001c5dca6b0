// The messages of the conversation on the right: how each one looks, and which are shown (the
// latest page, earlier ones on request, each poll merged in with no gap between them).
// conversation.js shows the conversation they belong to.

import { api, networkTrouble, offline } from './api.js';
import { formatDateTime, t } from './i18n.js';
import { channelName, mediaKind } from './names.js';
import { $, clearStatus, el, setStatus } from './page.js';
import { deliveryText, replyFailureText } from './reasons.js';
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
          types: message.media.map((m) => mediaKind(m)).join(', '),
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

/**
 * The earlier page whose read failed last ({ id, cursor }), or null: "Could not load the earlier
 * messages" is true while that page is still the one before those shown.
 */
let failedEarlier = null;

/** Draws the messages held (state.messages) and whether earlier ones remain. */
export function showMessages() {
  $('earlier').hidden = !state.cursor;
  $('messages').replaceChildren(...state.messages.map(renderMessage));
  // Another conversation, or a poll that started afresh past a gap: the page that failed is no
  // longer the one before these (found at stop 30: the failure stayed in the line, since the
  // try under way then returned early, before its clear).
  if (failedEarlier && (failedEarlier.id !== state.shownId || failedEarlier.cursor !== state.cursor)) {
    failedEarlier = null;
    clearStatus('earlier');
  }
}

/** How many pages a poll reads back to reach the messages shown before it shows a fresh start instead. */
const MAX_GAP_PAGES = 5;

/**
 * The messages to show after a poll read the latest page: merged into those shown. When more
 * came since the last poll than the page holds, the pages between are read too (a few at
 * most: past them, the latest page and its cursor start afresh), so no message is ever
 * missing between the shown and the latest.
 */
export async function withLatest(id, page) {
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
  if (!result?.ok) {
    failedEarlier = { id, cursor };
    return setStatus(() => t('conversation.earlierFailed'), { about: 'earlier' });
  }
  // The earlier page came: a failure to load it is past (found at stop 26: the line stayed).
  failedEarlier = null;
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
export function readableUntil(messages) {
  return messages.reduce((newest, message) => {
    const readable =
      message.recordedAt && message.recordedAt > message.createdAt ? message.recordedAt : message.createdAt;
    return newest === null || readable > newest ? readable : newest;
  }, null);
}
