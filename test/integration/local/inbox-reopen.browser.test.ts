import { describe, expect, it } from 'vitest';
import { closedAfterEach, openInbox } from '#test/support/inbox-page.ts';
import { startTestSwitchboard } from '#test/support/switchboard.ts';

// The agent's day: a conversation resolved (by an agent, or by itself after the customer's
// thanks) could not be found again on the page, nor opened again from it: the page listed open
// conversations only and offered Resolve alone, though the API reopens. It lists the resolved
// ones under a view of their own and offers Reopen on a resolved conversation.

describe('the inbox page on a resolved conversation', () => {
  const opened = closedAfterEach();

  it.each([
    ['en', 'Resolved, latest activity first', 'Reopen', 'Conversation reopened.'],
    ['pl', 'Zamknięte, ostatnio aktywne najpierw', 'Otwórz ponownie', 'Rozmowa otwarta ponownie.'],
  ] as const)(
    'should list it among the resolved and reopen it on request (%s)',
    async (language, view, reopen, done) => {
      // Prepare: answered, then the customer only thanks: it resolves itself
      const running = await startTestSwitchboard();
      opened.sb = running;
      await running.postSms({ From: '+48600100200', Body: 'Gdzie jest moja paczka?' });
      await running.drain();
      const { id } = await running.onlyOpenConversation();
      expect((await running.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(
        201,
      );
      running.clock.advance(60_000);
      await running.postSms({ From: '+48600100200', Body: 'Dziękuję!' });
      await running.drain();
      opened.browser = await openInbox(running, async () => 'pass', { language });
      const { page } = opened.browser;

      // Act: the agent finds it among the resolved and reopens it
      await page.locator('#view').selectOption({ label: view });
      await page
        .locator('#conversations')
        .getByRole('button', { name: /\+48 600 100 200/ })
        .click({ timeout: 10_000 });
      await page.getByRole('button', { name: reopen }).click({ timeout: 10_000 });
      await page.getByRole('status').getByText(done).waitFor({ timeout: 10_000 });

      // Assess: open again, Resolve offered again
      expect((await running.runtime.store.getConversation(id))?.status).toBe('open');
      // (the page hides Reopen as it announces it; waited for, as a poll begun before may land after)
      await page.locator('#reopen').waitFor({ state: 'hidden', timeout: 5_000 });
      expect(await page.locator('#resolve').isVisible()).toBe(true);
      expect(await page.locator('#resolve').isEnabled()).toBe(true);
    },
    60_000,
  );
});
