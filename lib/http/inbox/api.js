// The agents' API, called with the pasted key: the session its requests belong to, their
// Idempotency-Keys, and how a failed network is told apart from a forgotten key.

import { t } from './i18n.js';
import { setStatus } from './page.js';
import { state } from './state.js';

/**
 * The requests made with the current key. Forgetting or replacing the key aborts them, so no
 * answer to a request made with the old key reaches the screen (found at stop 25: a poll under
 * way put the list back after "Forget key").
 */
let session = new AbortController();

export function endSession() {
  session.abort();
  session = new AbortController();
}

/** Whether `error` is a request the end of its session aborted: nothing to show, nothing to retry. */
export const aborted = (error) => error?.name === 'AbortError';

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; this works on any host). */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * For promises started by a click or a change: a failed network is reported, not thrown away,
 * until the next poll reaches the server (inbox.js clears it then).
 */
export function networkTrouble(error) {
  if (!aborted(error)) setStatus(() => t('status.network'), { about: 'network' });
}

/** For api() calls whose caller handles a failed network itself: null, unless the key is gone. */
export function offline(error) {
  if (aborted(error)) throw error;
  return null;
}

/** The session's signal: a poll started under it ends with it. */
export const currentSignal = () => session.signal;

/** What a 401 does (the page forgets the key): set once by inbox.js, which owns the key. */
let unauthorized = () => undefined;
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/**
 * Calls the API with the bearer key. Resolves to { ok, status, data, error } for every HTTP
 * answer (errors are JSON: { error: { code, message } }); rejects when the network fails, and
 * with an AbortError when the key was forgotten or replaced before the answer came.
 */
export async function api(path, { method = 'GET', body, idempotencyKey } = {}) {
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
  if (response.status === 401) unauthorized(() => t('status.refused'));
  signal.throwIfAborted();
  return { ok: response.ok, status: response.status, data, error: data?.error ?? null };
}

/**
 * Tells API keys apart in this tab's memory once the key itself is forgotten: a 53-bit hash
 * (cyrb53), never sent, and stored only beside an unanswered reply or note (kept-unanswered.js), in the tab's
 * sessionStorage, where the key itself sits while in use. Not crypto.subtle: like
 * crypto.randomUUID it needs a secure context, and this page also runs on plain-http hosts.
 */
export function keyTag(key) {
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
