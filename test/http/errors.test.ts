import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { handleError } from '#lib/http/errors.ts';
import type { Log } from '#lib/ports/logger.ts';

// The log line of an error nobody expected: its name, a safe code, the throwing function, and
// nothing the message may quote (no stack, no input).

describe('the unexpected-error log line', () => {
  function capture() {
    const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const log: Log = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (message, fields) => {
        lines.push({ message, ...(fields ? { fields } : {}) });
      },
    };
    return { log, lines };
  }

  it('should log the code of a non-Switchboard error (a Node system error)', async () => {
    // Prepare
    const { log, lines } = capture();
    const app = new Hono();
    app.onError(handleError(log));
    app.get('/x', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' });
    });
    // Act
    const response = await app.request('/x');

    // Assess
    expect(response.status).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ error: 'Error', code: 'ECONNREFUSED' });
  });

  it('should not log words of the error message as the throwing function', async () => {
    // Prepare
    const { log, lines } = capture();
    const app = new Hono();
    app.onError(handleError(log));
    app.get('/x', () => {
      // A message quoting input over two lines (a customer's text, say)
      throw new TypeError('cannot read the text: Czy możecie oddzwonić\nat Kowalska_601234567 jutro?');
    });
    // Act
    const response = await app.request('/x');

    // Assess
    expect(response.status).toBe(500);
    expect(JSON.stringify(lines)).not.toContain('Kowalska');
  });
});
