import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';

export type ReceivedWebhook = {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What we answered. */
  status: number;
  /** Webhook.verify passed with the secret set at the time (null: no secret set yet). */
  verified: boolean | null;
  /** The verified JSON payload (undefined when not verified). */
  payload: unknown;
};

/** A scripted answer with headers of its own (a 429's Retry-After). */
export type ScriptedAnswer = { status: number; headers: Record<string, string> };

export type WebhookReceiver = {
  /** Base URL, e.g. http://127.0.0.1:43210 (post to any path under it). */
  url: string;
  requests: ReceivedWebhook[];
  /** The signing secret to verify with (the `secret` the create call returned). */
  secret: string | null;
  /** Answers the next requests with these statuses (and headers), in order; then `fallbackStatus`. */
  respondWith(...answers: Array<number | ScriptedAnswer>): void;
  fallbackStatus: number;
  /**
   * An answer chosen by the verified payload (an endpoint that always refuses one event), ahead
   * of the script; undefined from it (or no function) falls through to the script.
   */
  answerFor: ((payload: unknown) => number | undefined) | null;
  /** How long it takes to answer each request (a slow endpoint); 0 by default. */
  delayMs: number;
  stop(): Promise<void>;
};

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * A downstream tool's endpoint on 127.0.0.1: records every request, verifies its signature
 * with the official Standard Webhooks library, and answers as scripted. `now` is the time
 * the receiver believes it is (the test's clock): the library checks webhook-timestamp
 * against the current time, ±5 minutes.
 */
export async function startWebhookReceiver(options: { now?: () => Date } = {}): Promise<WebhookReceiver> {
  const script: Array<number | ScriptedAnswer> = [];
  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    secret: null,
    fallbackStatus: 200,
    answerFor: null,
    delayMs: 0,
    respondWith: (...answers) => {
      script.push(...answers);
    },
    stop: () => Promise.resolve(),
  };

  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const headers = Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
        );
        let verified: boolean | null = null;
        let payload: unknown;
        if (receiver.secret) {
          try {
            payload = verifyAt(options.now?.() ?? new Date(), () =>
              new Webhook(receiver.secret as string).verify(body, headers),
            );
            verified = true;
          } catch {
            verified = false;
          }
        }
        const chosen = verified ? receiver.answerFor?.(payload) : undefined;
        const scripted = chosen ?? script.shift() ?? receiver.fallbackStatus;
        const { status, headers: extra } =
          typeof scripted === 'number' ? { status: scripted, headers: {} } : scripted;
        receiver.requests.push({ path: request.url ?? '/', headers, body, status, verified, payload });
        const answer = () => {
          response.writeHead(status, {
            ...(status >= 300 && status < 400 ? { location: '/redirected' } : {}),
            ...extra,
          });
          response.end(status === 204 ? undefined : 'ok');
        };
        if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
        else answer();
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A subscriber's endpoint that accepts connections and never answers (overloaded, or a black hole). */
export async function startHangingEndpoint(): Promise<{
  url: string;
  connections: () => number;
  stop(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    connections: () => connections,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// The library reads Date.now() for its tolerance check; verify is synchronous, so the mocked
// time is in force for exactly this call.
function verifyAt<T>(at: Date, verify: () => T): T {
  vi.setSystemTime(at);
  try {
    return verify();
  } finally {
    vi.useRealTimers();
  }
}
