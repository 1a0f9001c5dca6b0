// A Twilio whose answers get lost: the uncertain sends, their read-backs and their status callbacks.

import type { TestSwitchboard } from './switchboard.ts';

const TIMEOUT = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

/**
 * The next `lostAnswers` sends are taken (the customer's phone gets them) but their answers are
 * lost (a timeout); the next `lostBefore` sends time out before Twilio took anything; the
 * Messages list cannot be read while `list` is `down` (a partial outage, the usual reason an answer
 * gets lost in the first place) or `forbidden` (an API key that may send but not read the list: 403).
 */
export type Degraded = { lostAnswers: number; lostBefore: number; list: 'up' | 'down' | 'forbidden' };

/** The fetch the switchboard's Twilio client uses, degraded as `state` says (read at each call). */
export function degradedTwilio(state: Degraded): typeof fetch {
  return async (input, init) => {
    const lookup = String(input).includes('/Messages.json?');
    if (lookup && state.list === 'down')
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    if (lookup && state.list === 'forbidden') {
      const refusal = { code: 20403, message: 'Forbidden', status: 403 };
      return new Response(JSON.stringify(refusal), { status: 403 });
    }
    const post = !lookup && String(input).endsWith('/Messages.json') && init?.method === 'POST';
    if (post && state.lostBefore > 0) {
      state.lostBefore--;
      throw TIMEOUT();
    }
    const response = await fetch(input, init);
    if (post && state.lostAnswers > 0) {
      state.lostAnswers--;
      await response.text();
      throw TIMEOUT();
    }
    return response;
  };
}

/** A status callback from the fake Twilio, posted to the URL it was given (its query kept). */
export async function postCallback(
  sb: TestSwitchboard,
  callback: { url: string; body: string; headers: Headers } | null,
): Promise<Response> {
  if (!callback) throw new Error('no status callback');
  const url = new URL(callback.url);
  return sb.runtime.app.request(`${url.pathname}${url.search}`, {
    method: 'POST',
    headers: callback.headers,
    body: callback.body,
  });
}
