import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { errorBody } from './errors.ts';

/**
 * Hono's bodyLimit, answering 413 with our error body, but deciding from the headers first.
 * Hono's reads `c.req.raw.body` before it looks at Content-Length, and on @hono/node-server
 * that one property access builds a whole web Request with a stream over the socket (about a
 * tenth of a webhook's CPU in `npm run bench`). A body that declares its length (every
 * provider's webhook, every API call from a normal client) is judged by the header, which
 * Node's HTTP parser holds the body to; a chunked or length-less body still gets Hono's
 * streaming count, and bodiless methods pass untouched.
 */
export function bodyLimit(maxSize: number): MiddlewareHandler {
  const tooLarge = (c: Context) =>
    c.json(errorBody('PAYLOAD_TOO_LARGE', `The body exceeds ${maxSize} bytes`), 413);
  const streaming = honoBodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > maxSize ? tooLarge(c) : next();
    }
    return streaming(c, next);
  };
}
