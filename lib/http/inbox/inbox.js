// The reference inbox: everything here goes through Switchboard's public agents' API
// (README, "The agents' API") with the key the user pastes. No framework and no build step,
// so a downstream tool can read it as an example. Customer text only ever reaches the page
// through textContent (see el()), never as HTML.

import { ackText, deliveryText, replyFailureText } from './reasons.js';

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
  /** The conversation the agent chose (the address's #id): what each poll reads, or null. */
  openId: null,
  /**
   * The conversation on the right (title, messages, reply box), or null while the chosen one is
   * not read yet: reply and resolve act on this one, never on the chosen one.
   */
  shownId: null,
  /** The receipt time of the newest message shown on the right: a resolve says what it saw. */
  seenUntil: null,
  /** The shown conversation's replyFailure (an agent's reply the customer did not get), or null. */
  replyFailure: null,
  /**
   * The messages shown on the right, oldest first, with no gap between them: each poll merges
   * the latest page in (by id: a message once shown stays, a newer copy of it replaces it), and
   * "Show earlier messages" adds the page before the oldest.
   */
  messages: [],
  /** The cursor of the messages older than those shown (null: there are none). */
  cursor: null,
  /**
   * Replies sent without an answer yet (the network failed, a 5xx, still running), by
   * conversation id: { text, key, keyTag, sending }. Until one is answered its text is locked
   * and Send sends it again under the same Idempotency-Key, so it reaches the customer once at
   * most, whatever the agent does meanwhile (an edited text would be a second reply if the first
   * went). They are the agent's text, not the key's data: a key forgotten and pasted again finds
   * them (found at stop 25: forgetting the key mid-send dropped the reply, and the agent's second
   * try went under a new Idempotency-Key, twice to the customer). `keyTag` tells the API key it
   * went under (the API keeps Idempotency-Keys per API key); `sending`, that its request runs.
   */
  unanswered: new Map(),
  /**
   * Replies refused in a resolved conversation (409 CONTACT_HAS_OPEN_CONVERSATION), by the id of
   * the customer's open one they move to: the text, kept until that conversation's reply box
   * shows it (found at stop 25: a failed read of the open one lost it), and held back while the
   * box holds that conversation's own unanswered reply, which Send must send first.
   */
  moved: new Map(),
  /**
   * What the agent typed and has not sent, by `${keyTag} ${conversation id}`: the box gets it back
   * when that conversation is shown again (found at stop 26: a look at another conversation lost
   * the half-typed reply). In this tab's memory only, never in storage, and dropped with the key:
   * customers' words must not outlive the key on a shared computer.
   */
  drafts: new Map(),
  /**
   * The conversations whose resolve runs: pressed again meanwhile it is not sent twice. What is in
   * flight is per conversation (a reply's is `unanswered`'s `sending`), never the page's: one
   * slow answer must not lock another conversation's buttons (found at stop 26: one flag for the
   * page disabled Send everywhere while any reply ran).
   */
  resolving: new Set(),
  /** How many pages of the list are shown: "Show more conversations" adds one, each poll reads them all. */
  listPages: 1,
  /** The signal of the session whose poll is running, or null: a slow server must not pile up polls. */
  refreshing: null,
};

/**
 * The requests made with the current key. Forgetting or replacing the key aborts them, so no
 * answer to a request made with the old key reaches the screen (found at stop 25: a poll under
 * way put the list back after "Forget key").
 */
let session = new AbortController();

function endSession() {
  session.abort();
  session = new AbortController();
}

/** Whether `error` is a request the end of its session aborted: nothing to show, nothing to retry. */
const aborted = (error) => error?.name === 'AbortError';

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
function networkTrouble(error) {
  if (!aborted(error)) setStatus('The server cannot be reached; retrying.');
}

/** For api() calls whose caller handles a failed network itself: null, unless the key is gone. */
function offline(error) {
  if (aborted(error)) throw error;
  return null;
}

// --- The API ---------------------------------------------------------------------------

/**
 * Calls the API with the bearer key. Resolves to { ok, status, data, error } for every HTTP
 * answer (errors are JSON: { error: { code, message } }); rejects when the network fails, and
 * with an AbortError when the key was forgotten or replaced before the answer came.
 */
async function api(path, { method = 'GET', body, idempotencyKey } = {}) {
  const { signal } = session;
  const headers = { authorization: `Bearer ${state.apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const data = await response.json().catch(() => null);
  signal.throwIfAborted();
  if (response.status === 401) forgetKey('The API refused this key: paste a valid one.');
  signal.throwIfAborted();
  return { ok: response.ok, status: response.status, data, error: data?.error ?? null };
}

// --- The key ---------------------------------------------------------------------------

function showKeyState() {
  $('key-form').hidden = Boolean(state.apiKey);
  $('key-set').hidden = !state.apiKey;
}

/**
 * Tells API keys apart in this tab's memory once the key itself is forgotten: a 53-bit hash
 * (cyrb53), never stored or sent. Not crypto.subtle: like crypto.randomUUID it needs a secure
 * context, and this page also runs on plain-http hosts.
 */
function keyTag(key) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (2097151 & h2) * 4294967296 + (h1 >>> 0);
}

function forgetKey(message) {
  endSession();
  state.apiKey = null;
  state.openId = null;
  // The unanswered replies stay (off screen): the same key pasted again retries them safely.
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState();
  // Without a key nothing customer-related stays on screen, nor in memory as a draft.
  $('conversations').replaceChildren();
  $('more').hidden = true;
  state.listPages = 1;
  clearConversation('No conversation open');
  state.drafts.clear();
  setStatus(message);
  $('api-key').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  endSession();
  state.apiKey = $('api-key').value.trim();
  $('api-key').value = '';
  sessionStorage.setItem(KEY_STORAGE, state.apiKey);
  showKeyState();
  setStatus('Loading…');
  void refreshAll();
});
$('forget-key').addEventListener('click', () =>
  forgetKey(
    state.unanswered.size > 0
      ? 'Key forgotten. A reply you sent has had no answer yet: paste the same key again to finish it safely (with another key it could reach the customer twice).'
      : 'Key forgotten.',
  ),
);

// --- The list --------------------------------------------------------------------------

/** The query of each view: the server filters and orders (awaiting/overdue come by replyBy). */
const VIEWS = {
  awaiting: '/api/conversations?awaiting=true&order=replyBy&limit=50',
  overdue: '/api/conversations?overdue=true&limit=50',
  noReply: '/api/conversations?noReplyNeeded=true&limit=50',
  open: '/api/conversations?status=open&limit=50',
};

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
  const result = await loadPages(VIEWS[view]);
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
  // A page holds 50: say when there are more, rather than let the list look complete.
  $('more').hidden = !result.data.nextCursor;
}

$('more').addEventListener('click', () => {
  state.listPages += 1;
  refreshList().catch(networkTrouble);
});

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

$('view').addEventListener('change', () => {
  state.listPages = 1;
  refreshList().catch(networkTrouble);
});

// --- One conversation ------------------------------------------------------------------

/** How each message looks: a label for every kind, so colour is never the only cue. */
function messageLabel(message) {
  if (message.kind === 'ack') return 'Automatic acknowledgement';
  if (message.kind === 'notice') return 'Late notice';
  // After WhatsApp's 24-hour window a reply goes inside an approved template's own words.
  if (message.kind === 'reply' && message.template) {
    const { name, language } = message.template;
    return `Reply, sent as the WhatsApp template ${name}${language ? ` (${language})` : ''} (after the 24-hour window)`;
  }
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
  // The provider's error in words, so the agent knows why a message did not arrive.
  const delivery = deliveryText(message);
  // An agent's reply the customer never got says so, and why, where the agent reads it.
  const failed =
    state.replyFailure?.messageId === message.id
      ? el(
          'p',
          { class: 'error' },
          `The customer did not get this reply: it ${replyFailureText(state.replyFailure, message.provider)}. Answer them another way.`,
        )
      : null;
  return el(
    'li',
    { class: messageClass(message), 'data-kind': message.kind },
    el(
      'p',
      { class: 'message-head' },
      el('strong', {}, messageLabel(message)),
      ` · ${message.channel} · `,
      el('time', { datetime: message.createdAt }, dateTime.format(new Date(message.createdAt))),
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
  if (!result?.ok) return setStatus('Could not load the earlier messages; try again.');
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
function clearConversation(title) {
  keepDraft();
  state.shownId = null;
  state.seenUntil = null;
  state.replyFailure = null;
  state.messages = [];
  state.cursor = null;
  $('conversation-title').textContent = title;
  $('conversation-meta').textContent = '';
  $('messages').replaceChildren();
  $('earlier').hidden = true;
  $('reply-form').hidden = true;
  $('reply-text').value = '';
  lockReply(false);
  showReplyError(null);
}

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
async function openConversation(id, moveFocus) {
  if (id !== state.openId) {
    state.openId = id;
    history.replaceState(null, '', `#${id}`);
  }
  if (id !== state.shownId) clearConversation('Opening the conversation…');
  const result = await api(`/api/conversations/${encodeURIComponent(id)}`).catch(offline);
  if (id !== state.openId) return false;
  if (!result?.ok) {
    // The poll tries again; until then the right side says so and offers nothing to act on.
    if (id !== state.shownId) $('conversation-title').textContent = 'Could not open the conversation';
    const why = result ? (result.error?.message ?? result.status) : 'the server cannot be reached';
    setStatus(`Could not open the conversation: ${why}`);
    return false;
  }
  // The latest page (no query: the first page), merged into the messages shown.
  const { conversation, messages, nextCursor } = result.data;
  const shown = await withLatest(id, { messages, nextCursor: nextCursor ?? null });
  if (id !== state.openId) return false;
  const switched = id !== state.shownId;
  state.shownId = id;
  state.messages = shown.messages;
  state.cursor = shown.cursor;
  state.replyFailure = conversation.replyFailure ?? null;
  state.seenUntil = readableUntil(state.messages);
  $('conversation-title').textContent = conversation.contact.name ?? conversation.contact.key;
  $('conversation-meta').textContent = [
    conversation.status === 'open' ? 'Open' : 'Resolved',
    `channels: ${conversation.contact.channels.join(', ')}`,
    // The promise while a customer waits, "no reply needed" while only messages nobody is to
    // answer came (replyBy is null then), nothing once nobody waits.
    conversation.replyBy || conversation.awaiting === 'no-reply-needed'
      ? promiseText(conversation, Date.now())
      : null,
    ackText(conversation.ack, ackProvider(messages)),
    conversation.replyFailure
      ? `your last reply ${replyFailureText(
          conversation.replyFailure,
          state.messages.find((message) => message.id === conversation.replyFailure.messageId)?.provider ??
            ackProvider(messages),
        )}`
      : null,
  ]
    .filter(Boolean)
    .join(' · ');
  showMessages();
  $('reply-form').hidden = false;
  if (switched) showKeptReply(id);
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

// --- Acting: reply and resolve ---------------------------------------------------------

function showReplyError(text) {
  $('reply-error').hidden = !text;
  $('reply-error').textContent = text ?? '';
}

/** What an agent should read for each refusal (codes from the API's error bodies). */
function refusalText(what, result) {
  const code = result.error?.code;
  if (code === 'OUTSIDE_WINDOW') {
    // A WhatsApp refusal names the missing template configuration and what to do meanwhile.
    if (result.error.details?.configure) return `${what}: ${result.error.message}.`;
    return `${what}: ${result.error.message}. Answer on another channel, or send a template from your provider's console.`;
  }
  if (code === 'FORBIDDEN') return `${what}: this key may read but not act (it lacks the "reply" scope).`;
  if (result.error?.message) return `${what} (${code ?? result.status}): ${result.error.message}`;
  return `${what}: the server answered ${result.status}.`;
}

/** What the agent reads while a reply has no answer yet (it keeps its text and key until it has). */
const UNANSWERED = {
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
const MOVED = {
  shown:
    'Not sent: this conversation is resolved and the customer has written again since. Their open conversation is shown now, with your reply kept: read it, then press Send to answer there.',
  held: 'Your reply from their resolved conversation is kept: it comes into the box once this one is answered.',
  next: 'Your reply from their resolved conversation is in the box now: read it, then press Send to send it too.',
};

/** A reply without an answer keeps its text as sent: the same request again is the safe retry. */
function lockReply(locked) {
  $('reply-text').readOnly = locked;
}

const draftKey = (tag, id) => `${tag} ${id}`;

/** Keeps what the box holds as the shown conversation's draft (a locked box holds a reply sent, not a draft). */
function keepDraft() {
  if (!state.shownId || !state.apiKey || $('reply-text').readOnly) return;
  const key = draftKey(keyTag(state.apiKey), state.shownId);
  const text = $('reply-text').value;
  if (text.trim()) state.drafts.set(key, text);
  else state.drafts.delete(key);
}

// A tab closed or reloaded loses what only this tab holds: a draft, a reply with no answer yet.
window.addEventListener('beforeunload', (event) => {
  keepDraft();
  if (state.drafts.size > 0 || state.unanswered.size > 0 || state.moved.size > 0) event.preventDefault();
});

/**
 * A conversation just shown: its reply box gets what was kept for it. Its own unanswered reply
 * first, locked, since Send sends that one (what the box shows is always what Send sends);
 * else a reply moved to it, once (from then on it is in the box like any typed text); else its
 * draft.
 */
function showKeptReply(id) {
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
  $('reply-text').value = moved;
  lockReply(false);
  showReplyError(MOVED.shown);
}

$('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sendReply().catch(networkTrouble);
});

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
  state.unanswered.set(id, attempt);
  lockReply(true);
  attempt.sending = true;
  $('send').disabled = true;
  showReplyError(null);
  setStatus('Sending…');
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
    setStatus(shown ? '' : `Your reply to ${who}: ${text}`);
    if (shown) showReplyError(text);
  };
  // No answer: the network failed, the server failed (the API keeps no answer for the key, and
  // the reply may have gone before it failed), or the first try is still running.
  if (!result) return tell(UNANSWERED.network);
  if (result.status >= 500) return tell(UNANSWERED.server(result));
  if (result.error?.code === 'REQUEST_IN_PROGRESS') return tell(UNANSWERED.running);
  // Any other answer is final for this key: the next reply is a new request.
  state.unanswered.delete(id);
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
      setStatus(
        'Not sent: this conversation is resolved and the customer has written again since. Could not open the conversation they wait in yet: your reply is kept, and comes into its box once it opens.',
      );
    }
    return;
  }
  if (!result.ok) {
    // Not sent: the text is a draft again, in the box if shown, else when the agent comes back.
    if (!shown) state.drafts.set(draftKey(attempt.keyTag, id), attempt.text);
    return tell(refusalText('Not sent', result));
  }
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
  setStatus(shown ? 'Reply sent.' : `Your reply to ${who} was sent.`);
  await afterChange();
}

$('resolve').addEventListener('click', () => resolveShown().catch(networkTrouble));

async function resolveShown() {
  // The conversation on screen, and the newest of its messages the agent could see.
  const id = state.shownId;
  const seenUntil = state.seenUntil;
  if (!id || state.resolving.has(id)) return;
  const who = $('conversation-title').textContent;
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
        return showReplyError(
          'Not resolved: a message the customer sent earlier was recorded late and is further up. Show earlier messages to read it, then resolve.',
        );
      }
      return showReplyError(
        'Not resolved: the customer wrote again while you were reading. Their message is below.',
      );
    }
    return setStatus(`${who}: not resolved: the customer wrote again while you were reading.`);
  }
  if (!result?.ok) {
    const text = result
      ? refusalText('Not resolved', result)
      : 'Not resolved: the network failed; try again.';
    return shown ? showReplyError(text) : setStatus(`${who}: ${text}`);
  }
  if (shown) $('resolve').disabled = true;
  setStatus(shown ? 'Conversation resolved.' : `Conversation with ${who} resolved.`);
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
  const result = await api(`/api/service-level?from=${isoDate(from)}&to=${isoDate(to)}`).catch(offline);
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
  // A slow server must not pile up polls (a poll of a forgotten key ends with its requests).
  const { signal } = session;
  if (!state.apiKey || state.refreshing === signal) return;
  state.refreshing = signal;
  try {
    await refreshList();
    if (state.openId) await openConversation(state.openId, false);
    if (!chart && $('chart-note').hidden) await refreshServiceLevel();
    if (state.apiKey && $('status').textContent === 'Loading…') setStatus('');
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
if (!state.apiKey) setStatus('Paste an API key (AGENT_API_TOKEN, or a key with the read and reply scopes).');
const CONVERSATION_ID = /^conv_[0-9a-z]{26}$/;
const fromHash = location.hash.slice(1);
if (CONVERSATION_ID.test(fromHash)) state.openId = fromHash;
void refreshAll();
// A link to another conversation followed in this tab (or Back) opens it.
window.addEventListener('hashchange', () => {
  const id = location.hash.slice(1);
  if (state.apiKey && CONVERSATION_ID.test(id) && id !== state.openId) {
    openConversation(id, true).catch(networkTrouble);
  }
});
