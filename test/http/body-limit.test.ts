import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bodyLimit } from '#lib/http/body-limit.ts';

const LIMIT = 100;

function limitedApp() {
  const seen: string[] = [];
  const app = new Hono();
  app.use('*', bodyLimit(LIMIT));
  app.all('*', async (c) => {
    seen.push(await c.req.text());
    return c.text('ok');
  });
  return { app, seen };
}

/** A body with no Content-Length: a stream, as a chunked request arrives. */
function chunked(text: string): RequestInit {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 10) controller.enqueue(bytes.subarray(i, i + 10));
      controller.close();
    },
  });
  return { method: 'POST', body, duplex: 'half' } as RequestInit;
}

describe('bodyLimit', () => {
  it('should answer 413 from a declared Content-Length over the limit without calling the route', async () => {
    // Prepare
    const { app, seen } = limitedApp();

    // Act
    const response = await app.request('/x', {
      method: 'POST',
      headers: { 'content-length': String(LIMIT + 1) },
      body: 'y'.repeat(LIMIT + 1),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(seen).toEqual([]);
  });

  it('should pass a body whose declared length is within the limit', async () => {
    // Prepare
    const { app, seen } = limitedApp();

    // Act
    const response = await app.request('/x', {
      method: 'POST',
      headers: { 'content-length': String(LIMIT) },
      body: 'y'.repeat(LIMIT),
    });

    // Assess
    expect(response.status).toBe(200);
    expect(seen).toEqual(['y'.repeat(LIMIT)]);
  });

  it('should count a body without a declared length and refuse it once it passes the limit', async () => {
    // Prepare
    const { app, seen } = limitedApp();

    // Act
    const over = await app.request('/x', chunked('z'.repeat(LIMIT + 5)));
    const within = await app.request('/x', chunked('w'.repeat(LIMIT)));

    // Assess
    expect(over.status).toBe(413);
    expect(within.status).toBe(200);
    expect(seen).toEqual(['w'.repeat(LIMIT)]);
  });

  it('should count a chunked body even when it also declares a small length', async () => {
    // Prepare: a smuggling-style request, Content-Length next to Transfer-Encoding
    const { app, seen } = limitedApp();
    const init = chunked('v'.repeat(LIMIT * 2));

    // Act
    const response = await app.request('/x', {
      ...init,
      headers: { 'content-length': '1', 'transfer-encoding': 'chunked' },
    });

    // Assess
    expect(response.status).toBe(413);
    expect(seen).toEqual([]);
  });

  it('should let bodiless methods through untouched', async () => {
    // Prepare
    const { app, seen } = limitedApp();

    // Act
    const response = await app.request('/x');

    // Assess
    expect(response.status).toBe(200);
    expect(seen).toEqual(['']);
  });
});
