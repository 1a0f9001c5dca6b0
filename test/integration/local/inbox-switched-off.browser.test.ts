import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { closedAfterEach, openInbox } from '#test/support/inbox-page.ts';
import { startTestSwitchboardThroughTwilio } from '#test/support/switchboard.ts';

// Session 31: a reply on a channel whose sending is switched off for its configuration is
// refused up front (503 CHANNEL_MISCONFIGURED, nothing sent or stored). The page read every 5xx
// as a server failure ("the reply may or may not have gone"), and kept the text locked for a
// retry under the same key.

const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';

describe('the inbox reply box while sending through Twilio is switched off', () => {
  let twilio: FakeTwilio | undefined;

  // After the app and the browser (vitest runs afterEach hooks last registered first)
  afterEach(async () => {
    await twilio?.close();
    twilio = undefined;
  });
  const opened = closedAfterEach();

  it('should say plainly that the reply was not sent and why, and give the text back to edit', async () => {
    // Prepare: a production deploy whose secret lost TWILIO_ACCOUNT_SID records a customer's SMS
    twilio = await startFakeTwilio();
    opened.sb = await startTestSwitchboardThroughTwilio(twilio);
    const off = opened.sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      NODE_ENV: 'production',
      TWILIO_ACCOUNT_SID: '',
      AGENT_API_TOKEN: PRODUCTION_TOKEN,
      SWITCHBOARD_INBOX: 'on',
    });
    await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    const id = (await opened.sb.onlyOpenConversation()).id;
    opened.browser = await openInbox(off, async () => 'pass', { hash: `#${id}`, token: PRODUCTION_TOKEN });
    const { page } = opened.browser;
    const box = page.getByLabel('Reply to the customer');
    await page.locator('#messages .text').getByText('Gdzie jest moja paczka?').waitFor({ timeout: 10_000 });
    const text = 'Paczka wyszła dziś rano.';
    await box.fill(text);

    // Act
    await page.getByRole('button', { name: 'Send reply' }).click();
    const refusal = (await page.getByRole('alert').getByText('Not sent').textContent()) ?? '';

    // Assess: what happened and what to do; the text back in the box, editable; nothing sent
    expect(refusal).toMatch(/^Not sent \(CHANNEL_MISCONFIGURED\): /);
    expect(refusal).toContain('switched off');
    expect(refusal).not.toContain('may or may not');
    expect({ kept: await box.inputValue(), editable: await box.isEditable() }).toEqual({
      kept: text,
      editable: true,
    });
    expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
  }, 60_000);
});
