import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import {
  drainWith,
  mailgunMail,
  permanentBounce,
  postSesFeedback,
  sesIntake,
  sesRuntime,
} from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { beforeCall, pkStartsWith } from '#test/support/faults.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A mail that came in through Mailgun is answered through SES, as every mail of ours is: SES's
// bounce or complaint names SES's id. The send's alias was written under the conversation's
// provider (`PMID#mailgun:<SES id>`) and the report looked up under `ses`: held a day and
// dropped, the ack never failed, the address never opted out, acknowledged again at its next mail.

const ZOFIA = 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>';
const ZOFIA_KEY = 'email:zofia.wojcik@poczta.example.pl';

describe('SES reports of our mail on a conversation that came through Mailgun', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;

  afterEach(async () => {
    await ses?.close();
    await sb?.stop();
  });

  /** Zofia's question comes through Mailgun; its ack goes out through SES (faked). */
  async function start(beforeDrain?: () => void): Promise<string> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses, 'switchboard-test');
    const ask = mailgunMail({ from: ZOFIA, messageId: 'q-1@poczta.example.pl' });
    expect((await sb.postMailgun(signMailgun(ask))).status).toBe(200);
    beforeDrain?.();
    await drainWith(sb, http);
    expect(ses.requests).toHaveLength(1);
    if (!beforeDrain) expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    const id = ses.requests[0]?.messageId;
    if (!id) throw new Error('no SES send');
    return id;
  }

  function alias(provider: string, id: string) {
    return { pk: { S: `PMID#${provider}:${id}` }, sk: { S: 'PMID' } };
  }

  /** The send's alias where the previous release wrote it: under the conversation's provider. */
  async function moveAliasToMailgun(sesId: string): Promise<void> {
    const { dynamodb, tableName } = sb.backends;
    const current =
      (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: alias('ses', sesId) }))).Item ??
      (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: alias('mailgun', sesId) }))).Item;
    if (!current) throw new Error('no alias for the send');
    await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: alias('ses', sesId) }));
    await dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { ...current, ...alias('mailgun', sesId) } }),
    );
  }

  it('should fail the ack and opt the address out on SES’s permanent bounce', async () => {
    // Prepare
    const sesId = await start();

    // Act
    const bounce = { messageId: sesId, eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);

    // Assess
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:ses-bounce:NoEmail:5.1.1',
    });
    expect((await sb.runtime.store.getContact(ZOFIA_KEY))?.optedOut).toBe(true);
    expect((await sb.events()).filter((event) => event.type === 'ack.failed')).toHaveLength(1);
  });

  it('should opt the address out on SES’s complaint, the ack staying sent', async () => {
    // Prepare
    const sesId = await start();

    // Act
    const complaint = {
      messageId: sesId,
      eventType: 'Complaint' as const,
      event: {
        complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
        timestamp: '2026-11-10T09:00:00.000Z',
        feedbackId: '0102019a-complaint-000000',
        complaintFeedbackType: 'abuse',
      },
    };
    expect((await postSesFeedback(sb, complaint)).status).toBe(200);

    // Assess
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect((await sb.runtime.store.getContact(ZOFIA_KEY))?.optedOut).toBe(true);
  });

  it('should find a send whose alias the previous release wrote under mailgun', async () => {
    // Prepare: the alias moved where the previous release wrote it.
    const sesId = await start();
    await moveAliasToMailgun(sesId);

    // Act
    const bounce = { messageId: sesId, eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);

    // Assess
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect((await sb.runtime.store.getContact(ZOFIA_KEY))?.optedOut).toBe(true);
  });

  it('should apply a bounce SES reported before the worker wrote the send’s alias (held for it)', async () => {
    // Prepare: SNS brings the bounce between SES's answer and the alias's write.
    let race: ReturnType<typeof beforeCall> | undefined;
    let held = 0;

    // Act
    await start(() => {
      race = beforeCall(
        sb.backends.dynamodb,
        { command: 'UpdateItemCommand', match: pkStartsWith('PMID#') },
        async () => {
          const sesId = ses.requests[0]?.messageId ?? '';
          const bounce = { messageId: sesId, eventType: 'Bounce' as const, event: permanentBounce() };
          held = (await postSesFeedback(sb, bounce)).status;
        },
      );
    });

    // Assess
    expect(race?.fired).toBe(true);
    expect(held).toBe(200);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:ses-bounce:NoEmail:5.1.1',
    });
    expect((await sb.runtime.store.getContact(ZOFIA_KEY))?.optedOut).toBe(true);
  });

  it('should join a colleague’s answer to mail whose alias the previous release wrote under mailgun', async () => {
    // Prepare
    const sesId = await start();
    await moveAliasToMailgun(sesId);
    sb.clock.advance(60_000);

    // Act: Piotr answers our ack to all, through Mailgun.
    const answer = mailgunMail({
      from: 'Piotr Nowak <piotr.nowak@firma.example>',
      messageId: 'p-1@firma.example',
      subject: 'Re: Pytanie o fakturę',
      body: 'Dołączam numer zamówienia: 4711.',
      extraHeaders: [['In-Reply-To', `<${sesId}@eu-west-1.amazonses.com>`]],
    });
    expect((await sb.postMailgun(signMailgun(answer))).status).toBe(200);
    await drainWith(sb, http);

    // Assess: one conversation, Zofia's, and no ack to Piotr.
    const page = (await (await sb.api('/api/conversations?status=open')).json()) as {
      items: Array<{ contact: { key: string } }>;
    };
    expect(page.items.map((conversation) => conversation.contact.key)).toEqual([ZOFIA_KEY]);
    expect(ses.requests).toHaveLength(1);
  });
});
