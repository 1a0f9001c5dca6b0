import autocannon from 'autocannon';
import type { LoadRequest } from './twilio-load.ts';

export type LoadResult = { reqPerSec: number; ok: number; failed: number; seconds: number };

/**
 * A closed loop of `connections` keep-alive connections to a loopback server (autocannon, as
 * MEASURED.md), each sending its next request as soon as the last is answered: `amount`
 * requests in all, taken in order from `requests` (cycling when there are fewer).
 */
export async function closedLoop(options: {
  origin: string;
  connections: number;
  /** Either a number of requests or a duration, the same for a floor and its subject. */
  amount?: number;
  durationSeconds?: number;
  requests: readonly LoadRequest[];
}): Promise<LoadResult & { reused: boolean }> {
  const url = new URL(options.origin);
  if (url.hostname !== '127.0.0.1') throw new Error(`the bench loads 127.0.0.1 only, not ${url.hostname}`);
  let next = 0;
  const started = performance.now();
  // autocannon notices that `amount` requests are done only at its next 1 s tick: time the run
  // to its last response instead, or a 4.2 s run would count as 5 s.
  let lastResponse = started;
  const result = await autocannon({
    url: options.origin,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds ?? 5 }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const load = options.requests[next++ % options.requests.length] as LoadRequest;
          return { ...request, method: 'POST', path: load.path, headers: load.headers, body: load.body };
        },
        onResponse: () => {
          lastResponse = performance.now();
        },
      },
    ],
  });
  const seconds = ((options.amount ? lastResponse : performance.now()) - started) / 1000;
  const failed = result.non2xx + result.errors + result.timeouts;
  // More requests than prepared ones: later ones repeated earlier ones (duplicates, not new messages).
  const reused = next > options.requests.length;
  return { reqPerSec: result['2xx'] / seconds, ok: result['2xx'], failed, seconds, reused };
}
