// The reference inbox: everything here goes through Switchboard's public agents' API
// (README, "The agents' API") with the key the user pastes. No framework and no build step,
// so a downstream tool can read it as an example. Customer text only ever reaches the page
// through textContent (see el()), never as HTML.

// How long after a reply the service-level chart is read again (the stats feed's lag).
const STATS_LAG_MS = 3_000;
const POLL_MS = 5_000;
const KEY_STORAGE = 'switchboard.apiKey';

const $ = (id) => document.getElementById(id);
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

const state = {
  // sessionStorage: the key lives as long as this tab, and is never sent anywhere but /api.
  apiKey: sessionStorage.getItem(KEY_STORAGE),
  /** The conversation on the right, or null. */
  openId: null,
  /** The receipt time of the newest message shown on the right: a resolve says what it saw. */
  seenUntil: null,
  /**
   * The messages shown on the right, oldest first, with no gap between them: each poll merges
   * the latest page in (by id: a message once shown stays, a newer copy of it replaces it), and
   * "Show earlier messages" adds the page before the oldest.
   */
  messages: [],
  /** The cursor of the messages older than those shown (null: there are none). */
  cursor: null,
  /** A reply being sent keeps its Idempotency-Key until it gets an answer: a retry is then safe. */
  draft: { text: null, key: null },
  busy: false,
  refreshing: false,
};

/** Creates an element; children are nodes or strings, and strings become text, never markup. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; this works on any host). */
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function setStatus(text) {
  $('status').textContent = text;
}

/** For promises started by a click or a change: a failed network is reported, not thrown away. */
function networkTrouble() {
  setStatus('The server cannot be reached; retrying.');
}

// --- The API ---------------------------------------------------------------------------

/**
 * Calls the API with the bearer key. Resolves to { ok, status, data, error } for every HTTP
 * answer (errors are JSON: { error: { code, message } }); rejects only when the network fails.
 */
async function api(path, { method = 'GET', body, idempotencyKey } = {}) {
  const headers = { authorization: `Bearer ${state.apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (response.status === 401) forgetKey('The API refused this key: paste a valid one.');
  return { ok: response.ok, status: response.status, data, error: data?.error ?? null };
}

// --- The key ---------------------------------------------------------------------------

function showKeyState() {
  $('key-form').hidden = Boolean(state.apiKey);
  $('key-set').hidden = !state.apiKey;
}

function forgetKey(message) {
  state.apiKey = null;
  state.openId = null;
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState();
  // Without a key nothing customer-related stays on screen.
  $('conversations').replaceChildren();
  $('messages').replaceChildren();
  $('earlier').hidden = true;
  $('conversation-title').textContent = 'No conversation open';
  $('conversation-meta').textContent = '';
  $('reply-form').hidden = true;
  setStatus(message);
  $('api-key').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.apiKey = $('api-key').value.trim();
  $('api-key').value = '';
  sessionStorage.setItem(KEY_STORAGE, state.apiKey);
  showKeyState();
  setStatus('Loading…');
  void refreshAll();
});
$('forget-key').addEventListener('click', () => forgetKey('Key forgotten.'));

// --- The list --------------------------------------------------------------------------

/** The query of each view: the server filters and orders (awaiting/overdue come by replyBy). */
const VIEWS = {
  awaiting: '/api/conversations?awaiting=true&order=replyBy&limit=50',
  overdue: '/api/conversations?overdue=true&limit=50',
  noReply: '/api/conversations?noReplyNeeded=true&limit=50',
  open: '/api/conversations?status=open&limit=50',
};

async function loadList(view) {
  const result = await api(VIEWS[view]);
  if (result.ok || (view !== 'awaiting' && view !== 'overdue') || result.error?.code !== 'INVALID_REQUEST') {
    return { ...result, note: null };
  }
  // An older server refuses awaiting/overdue/order (400): show every open conversation,
  // soonest reply-by first, and say that it is not the waiting list.
  const open = await api(VIEWS.open);
  if (!open.ok) return { ...open, note: null };
  const items = [...open.data.items].sort(
    (a, b) => Date.parse(a.replyBy ?? '9999-12-31') - Date.parse(b.replyBy ?? '9999-12-31'),
  );
  return {
    ...open,
    data: { items },
    note: 'This server cannot filter waiting conversations yet: showing every open one, soonest reply-by first.',
  };
}

async function refreshList() {
  const view = $('view').value;
  const result = await loadList(view);
  if (!result.ok) return setStatus(`Could not list conversations: ${result.error?.message ?? result.status}`);
  $('list-note').hidden = !result.note;
  $('list-note').textContent = result.note ?? '';
  // Only the waiting views know the customer still waits, so only they mark lateness.
  const marksOverdue = (view === 'awaiting' || view === 'overdue') && !result.note;
  renderList(result.data.items, marksOverdue);
}

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
        el('span', { class: 'who' }, conversation.contact.name ?? conversation.contact.key),
        el('span', { class: 'channel' }, conversation.channel),
        el('span', { class: 'reply-by' }, promiseText(conversation, now)),
        overdue ? el('span', { class: 'badge overdue' }, 'Overdue') : null,
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

/** An episode only an out-of-office reply, a list post or a keyword began promised nobody anything. */
function promiseText(conversation, now) {
  return conversation.awaiting === 'no-reply-needed'
    ? 'no reply needed'
    : replyByText(conversation.replyBy, now);
}

function replyByText(replyBy, now) {
  if (!replyBy) return 'no promise';
  const minutes = Math.round((Date.parse(replyBy) - now) / 60_000);
  const near = Math.abs(minutes) < 90 ? relative.format(minutes, 'minute') : null;
  return `reply by ${dateTime.format(new Date(replyBy))}${near ? ` (${near})` : ''}`;
}

$('view').addEventListener('change', () => refreshList().catch(networkTrouble));

// --- One conversation ------------------------------------------------------------------

/** How each message looks: a label for every kind, so colour is never the only cue. */
function messageLabel(message) {
  if (message.kind === 'ack') return 'Automatic acknowledgement';
  if (message.kind === 'notice') return 'Late notice';
  if (message.kind === 'reply') return 'Reply';
  if (message.kind === 'note') return 'Internal note';
  if (message.kind === 'voicemail') return 'Voicemail';
  if (message.kind === 'call') return 'Call';
  return message.direction === 'inbound' ? 'Customer' : 'Sent';
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
        `${message.media.length} attachment(s): ${message.media.map((m) => m.contentType).join(', ')}`,
      )
    : null;
  const delivery = message.delivery?.status ? ` · ${message.delivery.status}` : '';
  return el(
    'li',
    { class: messageClass(message), 'data-kind': message.kind },
    el(
      'p',
      { class: 'message-head' },
      el('strong', {}, messageLabel(message)),
      ` · ${message.channel} · `,
      el('time', { datetime: message.createdAt }, dateTime.format(new Date(message.createdAt))),
      delivery,
    ),
    el('p', { class: 'text' }, message.text ?? ''),
    media,
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
    ).catch(() => null);
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
$('earlier').addEventListener('click', async () => {
  const id = state.openId;
  const cursor = state.cursor;
  if (!id || !cursor) return;
  const result = await api(
    `/api/conversations/${encodeURIComponent(id)}?cursor=${encodeURIComponent(cursor)}`,
  ).catch(() => null);
  // Another conversation, or a poll that started afresh past a gap: this page is not the one before.
  if (id !== state.openId || cursor !== state.cursor) return;
  if (!result?.ok) return setStatus('Could not load the earlier messages; try again.');
  state.messages = merged(state.messages, result.data.messages);
  state.cursor = result.data.nextCursor ?? null;
  showMessages();
});

async function openConversation(id, moveFocus) {
  if (id !== state.openId) {
    state.openId = id;
    state.messages = [];
    state.cursor = null;
    state.draft = { text: null, key: null };
    $('reply-text').value = '';
    showReplyError(null);
    history.replaceState(null, '', `#${id}`);
  }
  const result = await api(`/api/conversations/${encodeURIComponent(id)}`);
  if (!result.ok)
    return setStatus(`Could not open the conversation: ${result.error?.message ?? result.status}`);
  // The latest page (no query: the first page), merged into the messages shown.
  const { conversation, messages, nextCursor } = result.data;
  if (id !== state.openId) return;
  const shown = await withLatest(id, { messages, nextCursor: nextCursor ?? null });
  if (id !== state.openId) return;
  state.messages = shown.messages;
  state.cursor = shown.cursor;
  state.seenUntil = messages.reduce(
    (newest, message) => (newest === null || message.createdAt > newest ? message.createdAt : newest),
    null,
  );
  $('conversation-title').textContent = conversation.contact.name ?? conversation.contact.key;
  $('conversation-meta').textContent = [
    conversation.status === 'open' ? 'Open' : 'Resolved',
    `channels: ${conversation.contact.channels.join(', ')}`,
    conversation.replyBy ? promiseText(conversation, Date.now()) : null,
    conversation.ack ? `acknowledgement ${conversation.ack.state}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  showMessages();
  $('reply-form').hidden = false;
  $('resolve').disabled = conversation.status !== 'open';
  for (const item of $('conversations').querySelectorAll('[data-id]')) {
    if (item.dataset.id === id) item.setAttribute('aria-current', 'true');
    else item.removeAttribute('aria-current');
  }
  if (moveFocus) $('conversation-title').focus();
}

// --- Acting: reply and resolve ---------------------------------------------------------

function showReplyError(text) {
  $('reply-error').hidden = !text;
  $('reply-error').textContent = text ?? '';
}

/** What an agent should read for each refusal (codes from the API's error bodies). */
function refusalText(what, result) {
  const code = result.error?.code;
  if (code === 'OUTSIDE_WINDOW') {
    return `${what}: ${result.error.message}. Answer on another channel, or send a template from your provider's console.`;
  }
  if (code === 'FORBIDDEN') return `${what}: this key may read but not act (it lacks the "reply" scope).`;
  if (result.error?.message) return `${what} (${code ?? result.status}): ${result.error.message}`;
  return `${what}: the server answered ${result.status}.`;
}

$('reply-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('reply-text').value.trim();
  if (!text || !state.openId || state.busy) return;
  // Same text as the unanswered attempt: same key, so the server sends it at most once.
  if (text !== state.draft.text) state.draft = { text, key: newIdempotencyKey() };
  state.busy = true;
  $('send').disabled = true;
  showReplyError(null);
  setStatus('Sending…');
  const result = await api(`/api/conversations/${encodeURIComponent(state.openId)}/replies`, {
    method: 'POST',
    body: { text },
    idempotencyKey: state.draft.key,
  }).catch(() => null);
  state.busy = false;
  $('send').disabled = false;
  if (!result) {
    setStatus('');
    return showReplyError(
      'The network failed: the reply may or may not have gone. Press Send again: it is safe.',
    );
  }
  // A server error is no answer (the API keeps none for the key, and the reply may have gone
  // before it failed), nor is "still running": the same text keeps its key, so Send again is
  // safe. Any other answer is final for this key; the next attempt is a new request.
  if (result.status >= 500) {
    setStatus('');
    return showReplyError(
      `The server failed (${result.error?.message ?? result.status}): the reply may or may not have gone. Press Send again: it is safe.`,
    );
  }
  if (result.error?.code !== 'REQUEST_IN_PROGRESS') state.draft = { text: null, key: null };
  // A resolved conversation whose customer wrote again since: the reply belongs where they wait.
  const openId =
    result.error?.code === 'CONTACT_HAS_OPEN_CONVERSATION' && result.error.details?.conversationId;
  if (openId) {
    setStatus('');
    await openConversation(openId, false);
    $('reply-text').value = text;
    return showReplyError(
      'Not sent: this conversation is resolved and the customer has written again since. Their open conversation is shown now, with your reply kept: read it, then press Send to answer there.',
    );
  }
  if (!result.ok) {
    setStatus('');
    return showReplyError(refusalText('Not sent', result));
  }
  $('reply-text').value = '';
  setStatus('Reply sent.');
  await afterChange();
});

$('resolve').addEventListener('click', async () => {
  if (!state.openId) return;
  const result = await api(`/api/conversations/${encodeURIComponent(state.openId)}/resolve`, {
    method: 'POST',
    // Not resolved if the customer wrote after what is on the screen.
    body: state.seenUntil ? { seenUntil: state.seenUntil } : {},
    idempotencyKey: newIdempotencyKey(),
  }).catch(() => null);
  if (result?.error?.code === 'CUSTOMER_WROTE') {
    await openConversation(state.openId, false);
    return showReplyError(
      'Not resolved: the customer wrote again while you were reading. Their message is below.',
    );
  }
  if (!result?.ok) {
    return showReplyError(result ? refusalText('Not resolved', result) : 'The network failed: try again.');
  }
  setStatus('Conversation resolved.');
  await afterChange();
});

/** After acting: the conversation as it is now, the list without it if nobody waits, new figures. */
async function afterChange() {
  await Promise.all([openConversation(state.openId, false), refreshList(), refreshServiceLevel()]).catch(
    networkTrouble,
  );
  // The stats are counted from the events a moment after the reply is stored (on AWS a rule and
  // a queue, locally a feed every second): look again once they are in.
  setTimeout(() => refreshServiceLevel().catch(() => undefined), STATS_LAG_MS);
}

// --- Service level ---------------------------------------------------------------------

const DAY_MS = 86_400_000;
let chart = null;

/** A local date as YYYY-MM-DD (toISOString would shift it to UTC). */
function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

async function refreshServiceLevel() {
  const to = new Date();
  const from = new Date(to.getTime() - 13 * DAY_MS);
  const result = await api(`/api/service-level?from=${isoDate(from)}&to=${isoDate(to)}`).catch(() => null);
  const days = result?.ok ? result.data.byDay : null;
  $('chart').hidden = !days;
  $('chart-details').hidden = !days;
  $('chart-note').hidden = Boolean(days);
  if (!days) {
    $('chart-note').textContent =
      result?.status === 404
        ? 'This server has no service-level report (/api/service-level) yet.'
        : `The service level is unavailable (${result?.error?.message ?? 'network error'}).`;
    return;
  }
  drawChart(days);
  $('chart-rows').replaceChildren(
    ...days.map((day) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, day.date),
        el('td', {}, String(day.conversations)),
        el('td', {}, String(day.answered)),
        el('td', {}, percentText(day.promisesKept.share)),
        el('td', {}, hoursText(day.firstReplyWorkingHours.median)),
      ),
    ),
  );
}

function percentText(share) {
  return share === null ? '–' : `${Math.round(share * 100)} %`;
}

/** Working hours as people say them; the report measures in quarter hours. */
function hoursText(hours) {
  if (hours === null || hours === undefined) return '–';
  return hours < 1 ? `${Math.round(hours * 60)} min` : `${hours.toFixed(1)} h`;
}

/** Two series on their own scales: promises kept (%) on the left, median first reply (h) on the right. */
function drawChart(days) {
  const data = [
    // uPlot's x values are Unix seconds; local midnight puts each day on its own tick.
    days.map((day) => Date.parse(`${day.date}T00:00:00`) / 1000),
    // null (nothing to measure that day) leaves a gap rather than a misleading zero.
    days.map((day) => (day.promisesKept.share === null ? null : day.promisesKept.share * 100)),
    days.map((day) => day.firstReplyWorkingHours.median),
  ];
  if (chart) return chart.setData(data);
  chart = new uPlot(
    {
      width: Math.max(320, $('chart').clientWidth),
      height: 240,
      scales: { '%': { range: [0, 100] }, h: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
      series: [
        {},
        {
          label: 'Promises kept',
          scale: '%',
          stroke: '#1b7f3b',
          width: 2,
          points: { show: true },
          value: (_u, v) => (v === null ? '–' : `${Math.round(v)} %`),
        },
        {
          label: 'Median first reply',
          scale: 'h',
          stroke: '#1f5fbf',
          width: 2,
          dash: [6, 4],
          points: { show: true },
          value: (_u, v) => hoursText(v),
        },
      ],
      axes: [
        {},
        { scale: '%', size: 56, values: (_u, ticks) => ticks.map((v) => `${v} %`) },
        {
          scale: 'h',
          side: 1,
          size: 56,
          grid: { show: false },
          values: (_u, ticks) => ticks.map((v) => `${v} h`),
        },
      ],
    },
    data,
    $('chart'),
  );
}

window.addEventListener('resize', () =>
  chart?.setSize({ width: Math.max(320, $('chart').clientWidth), height: 240 }),
);

// --- Polling ---------------------------------------------------------------------------

async function refreshAll() {
  // A slow server must not pile up polls.
  if (!state.apiKey || state.refreshing) return;
  state.refreshing = true;
  try {
    await refreshList();
    if (state.openId) await openConversation(state.openId, false);
    if (!chart && $('chart-note').hidden) await refreshServiceLevel();
    if (state.apiKey && $('status').textContent === 'Loading…') setStatus('');
  } catch {
    networkTrouble();
  } finally {
    state.refreshing = false;
  }
}

// Every few seconds, unless the tab is hidden; the chart once a minute.
setInterval(() => document.hidden || refreshAll(), POLL_MS);
setInterval(() => document.hidden || !state.apiKey || refreshServiceLevel(), 60_000);

showKeyState();
if (!state.apiKey) setStatus('Paste an API key (AGENT_API_TOKEN, or a key with the read and reply scopes).');
const CONVERSATION_ID = /^conv_[0-9a-z]{26}$/;
const fromHash = location.hash.slice(1);
if (CONVERSATION_ID.test(fromHash)) state.openId = fromHash;
void refreshAll();
// A link to another conversation followed in this tab (or Back) opens it.
window.addEventListener('hashchange', () => {
  const id = location.hash.slice(1);
  if (state.apiKey && CONVERSATION_ID.test(id) && id !== state.openId) void openConversation(id, true);
});
