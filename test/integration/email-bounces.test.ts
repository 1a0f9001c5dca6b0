import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import {
  drainWith,
  permanentBounce,
  postSesFeedback,
  postSesMail,
  sesIntake,
  sesRuntime,
} from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// Our own mail that bounces or is marked as spam. SES reports it through the configuration set
// our sends name, to the SNS topic whose signature the SES route already checks. Before, the
// route ignored every SES notification but a received mail: an agent never learnt that their
// reply bounced, and a customer who marked our ack as spam (or whose mailbox does not exist)
// was acknowledged again at their next mail.

const ZOFIA = 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>';
const HOUR = 60 * 60 * 1000;

describe('SES bounces and complaints of our own mail', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;

  afterEach(async () => {
    await ses?.close();
    await sb?.stop();
  });

  /** Zofia mails a question; its ack goes out through SES (faked). */
  async function zofiaAsks(messageId = 'q-1@poczta.example.pl'): Promise<void> {
    const response = await postSesMail(sb, { from: ZOFIA, messageId });
    expect(response.status).toBe(200);
    await drainWith(sb, http);
  }

  async function start(): Promise<void> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses, 'switchboard-test');
    await zofiaAsks();
    expect(ses.requests).toHaveLength(1);
    // Named on every send (SES_CONFIGURATION_SET): its bounces and complaints come back so.
    expect(ses.requests[0]?.body.ConfigurationSetName).toBe('switchboard-test');
  }

  async function agentReplies(key: string): Promise<Response> {
    const { id } = await sb.onlyOpenConversation();
    return http.app.request(`/api/conversations/${id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ text: 'Faktura jest w załączniku, pozdrawiam.' }),
    });
  }

  function sesIdOf(index: number): string {
    const id = ses.requests[index]?.messageId;
    if (!id) throw new Error(`no SES send #${index}`);
    return id;
  }

  async function contactOptedOut(): Promise<boolean | undefined> {
    return (await sb.runtime.store.getContact('email:zofia.wojcik@poczta.example.pl'))?.optedOut;
  }

  // Until stop 34 the stop held for ever: Zofia's own next mail from that address, which proves
  // it works, got no ack either. It now lifts the bounce (email-opt-out-reasons.test.ts).
  it('should fail the ack with the bounce’s reason and acknowledge that address only once it writes again', async () => {
    // Prepare
    await start();

    // Act: the mailbox does not exist; SNS delivers the report twice.
    const bounce = { messageId: sesIdOf(0), eventType: 'Bounce' as const, event: permanentBounce() };
    const logged = sb.log.lines.length;
    const first = await postSesFeedback(sb, bounce, { snsMessageId: 'sns-bounce-1' });
    const again = await postSesFeedback(sb, bounce, { snsMessageId: 'sns-bounce-1' });

    // Assess
    expect([first.status, again.status]).toEqual([200, 200]);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:ses-bounce:NoEmail:5.1.1',
    });
    expect(await contactOptedOut()).toBe(true);
    const failed = (await sb.events()).filter((event) => event.type === 'ack.failed');
    expect(failed).toHaveLength(1);
    // No third party's address (nor Zofia's) in the logs: the diagnostic's text never goes there.
    expect(JSON.stringify(sb.log.lines.slice(logged))).not.toContain('poczta.example.pl');

    // An agent still answers by hand; Zofia's next question, hours later, proves her address
    // works: the bounce is lifted and her question acknowledged.
    expect((await agentReplies('reply-1')).status).toBe(201);
    expect(ses.requests).toHaveLength(2);
    expect(ses.requests[1]?.body.ConfigurationSetName).toBe('switchboard-test');
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(ses.requests).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(await contactOptedOut()).toBe(false);
  });

  it('should show an agent’s bounced reply as failed, tell their tool once, and stop the acks to that address until it writes', async () => {
    // Prepare
    await start();
    expect((await agentReplies('reply-1')).status).toBe(201);

    // Act
    const bounce = { messageId: sesIdOf(1), eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);

    // Assess
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.replyFailure).toMatchObject({
      status: 'failed',
      errorCode: 'ses-bounce:NoEmail:5.1.1',
    });
    const failed = (await sb.events()).filter((event) => event.type === 'reply.failed');
    expect(failed).toHaveLength(1);
    expect(await contactOptedOut()).toBe(true);
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(await contactOptedOut()).toBe(false);
    expect(ses.requests).toHaveLength(3);
  });

  it('should acknowledge a customer who marked our ack as spam never again, while an agent may still answer', async () => {
    // Prepare
    await start();

    // Act
    const complaint = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: {
        complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
        timestamp: '2026-11-10T09:00:00.000Z',
        feedbackId: '0102019a-complaint-000000',
        complaintFeedbackType: 'abuse',
      },
    };
    expect((await postSesFeedback(sb, complaint)).status).toBe(200);

    // Assess: the ack itself went (it is no failure); no ack after it, an agent's answer goes.
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(await contactOptedOut()).toBe(true);
    expect((await agentReplies('reply-1')).status).toBe(201);
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(ses.requests).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
  });

  // Found by the review of stop 33: SES passes the report's Feedback-Type on as
  // complaintFeedbackType, and RFC 5965's `not-spam` is a report that the mail is NOT spam (a
  // mailbox provider correcting a misfiled one). It opted the customer out like `abuse`.
  it('should keep acknowledging a customer whose mailbox provider reports our mail as not spam', async () => {
    // Prepare
    await start();

    // Act
    const notSpam = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: {
        complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
        timestamp: '2026-11-10T09:00:00.000Z',
        feedbackId: '0102019a-complaint-000001',
        complaintFeedbackType: 'not-spam',
      },
    };
    expect((await postSesFeedback(sb, notSpam)).status).toBe(200);
    expect((await agentReplies('reply-1')).status).toBe(201);
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess: still opted in, her next question (after the agent's answer) acknowledged
    expect(await contactOptedOut()).toBe(false);
    expect(ses.requests).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
  });

  it('should change nothing for a transient bounce, an unknown mail, or a report whose signature does not hold', async () => {
    // Prepare
    await start();
    const transient = { ...permanentBounce(), bounceType: 'Transient', bounceSubType: 'MailboxFull' };

    // Act
    const soft = await postSesFeedback(sb, { messageId: sesIdOf(0), eventType: 'Bounce', event: transient });
    const unknown = await postSesFeedback(sb, {
      messageId: '0102019aunknown-000000',
      eventType: 'Bounce',
      event: permanentBounce(),
    });
    const forged = await postSesFeedback(
      sb,
      { messageId: sesIdOf(0), eventType: 'Bounce', event: permanentBounce() },
      { tamper: true },
    );

    // Assess
    expect([soft.status, unknown.status, forged.status]).toEqual([200, 200, 403]);
    expect(await forged.text()).not.toMatch(/\bat \w+ \(/);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(await contactOptedOut()).toBe(false);
  });

  it('should refuse a bounce that names no mail with a 400 and change nothing', async () => {
    // Prepare
    await start();

    // Act
    const response = await postSesFeedback(sb, {
      messageId: '',
      eventType: 'Bounce',
      event: permanentBounce(),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.text()).not.toMatch(/\bat \w+ \(/);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
  });
});
