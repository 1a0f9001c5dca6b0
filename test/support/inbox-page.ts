import type { Page, Request, Route } from 'playwright-core';
import { afterEach } from 'vitest';
import { type Browser, fulfillFrom, launchBrowser } from './browser.ts';
import { TEST_API_TOKEN, type TestSwitchboard } from './switchboard.ts';

// The inbox page served by the app in this process, its conversations read a few messages a
// page (so that a poll's gap past its reach takes a few dozen messages, not hundreds), and each
// API request first offered to the test, which may hold it or answer it itself.

/** What a test opened: the app and the browser on its inbox. */
export type Opened = { sb: TestSwitchboard | undefined; browser: Browser | undefined };

/**
 * Where the tests of the describe block calling this keep what they open, closed after each test:
 * the page's routes first (a request still held answers nothing), then the browser, then the app.
 */
export function closedAfterEach(): Opened {
  const opened: Opened = { sb: undefined, browser: undefined };
  afterEach(async () => {
    await opened.browser?.page.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.browser?.close();
    opened.browser = undefined;
    await opened.sb?.stop();
    opened.sb = undefined;
  });
  return opened;
}

/** Messages a page of a conversation holds here (the API's `limit`; the page itself never sets one). */
export const CONVERSATION_PAGE = 5;

/**
 * What the test's route does with one API request before the app answers it: `pass` it, or
 * answer it itself. It may wait first (a held request).
 */
export type Intercept = (url: URL, method: string) => Promise<'pass' | { status: number; body: unknown }>;

/** A 5xx answer: the API kept no answer for the request's Idempotency-Key. */
export const UNAVAILABLE = {
  status: 503,
  body: { error: { code: 'INTERNAL', message: 'Service unavailable' } },
} as const;

/** The app's answer to `request`, a conversation's messages read CONVERSATION_PAGE at a time. */
async function answer(running: TestSwitchboard, route: Route, request: Request): Promise<void> {
  const url = new URL(request.url());
  if (/^\/api\/conversations\/[^/]+$/.test(url.pathname) && !url.searchParams.has('limit')) {
    url.searchParams.set('limit', String(CONVERSATION_PAGE));
  }
  const body = request.postDataBuffer();
  const response = await running.runtime.app.request(`${url.pathname}${url.search}`, {
    method: request.method(),
    headers: request.headers(),
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  await fulfillFrom(route, response).catch(() => undefined);
}

/** The key form's words in each language. */
const KEY_FORM = {
  en: { label: 'API key', use: 'Use key' },
  pl: { label: 'Klucz API', use: 'Użyj klucza' },
};

/** Pastes `token` in the key form and uses it. */
export async function useKey(page: Page, token: string, language: 'en' | 'pl' = 'en'): Promise<void> {
  await page.getByLabel(KEY_FORM[language].label).fill(token);
  await page.getByRole('button', { name: KEY_FORM[language].use }).click();
}

/** The inbox at `hash` in `language`, `token` pasted, its requests answered by `running`'s app after `intercept`. */
export async function openInbox(
  running: TestSwitchboard,
  intercept: Intercept,
  {
    hash = '',
    language = 'en',
    token = TEST_API_TOKEN,
  }: { hash?: string; language?: 'en' | 'pl'; token?: string } = {},
): Promise<Browser> {
  const browser = await launchBrowser({ language });
  const { page } = browser;
  await page.route('http://inbox.test/**', async (route) => {
    const request = route.request();
    const decision = await intercept(new URL(request.url()), request.method());
    if (decision === 'pass') return answer(running, route, request);
    await route
      .fulfill({
        status: decision.status,
        contentType: 'application/json',
        body: JSON.stringify(decision.body),
      })
      .catch(() => undefined);
  });
  await page.goto(`http://inbox.test/inbox${hash}`);
  await useKey(page, token, language);
  return browser;
}

/** `count` SMS from `from`, "Wiadomość <first>" on, a second apart (the order the API lists them in). */
export async function writes(
  running: TestSwitchboard,
  from: string,
  first: number,
  count: number,
): Promise<void> {
  for (let n = first; n < first + count; n++) {
    running.clock.advance(1_000);
    const response = await running.postSms({ From: from, Body: `Wiadomość ${n}` });
    if (response.status !== 200) throw new Error(`SMS ${n} from ${from}: ${response.status}`);
  }
}

/** The texts `writes` sent, "Wiadomość <from>" to "Wiadomość <to>". */
export const wiadomosci = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `Wiadomość ${from + i}`);

/**
 * An Intercept that holds the agent's notes (each one, or only the first) until `release`, then
 * passes a held one to the app or answers it `heldAnswer` (UNAVAILABLE: it fails), and counts the
 * notes posted (`posted()`).
 */
export function holdingNotes(
  which: 'each' | 'first',
  heldAnswer: 'pass' | { status: number; body: unknown } = 'pass',
): {
  intercept: Intercept;
  release: () => void;
  posted: () => number;
} {
  const { promise: held, resolve: release } = Promise.withResolvers<void>();
  let notes = 0;
  const intercept: Intercept = async (url, method) => {
    if (method !== 'POST' || !url.pathname.endsWith('/notes')) return 'pass';
    notes++;
    if (which === 'first' && notes > 1) return 'pass';
    await held;
    return heldAnswer;
  };
  return { intercept, release, posted: () => notes };
}
