import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { postSesMail, sesIntake } from '#test/support/email.ts';
import { closedAfterEach, openInbox } from '#test/support/inbox-page.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard } from '#test/support/switchboard.ts';

// Stop 35: an email address opted out before Switchboard kept the reason was read as a STOP, and
// the conversation's header said "their START lifts it": mail has no START.

const ZOFIA_KEY = 'email:zofia.wojcik@poczta.example.pl';

describe('the inbox says why an email customer gets no automatic mail', () => {
  const opened = closedAfterEach();

  it.each([
    ['en', 'bounced for good or was marked as spam'],
    ['pl', 'trwale niedoręczalny albo został oznaczony jako spam'],
  ] as const)(
    'should say a legacy email opt-out in %s as a bounce or a complaint, promising no START',
    async (language, words) => {
      // Prepare: Zofia's mail, and her address opted out before stop 34 (no reason stored)
      const running = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
      opened.sb = running;
      const mail = {
        from: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
        messageId: 'q-1@poczta.example.pl',
      };
      expect((await postSesMail(running, mail)).status).toBe(200);
      await running.backends.dynamodb.send(
        new UpdateItemCommand({
          TableName: running.backends.tableName,
          Key: { pk: { S: `CONTACT#${ZOFIA_KEY}` }, sk: { S: 'CONTACT' } },
          UpdateExpression: 'SET optedOut = :true, consentAt = :at',
          ExpressionAttributeValues: { ':true': { BOOL: true }, ':at': { S: TEST_NOW.toISOString() } },
        }),
      );
      const { id } = await running.onlyOpenConversation();

      // Act
      opened.browser = await openInbox(running, async () => 'pass', { hash: `#${id}`, language });

      // Assess
      const { page } = opened.browser;
      await page.getByText(words, { exact: false }).first().waitFor({ timeout: 10_000 });
      expect(await page.getByText('START', { exact: false }).count()).toBe(0);
    },
  );
});
