import { describe, expect, it } from 'vitest';
import { closedAfterEach, openInbox } from '#test/support/inbox-page.ts';
import { messagingEnvelope, messagingTextEvent, metaFixture } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// The agent's day: the list and the conversation's header named a customer who gave no name
// "phone:+48600100200", the internal key. An agent reads the provider's profile name, else the
// number as people write it, else the channel (a Messenger id means nothing to anyone), with the
// end of their id: two nameless Messenger users were both "Customer (Messenger)" (stop 35).

/** An SMS from a number, two Messenger users, and a WhatsApp customer with a profile name. */
async function fourCustomers(running: TestSwitchboard): Promise<void> {
  await running.postSms({ From: '+48600100200', Body: 'Dzień dobry, gdzie paczka?' });
  running.clock.advance(1_000);
  await running.postMeta(metaFixture('messenger-text'));
  running.clock.advance(1_000);
  await running.postMeta(
    messagingEnvelope([[messagingTextEvent(1, { sender: '7214568809876543', text: 'A moja?' })]]),
  );
  running.clock.advance(1_000);
  await running.postMeta(metaFixture('whatsapp-text'));
}

describe('the inbox names each customer for people, never by the internal key', () => {
  const opened = closedAfterEach();

  it.each([
    ['en', ['Customer (Messenger …234567)', 'Customer (Messenger …876543)']],
    ['pl', ['Klient (Messenger …234567)', 'Klient (Messenger …876543)']],
  ] as const)(
    'should show the profile name, the number written for people, or the channel and the end of the id (%s)',
    async (language, messenger) => {
      // Prepare
      const running = await startTestSwitchboard();
      opened.sb = running;
      await fourCustomers(running);
      opened.browser = await openInbox(running, async () => 'pass', { language });
      const { page } = opened.browser;
      const names = page.locator('#conversations .who');
      await expect.poll(() => names.count(), { timeout: 10_000 }).toBe(4);

      // Act: the agent opens the one who texted
      await page
        .locator('#conversations')
        .getByRole('button', { name: /\+48 600 100 200/ })
        .click();
      await page
        .locator('#messages .text')
        .getByText('Dzień dobry, gdzie paczka?')
        .waitFor({ timeout: 10_000 });

      // Assess
      expect((await names.allTextContents()).sort()).toEqual(
        ['+48 600 100 200', 'Ewa Kowalska', ...messenger].sort(),
      );
      expect(await page.locator('#conversation-title').textContent()).toBe('+48 600 100 200');
      expect(await page.locator('#conversations').textContent()).not.toMatch(/phone:|messenger:|whatsapp:/);
      // The one shown by her profile name: her number too, in the header, to call her back
      await page
        .locator('#conversations')
        .getByRole('button', { name: /Ewa Kowalska/ })
        .click();
      await expect
        .poll(() => page.locator('#conversation-title').textContent(), { timeout: 10_000 })
        .toBe('Ewa Kowalska');
      expect(await page.locator('#conversation-meta').textContent()).toContain('+48 601 234 567');
    },
    60_000,
  );
});
