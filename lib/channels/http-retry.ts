import { SendError } from '#lib/ports/errors.ts';

/** How hard a sender tries before it gives up on a transient failure. */
export type RetryOptions = {
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt, for transient failures only. */
  maxRetries: number;
  /** All attempts and waits together; keep it well under the worker's Lambda timeout. */
  totalBudgetMs: number;
  /** Cap of the first backoff; doubles per retry, full jitter. */
  baseDelayMs: number;
};

/** One attempt's outcome: a value, or a SendError (permanent or not) with the provider's wait hint. */
export type Attempt<T> = { done: true; value: T } | { done: false; error: SendError; retryAfterMs?: number };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Runs `attempt` until it succeeds, fails permanently or for our own credentials (SendError.ours),
 * runs out of retries or would outlive
 * the budget; waits Retry-After when given, else exponential backoff with full jitter.
 * Each attempt gets the smaller of the per-attempt timeout and what is left of the budget.
 */
export async function retryWithinBudget<T>(
  attempt: (timeoutMs: number) => Promise<Attempt<T>>,
  options: RetryOptions,
): Promise<T> {
  const { timeoutMs, maxRetries, totalBudgetMs, baseDelayMs } = options;
  const deadline = performance.now() + totalBudgetMs;
  for (let retry = 0; ; retry++) {
    const remaining = deadline - performance.now();
    // AbortSignal.timeout takes whole milliseconds only.
    const result = await attempt(Math.max(1, Math.floor(Math.min(timeoutMs, remaining))));
    if (result.done) return result.value;
    // A refusal of our credentials or account is not fixed in the next second: the queue retries it.
    if (result.error.permanent || result.error.ours || retry >= maxRetries) throw result.error;
    const wait = result.retryAfterMs ?? Math.random() * baseDelayMs * 2 ** retry;
    // Waiting past the budget only to be cut off by the Lambda timeout helps nobody.
    if (performance.now() + wait >= deadline) throw result.error;
    await sleep(wait);
  }
}

/**
 * POSTs JSON with a timeout. A network error or a timeout becomes a not-permanent SendError
 * (the request may or may not have reached the provider); any HTTP answer is returned as is.
 */
export async function postJson(
  fetch: typeof globalThis.fetch,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs: number,
  label: string,
): Promise<{ response: Response } | { error: SendError }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { response };
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
    const what = timedOut ? `no answer within ${timeoutMs} ms` : 'network error';
    return { error: new SendError(`${label} send failed: ${what}`, { permanent: false, cause }) };
  }
}
