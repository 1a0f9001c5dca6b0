import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
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

const TYPES: Record<string, string> = { '.html': HTML, '.js': JS, '.css': CSS };
const PAGE_DIR = new URL('../inbox/', import.meta.url);

/**
 * The page's own files (every file of lib/http/inbox/: index.html at `/`, each ES module and
 * stylesheet under its name, so a module the page adds is served without a line here) and
 * uPlot's browser build, read once when mounted.
 */
function loadAssets(): Map<string, Asset> {
  const own = readdirSync(PAGE_DIR)
    .filter((name) => TYPES[extname(name)] !== undefined)
    .map((name): [string, Asset] => [
      name === 'index.html' ? '/' : `/${name}`,
      { body: readFileSync(new URL(name, PAGE_DIR), 'utf8'), type: TYPES[extname(name)] as string },
    ]);
  // uPlot ships a dependency-free IIFE build (a global `uPlot`): served as is, no bundler.
  const uplot = (file: string) =>
    readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`), 'utf8');
  return new Map([
    ...own,
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
