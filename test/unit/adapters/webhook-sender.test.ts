import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '#lib/adapters/http-webhook-sender.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('HttpWebhookSender', () => {
  let server: Server | undefined;
  const seen: Array<{ headers: Record<string, string>; body: string }> = [];

  afterEach(async () => {
    seen.length = 0;
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  async function listen(
    handler: (reply: (status: number, headers?: Record<string, string>) => void) => void,
  ): Promise<number> {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({ headers: request.headers as Record<string, string>, body });
        handler((status, headers = {}) =>
          response.writeHead(status, { location: '/elsewhere', ...headers }).end(),
        );
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const request = (url: string) => ({
    url,
    secrets: [SECRET],
    webhookId: 'evt_1',
    timestamp: new Date(),
    body: '{"id":"evt_1"}',
  });

  it('should POST the body signed so that Webhook.verify accepts it', async () => {
    // Prepare
    const port = await listen((reply) => reply(204));

    // Act
    const outcome = await new HttpWebhookSender({ blockPrivateAddresses: false }).send(
      request(`http://127.0.0.1:${port}/hook`),
    );

    // Assess
    expect(outcome).toEqual({ kind: 'response', status: 204 });
    const [first] = seen;
    expect(first?.headers['content-type']).toBe('application/json');
    expect(new Webhook(SECRET).verify(first?.body ?? '', first?.headers ?? {})).toEqual({ id: 'evt_1' });
  });

  it('should report a redirect as its status without following it', async () => {
    // Prepare
    const port = await listen((reply) => reply(307));

    // Act
    const outcome = await new HttpWebhookSender({ blockPrivateAddresses: false }).send(
      request(`http://127.0.0.1:${port}/hook`),
    );

    // Assess
    expect(outcome).toEqual({ kind: 'response', status: 307 });
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['120', 120_000],
    ['Wed, 25 Nov 2026 09:05:00 GMT', 300_000],
    ['soon', undefined],
    ['-5', undefined],
  ])('should report a Retry-After of %s as %s ms', async (retryAfter, expected) => {
    // Prepare
    const port = await listen((reply) => reply(503, { 'retry-after': retryAfter }));

    // Act
    const outcome = await new HttpWebhookSender({ blockPrivateAddresses: false }).send({
      ...request(`http://127.0.0.1:${port}/hook`),
      timestamp: new Date('2026-11-25T09:00:00.000Z'),
    });

    // Assess
    expect(outcome).toEqual({
      kind: 'response',
      status: 503,
      ...(expected === undefined ? {} : { retryAfterMs: expected }),
    });
  });

  it('should give up after the timeout', async () => {
    // Prepare
    const port = await listen(() => {});

    // Act
    const outcome = await new HttpWebhookSender({ blockPrivateAddresses: false, timeoutMs: 100 }).send(
      request(`http://127.0.0.1:${port}/hook`),
    );

    // Assess
    expect(outcome).toEqual({ kind: 'error', error: 'ETIMEDOUT' });
  });

  it('should refuse private addresses, literal or resolved, when told to', async () => {
    // Prepare
    const port = await listen((reply) => reply(200));
    const sender = new HttpWebhookSender({ blockPrivateAddresses: true });

    // Act
    const literal = await sender.send(request(`http://127.0.0.1:${port}/hook`));
    const resolved = await sender.send(request(`http://localhost:${port}/hook`));

    // Assess
    expect(literal).toEqual({ kind: 'error', error: 'EADDRBLOCKED' });
    expect(resolved).toEqual({ kind: 'error', error: 'EADDRBLOCKED' });
    expect(seen).toHaveLength(0);
  });

  it('should report a refused connection as an error', async () => {
    // Act
    const outcome = await new HttpWebhookSender({ blockPrivateAddresses: false }).send(
      request('http://127.0.0.1:9/hook'),
    );

    // Assess
    expect(outcome).toEqual({ kind: 'error', error: 'ECONNREFUSED' });
  });
});
