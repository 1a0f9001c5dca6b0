import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { askApp, type Browser, fulfillFrom, launchBrowser } from '#test/support/browser.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// Stop 29: the agents' side in the agent's words. Who handles a conversation is one of the
// business's named people, offered and shown by name; the page's own words, the API's refusals,
// channels and attachments included, are in the page's language.

/** Anna and Piotr on the rota, Ewa (a manager) in `people.agents`. */
const business: BusinessConfig = {
  ...DEFAULT_BUSINESS_CONFIG,
  people: {
    default: 'anna',
    rota: [
      { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' },
      { id: 'piotr', name: 'Piotr Nowak', phone: '22 765 43 21' },
    ],
    agents: [{ id: 'ewa', name: 'Ewa Zielińska', email: 'ewa.zielinska@example.com' }],
  },
};

describe("the inbox page on the agents' side", () => {
  let sb: TestSwitchboard | undefined;
  let browser: Browser | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await sb?.stop();
    sb = undefined;
    await twilio?.close();
    twilio = undefined;
  });

  /** The inbox at `hash`, in `language`, served by `running`'s app. */
  async function openInbox(running: TestSwitchboard, hash: string, language: 'en' | 'pl'): Promise<Browser> {
    const opened = await launchBrowser({ timezoneId: 'Europe/Warsaw', language });
    await opened.page.route('http://inbox.test/**', async (route) => {
      const response = await askApp(running, route.request());
      await fulfillFrom(route, response).catch(() => undefined);
    });
    await opened.page.goto(`http://inbox.test/inbox${hash}`);
    return opened;
  }

  /** A key of Anna's own, with the reply scope. */
  async function annasKey(running: TestSwitchboard): Promise<string> {
    const created = await running.act('/admin/keys', {
      name: 'Anna at the desk',
      scopes: ['read', 'reply'],
      agentName: 'Anna Kowalska',
    });
    return ((await created.json()) as { token: string }).token;
  }

  it("should offer the business's people by name, assign by their id, and show a listed assignee by name and an unlisted one as stored", async () => {
    // Prepare: a customer waits, already assigned to Ewa by id (by another tool)
    const running = await startTestSwitchboard({ business });
    sb = running;
    await running.postSms({ From: '+48601000291', Body: 'Kto się mną zajmie?' });
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    await running.act(`/conversations/${id}/assign`, { assignee: 'ewa' });
    const token = await annasKey(running);
    browser = await openInbox(running, `#${id}`, 'en');
    const { page } = browser;
    const meta = page.locator('#conversation-meta');
    const field = page.getByRole('combobox', { name: 'Assigned to' });
    const assigneeOf = async () =>
      (
        (await (await running.api(`/api/conversations/${id}`)).json()) as {
          conversation: { assignee?: string };
        }
      ).conversation.assignee ?? null;

    // Act: the key; Ewa shown by name; then Piotr typed as people type, from the keyboard
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Use key' }).click();
    await meta.getByText('assigned to Ewa Zielińska').waitFor({ timeout: 10_000 });
    const shown = {
      field: await field.inputValue(),
      offered: await page
        .locator('#people option')
        .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value)),
    };
    await field.fill('piotr  nowak');
    await field.press('Enter');
    await meta.getByText('assigned to Piotr Nowak').waitFor({ timeout: 10_000 });
    const piotr = { stored: await assigneeOf(), field: await field.inputValue() };
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await meta.getByText('assigned to Anna Kowalska (you)').waitFor({ timeout: 10_000 });
    const mine = await assigneeOf();
    await field.fill('Ola');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await meta.getByText('assigned to Ola').waitFor({ timeout: 10_000 });

    // Assess
    expect(shown).toEqual({
      field: 'Ewa Zielińska',
      offered: ['Anna Kowalska', 'Piotr Nowak', 'Ewa Zielińska'],
    });
    expect(piotr).toEqual({ stored: 'piotr', field: 'Piotr Nowak' });
    expect(mine).toBe('anna');
    expect(await assigneeOf()).toBe('Ola');
    expect(await page.locator('#conversations .assignee').first().textContent()).toBe('assigned to Ola');
  }, 60_000);

  it("should say the API's refusals in the page's language, by their code, and the server's own words for a code it does not know", async () => {
    // Prepare: a customer waits on SMS; the page is in Polish
    const running = await startTestSwitchboard({ business });
    sb = running;
    await running.postSms({ From: '+48601000292', Body: 'Czy paczka już wyszła?' });
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    const token = await annasKey(running);
    browser = await openInbox(running, `#${id}`, 'pl');
    const { page } = browser;
    const replyError = page.locator('#reply-error');
    // A code no dictionary has: the page shows the server's message as it is.
    await page.route('http://inbox.test/api/conversations/*/resolve', (route) =>
      route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'SOMETHING_NEW', message: 'A reason from a newer server' } }),
      }),
    );

    // Act: a reply longer than an SMS takes; then a resolve the server refuses with a new code;
    // then a conversation that does not exist
    await page.getByLabel('Klucz API').fill(token);
    await page.getByRole('button', { name: 'Użyj klucza' }).click();
    await page.locator('#messages .text').getByText('Czy paczka już wyszła?').waitFor({ timeout: 10_000 });
    await page.getByLabel('Odpowiedź dla klienta').fill('a'.repeat(1_700));
    await page.getByRole('button', { name: 'Odpowiedz' }).click();
    await replyError.getByText('Nie wysłano').waitFor({ timeout: 10_000 });
    const tooLong = await replyError.textContent();
    await page.getByRole('button', { name: 'Zamknij rozmowę' }).click();
    await replyError.getByText('Nie zamknięto').waitFor({ timeout: 10_000 });
    const unknownCode = await replyError.textContent();
    await page.evaluate(() => {
      location.hash = '#conv_00000000000000000000000000';
    });
    await page.locator('#status').getByText('Nie udało się otworzyć rozmowy').waitFor({ timeout: 10_000 });
    const notFound = await page.locator('#status').textContent();

    // Assess
    expect(tooLong).toBe(
      'Nie wysłano (TEXT_TOO_LONG): odpowiedź jest za długa: SMS mieści najwyżej 1600 znaków razem z podpisem, który zajmuje 33 znaki; skróć tekst do 1567 znaków',
    );
    expect(unknownCode).toBe('Nie zamknięto (SOMETHING_NEW): A reason from a newer server');
    expect(notFound).toBe('Nie udało się otworzyć rozmowy: nie ma takiej rozmowy');
  }, 60_000);

  it("should name channels and attachment kinds in the page's language, not as the API spells them", async () => {
    // Prepare: an MMS with a photo and a PDF , then a
    // WhatsApp message from the same number
    const running = await startTestSwitchboard({ business });
    sb = running;
    await running.postTwilio('messaging', 'mms-two-media', { From: '+48601000293', To: '+48221234567' });
    running.clock.advance(60_000);
    await running.postSms({
      From: 'whatsapp:+48601000293',
      To: 'whatsapp:+48221234567',
      Body: 'I jeszcze jedno pytanie',
    });
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    const token = await annasKey(running);
    browser = await openInbox(running, `#${id}`, 'pl');
    const { page } = browser;
    const media = page.locator('#messages .media');

    // Act: the conversation in Polish, then in English
    await page.getByLabel('Klucz API').fill(token);
    await page.getByRole('button', { name: 'Użyj klucza' }).click();
    await media.first().waitFor({ timeout: 10_000 });
    const polish = {
      attachments: await media.first().textContent(),
      head: await page
        .locator('#messages li', { has: page.locator('.media') })
        .locator('.message-head')
        .textContent(),
      meta: await page.locator('#conversation-meta').textContent(),
      listed: await page.locator('#conversations .channel').first().textContent(),
    };
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    const english = {
      attachments: await media.first().textContent(),
      meta: await page.locator('#conversation-meta').textContent(),
      listed: await page.locator('#conversations .channel').first().textContent(),
    };

    // Assess
    expect(polish.attachments).toBe('2 załączniki: zdjęcie, dokument PDF');
    expect(polish.head).toMatch(/^Klient · MMS · /);
    expect(polish.meta).toMatch(/^Otwarta · kanały: MMS, WhatsApp · /);
    expect(polish.listed).toBe('WhatsApp');
    expect(english).toEqual({
      attachments: '2 attachments: image, PDF document',
      meta: expect.stringMatching(/^Open · channels: MMS, WhatsApp · /),
      listed: 'WhatsApp',
    });
  }, 60_000);

  // Stop 29: replies kept their Idempotency-Key across "Forget key"; notes did not, so a note
  // whose answer the forgotten key lost, added again once the key was back, was stored twice.
  it('should add a note once when the key was forgotten before its answer came and the agent adds it again under the same key', async () => {
    // Prepare: a customer waits; the note's request reaches the API only after the key is forgotten
    const running = await startTestSwitchboard({ business });
    sb = running;
    await running.postSms({ From: '+48601000294', Body: 'Proszę o fakturę na firmę.' });
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    const token = await annasKey(running);
    browser = await openInbox(running, `#${id}`, 'en');
    const { page } = browser;
    const keys: string[] = [];
    const { promise: slow, resolve: arrive } = Promise.withResolvers<void>();
    const stored = Promise.withResolvers<void>();
    await page.route('http://inbox.test/api/conversations/*/notes', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length === 1) await slow;
      const response = await askApp(running, route.request());
      if (keys.length === 1) stored.resolve();
      await fulfillFrom(route, response).catch(() => undefined);
    });
    const notesOf = async () =>
      (
        (await (await running.api(`/api/conversations/${id}`)).json()) as {
          messages: Array<{ kind: string }>;
        }
      ).messages.filter((message) => message.kind === 'note').length;
    const box = page.getByLabel('Internal note (the customer will not see it)');
    const text = 'Faktura na NIP 123-456-78-90.';
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page
      .locator('#messages .text')
      .getByText('Proszę o fakturę na firmę.')
      .waitFor({ timeout: 10_000 });

    // Act: the note is added, the key forgotten before the answer, the note stored meanwhile;
    // the same key is pasted back and the agent adds the note again (typing it if the box is empty)
    await box.fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => keys.length).toBe(1);
    await page.getByRole('button', { name: 'Forget key' }).click();
    arrive();
    await stored.promise;
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page
      .locator('#conversations')
      .getByRole('button', { name: /\+48 601 000 294/ })
      .click();
    await page
      .locator('#messages .text')
      .getByText('Proszę o fakturę na firmę.')
      .waitFor({ timeout: 10_000 });
    const kept = await box.inputValue();
    if (kept === '') await box.fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('status').getByText('Note added').waitFor({ timeout: 10_000 });

    // Assess: one note, because the second request carried the first one's key
    expect(await notesOf()).toBe(1);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(kept).toBe(text);
  }, 60_000);

  it("should say why the provider refused a reply, in the page's language, from the refusal's details", async () => {
    // Prepare: a customer waits; Twilio will refuse the reply (21610: they unsubscribed)
    twilio = await startFakeTwilio();
    const running = await startTestSwitchboardThroughTwilio(twilio, { business });
    sb = running;
    await running.postSms({ From: '+48601000295', Body: 'Czy zamówienie jest gotowe?' });
    await running.drain();
    const id = (await running.onlyOpenConversation()).id;
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    browser = await openInbox(running, `#${id}`, 'pl');
    const { page } = browser;

    // Act
    await page.getByLabel('Klucz API').fill(await annasKey(running));
    await page.getByRole('button', { name: 'Użyj klucza' }).click();
    await page
      .locator('#messages .text')
      .getByText('Czy zamówienie jest gotowe?')
      .waitFor({ timeout: 10_000 });
    await page.getByLabel('Odpowiedź dla klienta').fill('Tak, jest gotowe.');
    await page.getByRole('button', { name: 'Odpowiedz' }).click();
    await page.locator('#reply-error').getByText('Nie wysłano').waitFor({ timeout: 10_000 });

    // Assess
    expect(await page.locator('#reply-error').textContent()).toBe(
      'Nie wysłano (PROVIDER_REJECTED): dostawca je odrzucił: klient wypisał się z wiadomości (odpisał STOP) (błąd 21610)',
    );
  }, 60_000);
});
