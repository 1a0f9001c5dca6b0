import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { askApp, fulfillFrom } from '#test/support/browser.ts';
import { closedAfterEach, openInbox } from '#test/support/inbox-page.ts';
import { startTestSwitchboard } from '#test/support/switchboard.ts';

// Stop 35: the page polls every 5 s and reads a conversation back after acting on it. A poll's
// read begun before the action, answered by the app before it, but delivered after the action's
// own read-back, put the old state back on screen: Resolve offered again on a conversation just
// resolved, the customer back in the waiting list. An answer older than the latest read or action
// is now dropped.

/**
 * The next read of `path` (the poll's) is answered by the app at once, as things are then, and
 * its answer held until `release`; `delivered` resolves once the page has it.
 */
async function holdNextRead(page: Page, running: Parameters<typeof askApp>[0], path: RegExp) {
  const { promise: held, resolve: release } = Promise.withResolvers<void>();
  const { promise: caught, resolve: catches } = Promise.withResolvers<void>();
  const { promise: delivered, resolve: delivers } = Promise.withResolvers<void>();
  let armed = true;
  await page.route('http://inbox.test/api/**', async (route) => {
    const url = new URL(route.request().url());
    if (!armed || route.request().method() !== 'GET' || !path.test(url.pathname + url.search)) {
      return route.fallback();
    }
    armed = false;
    const answer = await askApp(running, route.request());
    catches();
    await held;
    await fulfillFrom(route, answer).catch(() => undefined);
    delivers();
  });
  return { caught, release, delivered };
}

describe('the inbox page with an answer that comes late', () => {
  const opened = closedAfterEach();

  it.each([
    ['the conversation', (id: string) => new RegExp(`^/api/conversations/${id}$`)],
    ['the list', () => /^\/api\/conversations\?awaiting=true/],
  ] as const)(
    "should not put back what a resolve changed when the poll's read of %s, begun before, comes after",
    async (_what, held) => {
      // Prepare: a customer waits; the agent has their conversation open; the next poll's read is
      // answered while they still wait, and that answer held
      const running = await startTestSwitchboard();
      opened.sb = running;
      await running.postSms({ From: '+48600100277', Body: 'Gdzie jest moja paczka?' });
      await running.drain();
      const { id } = await running.onlyOpenConversation();
      opened.browser = await openInbox(running, async () => 'pass', { hash: `#${id}` });
      const { page } = opened.browser;
      await page.locator('#messages .text').getByText('Gdzie jest moja paczka?').waitFor({ timeout: 10_000 });
      const poll = await holdNextRead(page, running, held(id));
      await poll.caught;

      // Act: the agent resolves; the page reads the conversation and the list back; then the
      // poll's old answer arrives
      await page.getByRole('button', { name: 'Resolve' }).click();
      await page.getByRole('status').getByText('Conversation resolved.').waitFor({ timeout: 10_000 });
      await page.locator('#reopen').waitFor({ state: 'visible', timeout: 10_000 });
      await page.locator('#conversations [data-id]').waitFor({ state: 'detached', timeout: 10_000 });
      poll.release();
      await poll.delivered;
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 500)));

      // Assess: still resolved on screen, and nobody waiting in the list
      expect((await running.runtime.store.getConversation(id))?.status).toBe('resolved');
      expect({
        reopen: await page.locator('#reopen').isVisible(),
        resolve: await page.locator('#resolve').isEnabled(),
        header: (await page.locator('#conversation-meta').textContent())?.split(' · ')[0],
        listed: await page.locator('#conversations [data-id]').count(),
      }).toEqual({ reopen: true, resolve: false, header: 'Resolved', listed: 0 });
    },
    60_000,
  );
});
