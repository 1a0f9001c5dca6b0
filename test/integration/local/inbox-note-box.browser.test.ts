import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { contactDisplayName } from '#lib/domain/contact-label.ts';
import {
  closedAfterEach,
  holdingNotes,
  type Intercept,
  openInbox,
  UNAVAILABLE,
  writes,
} from '#test/support/inbox-page.ts';
import { startTestSwitchboard } from '#test/support/switchboard.ts';

// Stop 30: the note box while a note is on its way: what it says of the note, and what the agent
// types meanwhile, hold once the answer comes.

/** The note box's label. */
const NOTE_BOX = 'Internal note (the customer will not see it)';

/** Opens the conversation of the customer at `phone` from the list, and waits for its message `text`. */
async function showCustomer(page: Page, phone: string, text: string): Promise<void> {
  await page
    .locator('#conversations')
    .getByRole('button', { name: contactDisplayName({ key: `phone:${phone}` }) })
    .click();
  await page.locator('#messages .text').getByText(text, { exact: true }).waitFor({ timeout: 10_000 });
}

/** Types `text` in the note box and presses Add note. */
async function addNote(page: Page, text: string): Promise<void> {
  await page.getByLabel(NOTE_BOX).fill(text);
  await page.getByRole('button', { name: 'Add note' }).click();
}

describe('the inbox note box while a note is on its way', () => {
  const opened = closedAfterEach();

  /** A customer at `phone` wrote "Wiadomość 1"; the inbox shows their conversation, its requests through `intercept`. */
  async function oneCustomer(phone: string, intercept: Intercept): Promise<Page> {
    const running = await startTestSwitchboard();
    opened.sb = running;
    await writes(running, phone, 1, 1);
    const id = (await running.onlyOpenConversation()).id;
    opened.browser = await openInbox(running, intercept, { hash: `#${id}` });
    await opened.browser.page
      .locator('#messages .text')
      .getByText('Wiadomość 1')
      .waitFor({ timeout: 10_000 });
    return opened.browser.page;
  }

  /**
   * Two customers wrote, `first` "Wiadomość 1" and `second` "Wiadomość 100"; the inbox, its
   * requests through `intercept`, shows `first`'s conversation.
   */
  async function twoCustomers(first: string, second: string, intercept: Intercept): Promise<Page> {
    const running = await startTestSwitchboard();
    opened.sb = running;
    await writes(running, first, 1, 1);
    await writes(running, second, 100, 1);
    opened.browser = await openInbox(running, intercept);
    await showCustomer(opened.browser.page, first, 'Wiadomość 1');
    return opened.browser.page;
  }

  // Found at stop 30, looking for the same fault beside the status line: back on a conversation
  // whose note was still on its way, the note box said no answer had come back (as after a
  // failure), and that stayed under the emptied box once the note was added.
  it('should say a note is still being added when the agent comes back to it, and nothing once it is added', async () => {
    // Prepare: two customers; the note on the first one's conversation is held
    const { intercept, release, posted } = holdingNotes('each');
    const page = await twoCustomers('+48601000307', '+48601000308', intercept);
    const noteError = page.locator('#note-error');
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Oddzwonić po 15:00.');
    await expect.poll(posted).toBe(1);

    // Act: the agent looks at the other customer and comes back while the note is on its way;
    // then its answer comes
    await showCustomer(page, '+48601000308', 'Wiadomość 100');
    await showCustomer(page, '+48601000307', 'Wiadomość 1');
    const meanwhile = await noteError.textContent();
    release();
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });

    // Assess: no word under the box once the note was added, and "still adding" while it ran
    expect(await noteError.isHidden()).toBe(true);
    expect(await box.inputValue()).toBe('');
    expect(meanwhile).toBe('Still adding: no answer has come back yet. It shows here when it does.');
  }, 60_000);

  // Found at stop 30 beside the note box's words: the note box stays open to typing while a note
  // is on its way, and the answer emptied it, taking what the agent had typed since.
  it('should keep a note typed while the previous one was on its way when that one is added', async () => {
    // Prepare: a customer waits; the first note's request is held
    const { intercept, release, posted } = holdingNotes('first');
    const page = await oneCustomer('+48601000310', intercept);
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Pierwsza notatka.');
    await expect.poll(posted).toBe(1);

    // Act: the agent types the next note meanwhile; then the first one is added
    await box.fill('Druga notatka, jeszcze niedodana.');
    release();
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });

    // Assess: the first note is in the timeline, the second still in the box
    expect(await page.locator('#messages [data-kind="note"] .text').allTextContents()).toEqual([
      'Pierwsza notatka.',
    ]);
    expect(await box.inputValue()).toBe('Druga notatka, jeszcze niedodana.');
  }, 60_000);

  it('should keep a note typed while the previous one was on its way, as a draft, when the agent looked at another customer meanwhile', async () => {
    // Prepare: two customers; the first note on the first one's conversation is held
    const { intercept, release, posted } = holdingNotes('first');
    const page = await twoCustomers('+48601000311', '+48601000312', intercept);
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Pierwsza notatka.');
    await expect.poll(posted).toBe(1);

    // Act: the agent types the next note, looks at the other customer, and the first note is
    // added meanwhile; then they come back
    await box.fill('Druga notatka, jeszcze niedodana.');
    await showCustomer(page, '+48601000312', 'Wiadomość 100');
    release();
    await page.getByRole('status').getByText('was added').waitFor({ timeout: 10_000 });
    await page.locator('#conversations').getByRole('button', { name: '+48 601 000 311' }).click();
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });

    // Assess: the second note waits in the box, with nothing said under it
    expect(await box.inputValue()).toBe('Druga notatka, jeszcze niedodana.');
    expect(await page.locator('#note-error').isHidden()).toBe(true);
  }, 60_000);

  // Found at stop 31: a note typed after one was added, left for another customer and come back
  // to while the first was still on its way, was out of sight (the box showed the note on its
  // way) and gone once that note was added (its answer emptied the box and dropped the draft).
  it('should show the note typed meanwhile, never drop it, when the agent comes back while the previous one is on its way', async () => {
    // Prepare: two customers; the first note on the first one's conversation is held
    const { intercept, release, posted } = holdingNotes('first');
    const page = await twoCustomers('+48601000313', '+48601000314', intercept);
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Pierwsza notatka.');
    await expect.poll(posted).toBe(1);

    // Act: the agent types the next note, looks at the other customer, comes back while the first
    // note is still on its way; then it is added
    await box.fill('Druga notatka, jeszcze niedodana.');
    await showCustomer(page, '+48601000314', 'Wiadomość 100');
    await showCustomer(page, '+48601000313', 'Wiadomość 1');
    const meanwhile = { box: await box.inputValue(), said: await page.locator('#note-error').textContent() };
    release();
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });

    // Assess: the second note was in the box all along, with a word on the first; it stays there
    expect(meanwhile).toEqual({
      box: 'Druga notatka, jeszcze niedodana.',
      said: 'Your previous note is still being added: no answer has come back yet. It shows among the messages when it does; what you typed here stays.',
    });
    expect(await page.locator('#messages [data-kind="note"] .text').allTextContents()).toEqual([
      'Pierwsza notatka.',
    ]);
    expect(await box.inputValue()).toBe('Druga notatka, jeszcze niedodana.');
    expect(await page.locator('#note-error').isHidden()).toBe(true);
  }, 60_000);

  it('should show the note typed meanwhile when the agent comes back after the previous one had no answer', async () => {
    // Prepare: two customers; the first note on the first one's conversation is held, then fails
    const { intercept, release, posted } = holdingNotes('first', UNAVAILABLE);
    const page = await twoCustomers('+48601000315', '+48601000316', intercept);
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Pierwsza notatka.');
    await expect.poll(posted).toBe(1);

    // Act: the agent types the next note and looks at the other customer; the first note fails
    // meanwhile; they come back and add the first note again, word for word
    await box.fill('Druga notatka, jeszcze niedodana.');
    await showCustomer(page, '+48601000316', 'Wiadomość 100');
    release();
    await page.getByRole('status').getByText('the server failed').waitFor({ timeout: 10_000 });
    await showCustomer(page, '+48601000315', 'Wiadomość 1');
    const back = { box: await box.inputValue(), said: await page.locator('#note-error').textContent() };
    await addNote(page, 'Pierwsza notatka.');
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });

    // Assess: the second note was in the box, the first told of; added again, it is stored once
    expect(back).toEqual({
      box: 'Druga notatka, jeszcze niedodana.',
      said: 'Your previous note had no answer: it may or may not have been stored (read the messages above). What you typed here stays; to add the previous one again, add it word for word before another note: it is stored once.',
    });
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#messages [data-kind="note"] .text').allTextContents()).toEqual([
      'Pierwsza notatka.',
    ]);
  }, 60_000);

  // Found at stop 31 beside the box's words: a note that failed while the box held the next one
  // said "Press Add note again: it is safe", and Add note then added the next one, not it.
  it('should say the previous note had no answer, not "press Add note again", when it fails while the box holds the next one', async () => {
    // Prepare: a customer waits; the first note is held, then fails
    const { intercept, release, posted } = holdingNotes('first', UNAVAILABLE);
    const page = await oneCustomer('+48601000317', intercept);
    const box = page.getByLabel(NOTE_BOX);
    await addNote(page, 'Pierwsza notatka.');
    await expect.poll(posted).toBe(1);

    // Act: the agent types the next note; the first one fails meanwhile
    await box.fill('Druga notatka, jeszcze niedodana.');
    release();
    await page.locator('#note-error').getByText('note').waitFor({ timeout: 10_000 });

    // Assess: the box keeps the next note, and the words are about the first
    expect(await box.inputValue()).toBe('Druga notatka, jeszcze niedodana.');
    expect(await page.locator('#note-error').textContent()).toBe(
      'Your previous note had no answer: it may or may not have been stored (read the messages above). What you typed here stays; to add the previous one again, add it word for word before another note: it is stored once.',
    );
  }, 60_000);
});
