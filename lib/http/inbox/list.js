// The list on the left: each view's listing, page by page, with the reply-by time and whether it is late.

import { api, networkTrouble } from './api.js';
import { assigneeLabel } from './assignee.js';
import { openConversation } from './conversation.js';
import { LIST, outdated, readBegins, shownAt } from './freshness.js';
import { onLanguageChange, t } from './i18n.js';
import { channelName, contactName } from './names.js';
import { $, clearStatus, el, promiseText, setStatus } from './page.js';
import { apiErrorText } from './reasons.js';
import { state } from './state.js';

/** The query of each view: the server filters and orders (awaiting/overdue come by replyBy). */
const VIEWS = {
  awaiting: '/api/conversations?awaiting=true&order=replyBy&limit=50',
  overdue: '/api/conversations?overdue=true&limit=50',
  noReply: '/api/conversations?noReplyNeeded=true&limit=50',
  open: '/api/conversations?status=open&limit=50',
  // Resolved ones (by an agent, or by themselves after the customer's thanks): found to reopen.
  resolved: '/api/conversations?status=resolved&limit=50',
  // The key's own person's (GET /api/me): the view is offered only when the key names one.
  mine: () =>
    `/api/conversations?status=open&assignee=${encodeURIComponent(state.me?.assignee ?? '')}&limit=50`,
};

/** What each view says when it lists nobody (empty.<view>): what is true of that view, not of another. */
const emptyText = (view) => t(`empty.${view}`);

/** The listing on screen, drawn again in another language: { view, items, marksOverdue, note }. */
let shown = null;

/**
 * The first `state.listPages` pages of a listing, each conversation once (one that moved up
 * between two pages' reads would come twice), and the cursor of the rest (null: no more).
 */
async function loadPages(url) {
  const byId = new Map();
  let cursor = null;
  let result;
  for (let page = 0; page < state.listPages; page++) {
    result = await api(cursor ? `${url}&cursor=${encodeURIComponent(cursor)}` : url);
    if (!result.ok) return result;
    for (const item of result.data.items) if (!byId.has(item.id)) byId.set(item.id, item);
    cursor = result.data.nextCursor ?? null;
    if (!cursor) break;
  }
  return { ...result, data: { items: [...byId.values()], nextCursor: cursor } };
}

async function loadList(view) {
  const url = VIEWS[view];
  const result = await loadPages(typeof url === 'function' ? url() : url);
  if (result.ok || (view !== 'awaiting' && view !== 'overdue') || result.error?.code !== 'INVALID_REQUEST') {
    return { ...result, note: null };
  }
  // An older server refuses awaiting/overdue/order (400): show every open conversation,
  // soonest reply-by first, and say that it is not the waiting list.
  const open = await loadPages(VIEWS.open);
  if (!open.ok) return { ...open, note: null };
  const items = [...open.data.items].sort(
    (a, b) => Date.parse(a.replyBy ?? '9999-12-31') - Date.parse(b.replyBy ?? '9999-12-31'),
  );
  return {
    ...open,
    data: { items, nextCursor: open.data.nextCursor },
    note: 'list.fallback',
  };
}

export async function refreshList() {
  const view = $('view').value;
  const number = readBegins();
  const result = await loadList(view);
  // Begun before the listing shown or an action's answer, or for a view since left: past news.
  if (outdated(LIST, number) || view !== $('view').value) return;
  if (!result.ok) {
    return setStatus(() => t('list.failed', { why: apiErrorText(result) }), { about: 'list' });
  }
  shownAt(LIST, number);
  clearStatus('list');
  // Only the waiting views know the customer still waits, so only they mark lateness.
  const marksOverdue = (view === 'awaiting' || view === 'overdue') && !result.note;
  shown = { view, items: result.data.items, marksOverdue, note: result.note };
  showListing();
  // A page holds 50: say when there are more, rather than let the list look complete.
  $('more').hidden = !result.data.nextCursor;
}

$('more').addEventListener('click', () => {
  state.listPages += 1;
  refreshList().catch(networkTrouble);
});

/** The listing in the page's language: its note, how many it holds, each conversation, or why none. */
function showListing() {
  if (!shown) return;
  const { view, items, marksOverdue, note } = shown;
  $('list-note').hidden = !note;
  $('list-note').textContent = note ? t(note) : '';
  $('list-count').hidden = items.length === 0;
  $('list-count').textContent = t('list.count', { count: items.length });
  $('list-empty').textContent = emptyText(view);
  renderList(items, marksOverdue);
}

onLanguageChange(showListing);

function renderList(items, marksOverdue) {
  const list = $('conversations');
  const focused = document.activeElement?.dataset?.id;
  const now = Date.now();
  list.replaceChildren(
    ...items.map((conversation) => {
      const overdue = marksOverdue && conversation.replyBy && Date.parse(conversation.replyBy) < now;
      const button = el(
        'button',
        { type: 'button', class: 'conversation-item', 'data-id': conversation.id },
        el('span', { class: 'who' }, contactName(conversation)),
        el('span', { class: 'channel' }, channelName(conversation.channel)),
        el('span', { class: 'reply-by' }, promiseText(conversation, now)),
        conversation.assignee
          ? el('span', { class: 'assignee' }, t('assignee.to', { who: assigneeLabel(conversation.assignee) }))
          : null,
        overdue ? el('span', { class: 'badge overdue' }, t('list.overdue')) : null,
      );
      if (conversation.id === state.openId) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => openConversation(conversation.id, true).catch(networkTrouble));
      return el('li', { class: overdue ? 'is-overdue' : '' }, button);
    }),
  );
  $('list-empty').hidden = items.length > 0;
  // Polling rebuilds the list: keep the keyboard focus where it was.
  if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
}

$('view').addEventListener('change', () => {
  state.listPages = 1;
  refreshList().catch(networkTrouble);
});

/** Takes the list off the screen (the key is gone). */
export function clearList() {
  shown = null;
  $('conversations').replaceChildren();
  $('list-count').hidden = true;
  $('more').hidden = true;
  state.listPages = 1;
}
