import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page, type Request, type Route } from 'playwright-core';
import type { TestSwitchboard } from './switchboard.ts';

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The network is closed: without these Chromium keeps trying to reach Google's services
// (updates, sync, safe browsing) and the test waits on them.
const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-gpu',
  '--no-first-run',
];

export type Browser = {
  page: Page;
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
};

/**
 * A headless Chromium with a fresh profile (its own --user-data-dir, removed on close),
 * driven by playwright-core: no browser download, the system's chromium. `language` sets the
 * inbox page's saved language choice (lib/http/inbox/i18n.js).
 */
export async function launchBrowser(
  options: { timezoneId?: string; locale?: string; language?: 'en' | 'pl' } = {},
): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No browser at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'switchboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: QUIET_FLAGS,
    viewport: { width: 1280, height: 900 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
    ...(options.locale ? { locale: options.locale } : {}),
  });
  // The inbox page's language as if the agent had chosen it before (its saved choice), unless a
  // test's own switch chose since: whatever the browser's locale, and whatever the machine's.
  if (options.language) {
    await context.addInitScript((language) => {
      try {
        if (!localStorage.getItem('switchboard.language'))
          localStorage.setItem('switchboard.language', language);
      } catch {
        // about:blank has no storage.
      }
    }, options.language);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** The page's `request` as `running`'s app answers it (the function behind the inbox's origin). */
export async function askApp(running: TestSwitchboard, request: Request): Promise<Response> {
  const url = new URL(request.url());
  const body = request.postDataBuffer();
  return running.runtime.app.request(`${url.pathname}${url.search}`, {
    method: request.method(),
    headers: request.headers(),
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
}

/** Answers the page's request with the app's `response`. */
export async function fulfillFrom(route: Route, response: Response): Promise<void> {
  await route.fulfill({
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: Buffer.from(await response.arrayBuffer()),
  });
}
