import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { askApp } from '#test/support/browser.ts';
import { closedAfterEach, openInbox, useKey, writes } from '#test/support/inbox-page.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// Stop 31: what the inbox knows of a reply whose answer never came outlives a reload of the tab.

/** The Idempotency-Keys of the replies `page` posts, in order. */
function replyKeys(page: Page): string[] {
  const keys: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/replies')) {
      keys.push(request.headers()['idempotency-key'] ?? '');
    }
  });
  return keys;
}

/** The first reply (or note) `page` posts reaches the app, which acts on it; its answer is lost on the way back. */
async function loseFirstAnswer(
  page: Page,
  running: TestSwitchboard,
  what: 'replies' | 'notes',
): Promise<void> {
  let posted = 0;
  await page.route(`http://inbox.test/api/conversations/*/${what}`, async (route) => {
    posted++;
    if (posted > 1) return route.fallback();
    await askApp(running, route.request());
    await route.abort('failed');
  });
}

/**
 * `page`, open on a conversation whose customer wrote "Wiadomość 1", sends `text` as a reply that
 * reaches the app and goes, but whose answer is lost; the Idempotency-Keys of the replies it posts.
 */
async function replyLosingItsAnswer(page: Page, running: TestSwitchboard, text: string): Promise<string[]> {
  const keys = replyKeys(page);
  await loseFirstAnswer(page, running, 'replies');
  await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
  await page.getByLabel('Reply to the customer').fill(text);
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.getByRole('alert').getByText('The network failed').waitFor({ timeout: 10_000 });
  return keys;
}

describe('the inbox after a reload', () => {
  const opened = closedAfterEach();

  /** A customer at `phone` wrote "Wiadomość 1"; the inbox opens on their conversation. */
  async function oneCustomer(phone: string): Promise<{ running: TestSwitchboard; id: string; page: Page }> {
    const running = await startTestSwitchboard();
    opened.sb = running;
    await writes(running, phone, 1, 1);
    const id = (await running.onlyOpenConversation()).id;
    opened.browser = await openInbox(running, async () => 'pass', { hash: `#${id}` });
    return { running, id, page: opened.browser.page };
  }

  // Found at stop 31: the unanswered reply lived in the tab's memory only, so a reload showed an
  // empty box with nothing said, and the reply typed again went under a new Idempotency-Key: a
  // second time to the customer.
  it('should still say a reply had no answer after a reload, and send it again under its key, once to the customer', async () => {
    // Prepare: a customer waits; the reply goes out but its answer is lost
    const { running, id, page } = await oneCustomer('+48601000320');
    const box = page.getByLabel('Reply to the customer');
    const text = 'Paczka wyszła dziś rano.';
    const keys = await replyLosingItsAnswer(page, running, text);
    const stored = await page.evaluate(() => ({ ...sessionStorage }));

    // Act: the tab is reloaded (the agent confirms leaving); then the agent sends what the box
    // holds, or types the reply again if it is empty
    page.on('dialog', (dialog) => dialog.accept());
    await page.reload();
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    const afterReload = {
      box: await box.inputValue(),
      locked: !(await box.isEditable()),
      said: await page.locator('#reply-error').textContent(),
    };
    if (!afterReload.box) await box.fill(text);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('status').getByText('Reply sent.').waitFor({ timeout: 10_000 });
    const storedOnceSent = await page.evaluate(() => Object.keys(sessionStorage));

    // Assess: the box said the reply's fate was unknown; sent again under its key, it went once
    expect(afterReload).toEqual({
      box: text,
      locked: true,
      said: 'This reply was sent but no answer came back: it may or may not have gone. Press Send again: it is safe.',
    });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const sent = (await running.outbox()).filter((entry) => entry.text?.startsWith(text));
    expect(sent).toHaveLength(1);
    // Stored: the key where it was, and the reply with its Idempotency-Key and no API key beside
    // it; nothing once it is answered
    expect(stored).toEqual({
      'switchboard.apiKey': TEST_API_TOKEN,
      [`switchboard.unanswered.${id}`]: expect.any(String),
    });
    const kept = JSON.parse(stored[`switchboard.unanswered.${id}`] as string);
    expect(kept).toEqual({ text, key: keys[0], keyTag: expect.any(Number) });
    expect(storedOnceSent).toEqual(['switchboard.apiKey']);
  }, 60_000);

  it('should keep an unanswered reply across "Forget key" and a reload, without the key, and send it again once the same key is back', async () => {
    // Prepare: a customer waits; the reply goes out but its answer is lost
    const { running, page } = await oneCustomer('+48601000321');
    const box = page.getByLabel('Reply to the customer');
    const text = 'Zwrot przyjęty, pieniądze wrócą w 3 dni.';
    const keys = await replyLosingItsAnswer(page, running, text);

    // Act: the key is forgotten, the tab reloaded; the same key is pasted again and the agent
    // sends what the box holds, or types the reply again if it is empty
    await page.getByRole('button', { name: 'Forget key' }).click();
    page.on('dialog', (dialog) => dialog.accept());
    await page.reload();
    await page.getByLabel('API key').waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    await useKey(page, TEST_API_TOKEN);
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    const back = { box: await box.inputValue(), locked: !(await box.isEditable()) };
    if (!back.box) await box.fill(text);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('status').getByText('Reply sent.').waitFor({ timeout: 10_000 });

    // Assess: no key in storage while forgotten; the reply came back locked and went once
    expect(stored).not.toContain(TEST_API_TOKEN);
    expect(stored).toContain(keys[0]);
    expect(back).toEqual({ box: text, locked: true });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const sent = (await running.outbox()).filter((entry) => entry.text?.startsWith(text));
    expect(sent).toHaveLength(1);
  }, 60_000);

  // Found at stop 31 beside the replies: a note without an answer was lost with a reload too, and
  // the note typed again went under a new Idempotency-Key: stored twice.
  it('should still say a note had no answer after a reload, and add it again under its key, stored once', async () => {
    // Prepare: a customer waits; the note is stored but its answer is lost
    const { running, page } = await oneCustomer('+48601000322');
    await loseFirstAnswer(page, running, 'notes');
    const box = page.getByLabel('Internal note (the customer will not see it)');
    const text = 'Klient prosi o fakturę na firmę.';
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    await box.fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('#note-error').getByText('the network failed').waitFor({ timeout: 10_000 });

    // Act: the tab is reloaded; the agent adds what the box holds, or types the note again
    page.on('dialog', (dialog) => dialog.accept());
    await page.reload();
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    const back = { box: await box.inputValue(), said: await page.locator('#note-error').textContent() };
    if (!back.box) await box.fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });

    // Assess: the box said the note's fate was unknown; added again, it is stored once
    expect(back).toEqual({
      box: text,
      said: 'This note was added but no answer came back: it may or may not have been stored. Press Add note again: it is safe.',
    });
    await page.locator('#messages [data-kind="note"]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#messages [data-kind="note"] .text').allTextContents()).toEqual([text]);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['switchboard.apiKey']);
  }, 60_000);

  // Found at stop 35: a half-typed reply or note outlived a look at another conversation, but
  // not a reload: it lived in the tab's memory only.
  it('should keep the half-typed reply and note of each conversation across a reload, in this tab only, until sent or the key is forgotten', async () => {
    // Prepare: a customer waits; the agent types a reply and a note and sends neither
    const { running, page } = await oneCustomer('+48601000324');
    const box = page.getByLabel('Reply to the customer');
    const noteBox = page.getByLabel('Internal note (the customer will not see it)');
    const draft = 'Dzień dobry, sprawdzam';
    const note = 'Zadzwonić do magazynu';
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    await box.fill(draft);
    await noteBox.fill(note);

    // Act: the tab is reloaded (the agent confirms leaving); the reply is sent; then the key is
    // forgotten
    page.on('dialog', (dialog) => dialog.accept());
    await page.reload();
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    const back = { reply: await box.inputValue(), note: await noteBox.inputValue() };
    const stored = await page.evaluate(() => JSON.stringify([{ ...sessionStorage }, { ...localStorage }]));
    await box.fill(`${draft}, paczka wyszła.`);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('status').getByText('Reply sent.').waitFor({ timeout: 10_000 });
    const storedOnceSent = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    await page.reload();
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });
    const afterSent = { reply: await box.inputValue(), note: await noteBox.inputValue() };
    await page.getByRole('button', { name: 'Forget key' }).click();
    const storedOnceForgotten = await page.evaluate(() => Object.keys(sessionStorage));

    // Assess: both came back to their boxes, kept in this tab's storage only (the key beside
    // them as before, never in them); the reply's draft went with it, the note's stayed until the
    // key was forgotten
    expect(back).toEqual({ reply: draft, note });
    expect(stored).toContain(draft);
    expect(stored).toContain(note);
    expect(JSON.parse(stored)[1]).toEqual({ 'switchboard.language': 'en' });
    expect(stored.split(TEST_API_TOKEN)).toHaveLength(2);
    expect(storedOnceSent).not.toContain(draft);
    expect(storedOnceSent).toContain(note);
    expect(afterSent).toEqual({ reply: '', note });
    expect(storedOnceForgotten).toEqual([]);
    expect((await running.outbox()).filter((entry) => entry.text?.startsWith(draft))).toHaveLength(1);
  }, 60_000);

  // What the tab's storage holds is read as input: what the page did not write there is dropped,
  // never shown, never sent.
  it('should drop what it cannot read as a kept reply or note from the tab storage, and open the conversation as usual', async () => {
    // Prepare: a customer waits; the tab's storage holds items the page would not have written
    const { id, page } = await oneCustomer('+48601000323');
    const planted = {
      [`switchboard.unanswered.${id}`]: '{"text":',
      [`switchboard.unansweredNote.${id}`]: JSON.stringify({ text: 'Cudza notatka', key: 'x', keyTag: 1 }),
      'switchboard.unanswered.': JSON.stringify({ text: 'Bez rozmowy', key: 'a'.repeat(32), keyTag: 1 }),
    };
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.evaluate((items) => {
      for (const [name, value] of Object.entries(items)) sessionStorage.setItem(name, value);
    }, planted);

    // Act: the tab is reloaded
    await page.reload();
    await page.locator('#messages .text').getByText('Wiadomość 1').waitFor({ timeout: 10_000 });

    // Assess: an empty, open box, nothing said, nothing left of the items, no error
    expect(await page.getByLabel('Reply to the customer').inputValue()).toBe('');
    expect(await page.getByLabel('Reply to the customer').isEditable()).toBe(true);
    expect(await page.getByLabel('Internal note (the customer will not see it)').inputValue()).toBe('');
    expect(await page.locator('#reply-error').isHidden()).toBe(true);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['switchboard.apiKey']);
    expect(errors).toEqual([]);
  }, 60_000);
});
