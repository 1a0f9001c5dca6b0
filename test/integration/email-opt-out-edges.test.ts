import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
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

// Email opt-outs at their edges (stop 35): a bounce reported after the address has written to us
// since (its mailbox demonstrably works), an opt-out stored before the reasons were (a bounce or a
// complaint, never a STOP: mail has none), and the customer's own mail while the bounced ack is
// still their waiting episode's (they were never told when they will hear back).

const ZOFIA = 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>';
const ZOFIA_KEY = 'email:zofia.wojcik@poczta.example.pl';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('email opt-outs at their edges', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;

  afterEach(async () => {
    await ses?.close();
    ses = undefined as unknown as FakeSes;
    await sb?.stop();
  });

  async function zofiaAsks(messageId: string): Promise<void> {
    const response = await postSesMail(sb, { from: ZOFIA, messageId });
    expect(response.status).toBe(200);
    await drainWith(sb, http);
  }

  async function start(): Promise<void> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses, 'switchboard-test');
    await zofiaAsks('q-1@poczta.example.pl');
    expect(ses.requests).toHaveLength(1);
  }

  async function agentReplies(key: string): Promise<void> {
    const { id } = await sb.onlyOpenConversation();
    const response = await http.app.request(`/api/conversations/${id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ text: 'Faktura jest w załączniku, pozdrawiam.' }),
    });
    expect(response.status).toBe(201);
  }

  function sesIdOf(index: number): string {
    const id = ses.requests[index]?.messageId;
    if (!id) throw new Error(`no SES send #${index}`);
    return id;
  }

  const at = (ms: number) => new Date(TEST_NOW.getTime() + ms).toISOString();

  function bounceOf(index: number, timestamp: string) {
    return {
      messageId: sesIdOf(index),
      eventType: 'Bounce' as const,
      event: { ...permanentBounce(), timestamp },
    };
  }

  async function contactView(): Promise<Record<string, unknown>> {
    const response = await sb.api(`/api/contacts?key=${encodeURIComponent(ZOFIA_KEY)}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { contact: Record<string, unknown> }).contact;
  }

  async function conversationOptOut(): Promise<unknown> {
    const { id } = await sb.onlyOpenConversation();
    const response = await sb.api(`/api/conversations/${id}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { optedOut?: unknown }).optedOut;
  }

  // Gap 1 of stop 34's closing note: the agent's mail of Monday bounced, Zofia wrote on Tuesday
  // from that address, SES's report of Monday's bounce came on Wednesday: she was opted out.
  it('should not opt out for a bounce dated before the address’s own later mail, and still for a newer one', async () => {
    // Prepare: Monday the agent answers (that mail bounces 10 minutes later); Tuesday she asks
    // again from the same address, acknowledged
    await start();
    await agentReplies('reply-1');
    sb.clock.advance(DAY);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(ses.requests).toHaveLength(3);

    // Act: Wednesday, the report of Monday's bounce (SNS delivers it twice)
    sb.clock.advance(DAY);
    const late = bounceOf(1, at(10 * MINUTE));
    expect((await postSesFeedback(sb, late, { snsMessageId: 'sns-late' })).status).toBe(200);
    expect((await postSesFeedback(sb, late, { snsMessageId: 'sns-late' })).status).toBe(200);

    // Assess: her mailbox works; the bounced reply still says it bounced
    expect((await contactView()).optedOut).toBe(false);
    expect(await conversationOptOut()).toBeNull();
    expect((await sb.events()).filter((event) => event.type === 'reply.failed')).toHaveLength(1);

    // A bounce dated after her Tuesday mail (of its ack) opts her out, as ever
    const newer = bounceOf(2, at(DAY + 5 * MINUTE));
    expect((await postSesFeedback(sb, newer)).status).toBe(200);
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce' });
  });

  it('should let a complaint made before the address’s later mail opt it out all the same', async () => {
    // Prepare
    await start();
    sb.clock.advance(DAY);
    await agentReplies('reply-1');
    sb.clock.advance(HOUR);
    await zofiaAsks('q-2@poczta.example.pl');

    // Act: her complaint about Monday's ack, made before her mail, reported after it
    const spam = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: {
        complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
        timestamp: at(HOUR),
        feedbackId: 'c-early',
        complaintFeedbackType: 'abuse',
      },
    };
    expect((await postSesFeedback(sb, spam)).status).toBe(200);

    // Assess
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'complaint' });
  });

  // Gap 2: before stop 34 a bounce and a complaint both opted an address out with no reason, read
  // as a STOP, and the inbox said "their START lifts it": mail has no START.
  it('should say an email opt-out stored without a reason as a bounce or a complaint, and let no mail lift it', async () => {
    // Prepare: an item written before stop 34 (opted out, no reason)
    await start();
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `CONTACT#${ZOFIA_KEY}` }, sk: { S: 'CONTACT' } },
        UpdateExpression: 'SET optedOut = :true, consentAt = :at REMOVE optedOutReason, optedOutReasonAt',
        ExpressionAttributeValues: { ':true': { BOOL: true }, ':at': { S: at(HOUR) } },
      }),
    );
    await agentReplies('reply-1');

    // Act
    sb.clock.advance(3 * HOUR);
    const sent = ses.requests.length;
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce-or-complaint' });
    expect(await conversationOptOut()).toEqual({ reason: 'bounce-or-complaint', at: at(HOUR) });
    expect(ses.requests).toHaveLength(sent);
  });

  // Gap 3: the bounce lifted, but the episode's bounced ack stayed failed: the customer never heard
  // when they would hear back.
  it('should acknowledge the waiting episode once when the address’s own mail lifts the bounce of its ack', async () => {
    // Prepare: her ack bounces; no agent has answered yet
    await start();
    expect((await postSesFeedback(sb, bounceOf(0, at(MINUTE)))).status).toBe(200);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    expect((await contactView()).optedOut).toBe(true);

    // Act: an hour later she writes again in the same episode (SNS delivers it twice)
    sb.clock.advance(HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess: the ack goes again, once, and says the promise of her new mail
    expect((await contactView()).optedOut).toBe(false);
    expect(ses.requests).toHaveLength(2);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.episode).toBe(1);
    expect(conversation.ack).toMatchObject({ state: 'sent', episode: 1 });

    // Her next mail in the episode is no reason for a third
    sb.clock.advance(MINUTE);
    await zofiaAsks('q-3@poczta.example.pl');
    expect(ses.requests).toHaveLength(2);
  });

  it('should send the episode’s ack once when two of her mails lift the bounce of its ack at once', async () => {
    // Prepare
    await start();
    expect((await postSesFeedback(sb, bounceOf(0, at(MINUTE)))).status).toBe(200);
    sb.clock.advance(HOUR);

    // Act
    const responses = await Promise.all([
      postSesMail(sb, { from: ZOFIA, messageId: 'q-2@poczta.example.pl' }),
      postSesMail(sb, { from: ZOFIA, messageId: 'q-3@poczta.example.pl' }),
    ]);
    await drainWith(sb, http);

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect((await contactView()).optedOut).toBe(false);
    expect(ses.requests).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent', episode: 1 });
  });

  // SNS delivers her Monday mail again (its first try timed out after it was recorded): the same
  // mail, not a newer one; her mailbox was last shown to work when it was received.
  it('should let a bounce after her mail opt her out when SNS delivers that mail again before the report', async () => {
    // Prepare: the agent answers; the answer bounces 10 minutes later
    await start();
    await agentReplies('reply-1');

    // Act: an hour later SNS redelivers her first mail; then the bounce report comes
    sb.clock.advance(HOUR);
    await zofiaAsks('q-1@poczta.example.pl');
    sb.clock.advance(HOUR);
    expect((await postSesFeedback(sb, bounceOf(1, at(10 * MINUTE)))).status).toBe(200);

    // Assess
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce' });
  });

  // A web form's mail (or another mailbox's) naming her address in Reply-To is recorded under her
  // contact, but it is not her mailbox writing: it proves nothing of it.
  const FORM = 'Formularz kontaktowy <formularz@sklep-formy.example>';
  const viaForm = (messageId: string) =>
    postSesMail(sb, { from: FORM, messageId, extraHeaders: [['Reply-To', ZOFIA]] });

  it('should neither lift her bounce nor resend its ack for a mail that only names her address in Reply-To', async () => {
    // Prepare: her ack bounces
    await start();
    expect((await postSesFeedback(sb, bounceOf(0, at(MINUTE)))).status).toBe(200);
    expect((await contactView()).optedOut).toBe(true);

    // Act: an hour later a web form sends in her name, her address in Reply-To
    sb.clock.advance(HOUR);
    expect((await viaForm('form-1@sklep-formy.example')).status).toBe(200);
    await drainWith(sb, http);

    // Assess: still opted out for the bounce, nothing mailed to the address that bounced
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce' });
    expect(ses.requests).toHaveLength(1);
  });

  it('should let a bounce reported late opt her out after a form’s mail naming her address in Reply-To', async () => {
    // Prepare: the agent's answer bounces 10 minutes later; a day on, a form sends in her name
    await start();
    await agentReplies('reply-1');
    sb.clock.advance(DAY);
    expect((await viaForm('form-1@sklep-formy.example')).status).toBe(200);
    await drainWith(sb, http);

    // Act: the report of the bounce comes after the form's mail
    sb.clock.advance(HOUR);
    expect((await postSesFeedback(sb, bounceOf(1, at(10 * MINUTE)))).status).toBe(200);

    // Assess: her mailbox was never shown to work since
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce' });
  });

  it('should not acknowledge the episode again when its ack went and only an agent’s reply of an earlier one bounced', async () => {
    // Prepare: the agent answers (episode 1 ends); she asks again, acknowledged (episode 2)
    await start();
    await agentReplies('reply-1');
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(ses.requests).toHaveLength(3);

    // Act: the agent's reply bounces, reported dated after her mail (it opts her out); then she
    // writes once more in episode 2
    expect((await postSesFeedback(sb, bounceOf(1, at(3 * HOUR + MINUTE)))).status).toBe(200);
    sb.clock.advance(HOUR);
    await zofiaAsks('q-3@poczta.example.pl');

    // Assess: the bounced mail was the agent's reply, not this episode's ack (which went): no second ack
    expect((await contactView()).optedOut).toBe(false);
    expect(ses.requests).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent', episode: 2 });
  });
});
