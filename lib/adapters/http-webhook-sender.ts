import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { type ClientRequest, request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { AttemptOutcome } from '#lib/domain/webhook-attempts.ts';
import { isPrivateAddress } from '#lib/domain/webhook-url.ts';
import type { WebhookSender } from '#lib/ports/webhook-store.ts';

// Standard Webhooks recommends 15 to 30 s; callers with a deadline pass less (timeoutMs).
const DEFAULT_TIMEOUT_MS = 15_000;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Resolves like dns.lookup but refuses a name that resolves to a private, loopback or
 * link-local address. It is the lookup of the very connection that sends, so a name that
 * resolves differently the second time (DNS rebinding) cannot slip past a check made earlier.
 */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((entry) => isPrivateAddress(entry.address));
    if (blocked || addresses.length === 0) {
      const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to a non-public address`);
      refused.code = 'EADDRBLOCKED';
      return callback(refused, []);
    }
    const [first] = addresses;
    if (options.all || !first) return callback(null, addresses);
    return callback(null, first.address, first.family);
  });
}

/**
 * Signs with the official Standard Webhooks library and POSTs with node:http(s), not fetch:
 * only a request's own `lookup` can check the address it actually connects to (see above),
 * and node:http never follows a redirect (a 3xx is a failed attempt, as the spec says).
 * The response body is never read.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #timeoutMs: number;
  readonly #blockPrivateAddresses: boolean;

  constructor(options: { blockPrivateAddresses: boolean; timeoutMs?: number }) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#blockPrivateAddresses = options.blockPrivateAddresses;
  }

  send(request: {
    url: string;
    secrets: readonly string[];
    webhookId: string;
    timestamp: Date;
    body: string;
    timeoutMs?: number;
  }): Promise<AttemptOutcome> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return Promise.resolve({ kind: 'error', error: 'invalid URL' });
    }
    if (this.#blockPrivateAddresses && isPrivateAddress(url.hostname)) {
      return Promise.resolve({ kind: 'error', error: 'EADDRBLOCKED' });
    }
    // Space-separated, one per secret (Standard Webhooks' zero-downtime rotation).
    const signature = request.secrets
      .map((secret) => new Webhook(secret).sign(request.webhookId, request.timestamp, request.body))
      .join(' ');
    const body = Buffer.from(request.body, 'utf8');
    const options: RequestOptions = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'Switchboard-Webhooks/1',
        'webhook-id': request.webhookId,
        'webhook-timestamp': String(Math.floor(request.timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      ...(this.#blockPrivateAddresses ? { lookup: publicOnlyLookup } : {}),
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<AttemptOutcome>((resolve) => {
      let req: ClientRequest;
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
        request.timeoutMs ?? this.#timeoutMs,
      );
      const done = (outcome: AttemptOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      try {
        req = send(url, options, (response) => {
          const status = response.statusCode ?? 0;
          const retryAfterMs =
            status >= 300 ? retryAfter(response.headers['retry-after'], request.timestamp) : null;
          done({ kind: 'response', status, ...(retryAfterMs === null ? {} : { retryAfterMs }) });
          // Only the status matters: the body is dropped with the connection.
          response.destroy();
        });
      } catch (error) {
        done({ kind: 'error', error: describe(error) });
        return;
      }
      req.on('error', (error) => done({ kind: 'error', error: describe(error) }));
      req.end(body);
    });
  }
}

/**
 * A Retry-After header as milliseconds from `at` (the attempt's time): delay-seconds or an
 * HTTP date; null when absent, malformed or not in the future.
 */
function retryAfter(header: string | undefined, at: Date): number | null {
  if (header === undefined) return null;
  const value = header.trim();
  const ms = /^\d{1,10}$/.test(value) ? Number(value) * 1000 : Date.parse(value) - at.getTime();
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

// A code or a short message: never a header, a URL's query or the secret.
function describe(error: unknown): string {
  const failure = error as NodeJS.ErrnoException;
  return (failure.code ?? failure.name ?? 'Error').slice(0, 100);
}
