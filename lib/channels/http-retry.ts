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
    // A refusal of our credentials or account is not fixed in the next second: the queue retries
    // it. A request that may have been taken is never sent again blindly (SendError.uncertain).
    if (result.error.permanent || result.error.ours || result.error.uncertain || retry >= maxRetries)
      throw result.error;
    const wait = result.retryAfterMs ?? Math.random() * baseDelayMs * 2 ** retry;
    // Waiting past the budget only to be cut off by the Lambda timeout helps nobody.
    if (performance.now() + wait >= deadline) throw result.error;
    await sleep(wait);
  }
}

/**
 * Statuses a gateway in front of the provider answers when the request went through it and no
 * result came back from behind: 502 (bad gateway) and 504 (gateway timeout), after the backend
 * that may have taken the message failed or timed out. Such a send is uncertain, like a timeout
 * after the request was written. Not 503: a service that is unavailable refuses before it takes
 * anything (Twilio 20503: "try again a few times with exponential back-off"). 500 depends on the
 * provider: each sender decides (docs/channels.md, "No answer from the provider").
 */
export function gatewayLostAnswer(status: number): boolean {
  return status === 502 || status === 504;
}

/**
 * Error codes (undici's, Node's, OpenSSL's) of a connection that failed before a byte of the
 * request could reach the provider: no address, nobody listening, no route, a connect timeout,
 * a TLS handshake refused. Resending after one of these cannot double a message. Anything else
 * that ends a request without an answer (our timeout, a reset, a socket closed mid-way) may come
 * after the provider read the whole request and took it.
 */
const NOT_SENT_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function errorCodeOf(cause: unknown): string | undefined {
  // fetch wraps the socket's error: TypeError('fetch failed', { cause: { code } }), at times twice.
  for (let error = cause, depth = 0; error && depth < 4; depth++) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    error = (error as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The SendError for a request that got no HTTP answer: not permanent; `uncertain` unless the
 * connection failed before the request could reach the provider (NOT_SENT_CODES).
 */
export function noAnswerError(cause: unknown, timeoutMs: number, label: string): SendError {
  const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
  const code = errorCodeOf(cause);
  const notSent = !timedOut && code !== undefined && NOT_SENT_CODES.has(code);
  const what = timedOut
    ? `no answer within ${timeoutMs} ms`
    : `network error${code ? ` (${code})` : ''}${notSent ? '' : ', perhaps after the request was sent'}`;
  return new SendError(`${label} send failed: ${what}`, { permanent: false, uncertain: !notSent, cause });
}

/**
 * POSTs JSON with a timeout. A network error or a timeout becomes a not-permanent SendError,
 * `uncertain` when the request may have reached the provider (noAnswerError); any HTTP answer
 * is returned as is.
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
    return { error: noAnswerError(cause, timeoutMs, label) };
  }
}
