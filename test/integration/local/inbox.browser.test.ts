import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#lib/local/server.ts';
import { type Browser, launchBrowser } from '#test/support/browser.ts';
import { signTwilio, twilioForm } from '#test/support/twilio-factory.ts';

type Started = { child: ChildProcess; url: string };

/** Runs `node lib/local/main.ts` (what npm start runs) on a free port, as npm-start.test.ts does. */
async function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['lib/local/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'development',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  for (let i = 0; i < 200; i++) {
    const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
    if (match?.[1] && output.includes('/inbox')) return { child, url: match[1] };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`npm start did not come up with the inbox:\n${output}`);
}

async function outbox(dataDir: string): Promise<Array<{ text: string; to: string }>> {
  const text = await readFile(join(dataDir, 'outbox.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('the inbox page', () => {
  let root: string;
  let dataDir: string;
  let running: Started | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'switchboard-inbox-'));
    dataDir = join(root, 'data');
  });
  afterAll(async () => {
    await browser?.close();
    running?.child.kill('SIGKILL');
    // The screenshot stays in `root` for a person to look at; the data go.
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should show a waiting SMS, send the reply typed on the page, and drop it from the waiting list', async () => {
    // Prepare
    running = await start(dataDir);
    const url = running.url;
    // The business's zone (switchboard.config.json): the page's dates are then the report's days.
    browser = await launchBrowser({ timezoneId: 'Europe/Warsaw' });
    const page = browser.page;
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
    const auth = { authorization: `Bearer ${secrets.AGENT_API_TOKEN}` };
    // Customer input that would run as markup if the page ever used innerHTML.
    const customerText = 'Dzień dobry <img src=x onerror="window.__injected=1"> gdzie paczka?';
    const replyText = 'Dzień dobry, paczka wyszła dziś rano. Anna';
    await page.goto(`${url}/inbox`);
    await page.getByLabel('API key').fill(secrets.AGENT_API_TOKEN);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByText('Nobody is waiting.').waitFor();
    const path = '/webhooks/twilio/messaging';
    const form = twilioForm('sms-polish', { From: '+48601234567', Body: customerText });
    const { body, headers } = signTwilio(`${url}${path}`, form, secrets.TWILIO_AUTH_TOKEN);
    const webhook = await fetch(`${url}${path}`, { method: 'POST', headers, body });

    // Act: the page's poll finds the conversation; open it, read it, answer it.
    const item = page.locator('#conversations').getByRole('button', { name: /phone:\+48601234567/ });
    await item.click({ timeout: 10_000 });
    await page.locator('#messages [data-kind="ack"]').waitFor({ timeout: 10_000 });
    const conversationId = await item.getAttribute('data-id');
    const note = await fetch(`${url}/api/conversations/${conversationId}/notes`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'inbox-test-note' },
      body: JSON.stringify({ text: 'Klientka pyta o zamówienie 1234.' }),
    });
    await page.getByLabel('Reply to the customer').fill(replyText);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('status').getByText('Reply sent.').waitFor();
    await page.locator('#messages [data-kind="note"]').waitFor({ timeout: 10_000 });
    await page.locator('#chart canvas').waitFor();
    const screenshot = join(root, 'inbox.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    await mkdir(join(PROJECT_ROOT, 'test', '.artifacts'), { recursive: true });
    await copyFile(screenshot, join(PROJECT_ROOT, 'test', '.artifacts', 'inbox.png'));
    console.log(`inbox screenshot: ${screenshot}`);

    // Assess
    expect(webhook.status).toBe(200);
    expect(note.status).toBe(201);
    const inbound = page.locator('#messages [data-kind="message"]').first();
    expect(await inbound.locator('.text').textContent()).toBe(customerText);
    expect(await page.locator('#messages img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __injected?: number }).__injected)).toBeUndefined();
    expect(await page.locator('#messages [data-kind="reply"] .text').textContent()).toBe(replyText);
    expect(await outbox(dataDir)).toContainEqual(
      expect.objectContaining({ to: '+48601234567', text: replyText }),
    );
    expect(await page.locator('#conversations [data-id]').count()).toBe(0);
    expect(await page.getByText('Nobody is waiting.').isVisible()).toBe(true);
    const waiting = await fetch(`${url}/api/conversations?awaiting=true`, { headers: auth });
    expect(((await waiting.json()) as { items: unknown[] }).items).toEqual([]);
    const today = page.locator('#chart-rows tr').last();
    const [received, answered, kept, median] = await today.locator('td').allTextContents();
    expect([received, answered, kept]).toEqual(['1', '1', '100 %']);
    expect(median).toMatch(/^\d+ min$|^\d+\.\d h$/);
    expect(pageErrors.filter((error) => !error.includes('404'))).toEqual([]);
  });
});
