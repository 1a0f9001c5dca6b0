import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

type Asset = { body: string; type: string };

const HTML = 'text/html; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

// Customer text is shown on this page: the policy is the second line of defence after escaping
// (no inline script, nothing from another origin, not framed). uPlot styles its elements through
// the CSSOM, which style-src does not govern, so no 'unsafe-inline' is needed.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The page's own files (lib/http/inbox/) and uPlot's browser build, read once when mounted. */
function loadAssets(): Map<string, Asset> {
  const own = (name: string) => readFileSync(new URL(`../inbox/${name}`, import.meta.url), 'utf8');
  // uPlot ships a dependency-free IIFE build (a global `uPlot`): served as is, no bundler.
  const uplot = (file: string) =>
    readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`), 'utf8');
  return new Map([
    ['/', { body: own('index.html'), type: HTML }],
    ['/inbox.js', { body: own('inbox.js'), type: JS }],
    ['/reasons.js', { body: own('reasons.js'), type: JS }],
    ['/inbox.css', { body: own('inbox.css'), type: CSS }],
    ['/vendor/uplot.js', { body: uplot('uPlot.iife.min.js'), type: JS }],
    ['/vendor/uplot.css', { body: uplot('uPlot.min.css'), type: CSS }],
  ]);
}

/**
 * The reference inbox at /inbox: a static page that uses only the public agents' API with a key
 * the user pastes. Local by default (SWITCHBOARD_INBOX); the Lambda bundle does not carry these
 * files, so mounting it there fails at start-up rather than at the first request.
 */
export function inboxRoutes(): Hono {
  const assets = loadAssets();
  const routes = new Hono();
  for (const [path, asset] of assets) {
    routes.get(path, (c) => c.body(asset.body, 200, { 'content-type': asset.type, ...SECURITY_HEADERS }));
  }
  return routes;
}
