import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { askApp, type Browser, fulfillFrom, launchBrowser } from '#test/support/browser.ts';
import { postSesMail, sesIntake } from '#test/support/email.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Outlook's winmail.dat was listed as a "file" (plik), which the agent's computer opens as
// nothing: the page says what it is and where it opens.

const eml = (name: string) =>
  readFileSync(new URL(`../../fixtures/email/${name}.eml`, import.meta.url), 'utf8');

describe('the inbox page showing a mail from Outlook with winmail.dat', () => {
  let sb: TestSwitchboard | undefined;
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await sb?.stop();
    sb = undefined;
  });

  it('should name winmail.dat as Outlook’s attachment bundle, in the page’s language', async () => {
    // Prepare: a question from Outlook with its winmail.dat
    const running = await startTestSwitchboard(sesIntake());
    sb = running;
    const question = eml('outlook-winmail').replace('Dzi=EAkuj=EA bardzo!', 'Kiedy b=EAdzie dostawa?');
    expect((await postSesMail(running, question)).status).toBe(200);
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    const created = await running.act('/admin/keys', {
      name: 'Anna at the desk',
      scopes: ['read'],
      agentName: 'Anna Kowalska',
    });
    const { token } = (await created.json()) as { token: string };
    browser = await launchBrowser({ timezoneId: 'Europe/Warsaw', language: 'pl' });
    const { page } = browser;
    await page.route('http://inbox.test/**', async (route) => {
      await fulfillFrom(route, await askApp(running, route.request())).catch(() => undefined);
    });
    await page.goto(`http://inbox.test/inbox#${id}`);
    const media = page.locator('#messages .media');

    // Act: the conversation in Polish, then in English
    await page.getByLabel('Klucz API').fill(token);
    await page.getByRole('button', { name: 'Użyj klucza' }).click();
    await media.first().waitFor({ timeout: 10_000 });
    const polish = await media.first().textContent();
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    const english = await media.first().textContent();

    // Assess
    expect(polish).toBe('1 załącznik: pakiet załączników Outlooka (winmail.dat), otwórz go w Outlooku');
    expect(english).toBe('1 attachment: Outlook attachment bundle (winmail.dat), open it in Outlook');
  }, 60_000);
});
