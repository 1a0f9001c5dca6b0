import { Hono } from 'hono';
import { DOCS_PAGE, DOCS_PAGE_CSP } from '../openapi/docs-page.ts';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.ts';
import { OPERATIONS } from '../openapi/operations.ts';

const API_VERSION = '0.1.0';

/**
 * GET /openapi.json and GET /docs, mounted at /api ahead of authentication: they describe the
 * API and expose no data. The document is built on first request (not at cold start) and kept.
 */
export function docsRoutes(deps: { publicUrl: string }): Hono {
  let document: OpenApiDocument | undefined;
  const routes = new Hono();

  routes.get('/openapi.json', (c) => {
    document ??= buildOpenApiDocument(OPERATIONS, { version: API_VERSION, serverUrl: deps.publicUrl });
    return c.json(document, 200, { 'cache-control': 'no-cache' });
  });

  routes.get('/docs', (c) =>
    c.html(DOCS_PAGE, 200, {
      'content-security-policy': DOCS_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    }),
  );

  return routes;
}
