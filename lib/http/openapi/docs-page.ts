import { createHash } from 'node:crypto';
import { SCRIPT_OPERATIONS } from './docs-page-operations.ts';
import { SCRIPT_SCHEMAS } from './docs-page-schemas.ts';
import { STYLE } from './docs-page-style.ts';

// The reference page at /api/docs: one HTML document with its style and script inline, no
// CDN and no bundler (a viewer package would be a supply-chain dependency for ~200 lines, and
// the tests run offline). It fetches openapi.json next to it and renders it with DOM calls
// (textContent only, never innerHTML). String.raw keeps the script's regex escapes intact.

const SCRIPT = SCRIPT_SCHEMAS + SCRIPT_OPERATIONS;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1 id="title">API reference</h1>
<p id="description"></p>
<label>Bearer token <input id="token" type="password" autocomplete="off" placeholder="sbk_… (kept in this page only)"></label>
</header>
<nav id="nav"></nav>
<main id="main"><p>Loading the API description…</p></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * Only this page's own style and script run (by hash), requests go to this origin only, and
 * nothing may frame it: a token typed here cannot leave for another site.
 */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
