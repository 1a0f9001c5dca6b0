import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import { type CountingMetrics, countingMetrics } from '#test/support/counting-metrics.ts';
import {
  drainWith,
  permanentBounce,
  postSesFeedback,
  postSesMail,
  sesIntake,
  sesRuntime,
} from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// Why a contact gets no automatic messages: their STOP, our mail to them bouncing for good, or
// their complaint that our mail is spam. Before, all three set the one `optedOut`: the API and
// the inbox said "opted out" for each, and a customer whose address bounced once stayed without
// acks forever, however often they wrote to us again from it.

const ZOFIA = 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>';
const ZOFIA_KEY = 'email:zofia.wojcik@poczta.example.pl';
const HOUR = 60 * 60 * 1000;

const complaint = (feedbackId: string) => ({
  complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
  timestamp: '2026-11-10T09:00:00.000Z',
  feedbackId,
  complaintFeedbackType: 'abuse',
});

describe('why a contact gets no automatic mail, and a bounce lifted by their own mail', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;
  let metrics: CountingMetrics;

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
    metrics = countingMetrics();
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), metrics, ...sesIntake() });
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

  it('should say a hard bounce, lift it at the address’s next own mail, and acknowledge that mail once', async () => {
    // Prepare
    await start();
    const bounce = { messageId: sesIdOf(0), eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce, { snsMessageId: 'sns-bounce-1' })).status).toBe(200);
    expect((await postSesFeedback(sb, bounce, { snsMessageId: 'sns-bounce-1' })).status).toBe(200);
    expect(await contactView()).toMatchObject({
      optedOut: true,
      optedOutReason: 'bounce',
      optedOutAt: '2026-11-10T08:14:05.000Z',
    });
    expect(await conversationOptOut()).toEqual({ reason: 'bounce', at: '2026-11-10T08:14:05.000Z' });
    expect(metrics.total('MailBounces')).toBe(1);
    await agentReplies('reply-1');
    expect(ses.requests).toHaveLength(2);

    // Act: hours later Zofia writes again from that address (SNS delivers it twice)
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess: her mailbox works: the stop is lifted, her new question acknowledged, once
    expect(ses.requests).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    const contact = await contactView();
    expect(contact.optedOut).toBe(false);
    expect(contact).not.toHaveProperty('optedOutReason');
    expect(await conversationOptOut()).toBeNull();
    expect(metrics.total('MailBounces')).toBe(1);
  });

  it('should keep automatic mail off after a complaint, whatever the address sends next, while an agent still answers', async () => {
    // Prepare
    await start();
    const spam = { messageId: sesIdOf(0), eventType: 'Complaint' as const, event: complaint('c-1') };
    expect((await postSesFeedback(sb, spam)).status).toBe(200);
    expect((await postSesFeedback(sb, spam)).status).toBe(200);
    await agentReplies('reply-1');
    expect(ses.requests).toHaveLength(2);
    // The agent's reply bounces later: a bounce never waters a complaint down to what mail lifts.
    const bounce = {
      messageId: sesIdOf(1),
      eventType: 'Bounce' as const,
      event: { ...permanentBounce(), timestamp: '2026-11-10T10:00:00.000Z' },
    };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);

    // Act
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess
    expect(ses.requests).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'complaint' });
    expect(metrics.total('MailComplaints')).toBe(1);
    expect(metrics.total('MailBounces')).toBe(1);
    await agentReplies('reply-2');
    expect(ses.requests).toHaveLength(3);
  });

  // Found in review: a mailbox provider's complaint often reaches SES hours late. It was placed at
  // its own time, so a later bounce or lift, recorded first, left it out (order decided consent).
  it('should keep a complaint reported after the address’s own mail lifted a bounce: no mail lifts it', async () => {
    // Prepare: the agent's reply bounces; Zofia marks our ack as spam, reported late
    await start();
    await agentReplies('reply-1');
    const at = (minutes: number) => new Date(TEST_NOW.getTime() + minutes * 60_000).toISOString();
    const bounce = {
      messageId: sesIdOf(1),
      eventType: 'Bounce' as const,
      event: { ...permanentBounce(), timestamp: at(10) },
    };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);
    sb.clock.advance(3 * HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect(await contactView()).toMatchObject({ optedOut: false });

    // Act: the complaint, made before her mail, reaches us a minute after it
    sb.clock.advance(60_000);
    const spam = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: { ...complaint('c-late'), timestamp: at(20) },
    };
    expect((await postSesFeedback(sb, spam)).status).toBe(200);

    // Assess: no automatic mail, for the complaint (her open conversation's late notice ended
    // too), and her next mail lifts nothing
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'complaint' });
    const open = await sb.onlyOpenConversation();
    expect(open.optedOut).toBe(true);
    expect(open.notice?.state).not.toBe('pending');
    await sb.act(`/conversations/${(await sb.onlyOpenConversation()).id}/resolve`, {});
    sb.clock.advance(HOUR);
    const sent = ses.requests.length;
    await zofiaAsks('q-3@poczta.example.pl');
    expect(ses.requests).toHaveLength(sent);
    expect(await conversationOptOut()).toMatchObject({ reason: 'complaint' });
  });

  it('should keep a complaint reported after a newer bounce: the address’s next mail lifts nothing', async () => {
    // Prepare: Zofia marks our ack as spam; the agent's reply bounces later, reported first
    await start();
    await agentReplies('reply-1');
    const at = (minutes: number) => new Date(TEST_NOW.getTime() + minutes * 60_000).toISOString();
    const bounce = {
      messageId: sesIdOf(1),
      eventType: 'Bounce' as const,
      event: { ...permanentBounce(), timestamp: at(20) },
    };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);

    // Act: the complaint, made before the bounce, reaches us after it; then Zofia writes again
    const spam = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: { ...complaint('c-late'), timestamp: at(10) },
    };
    expect((await postSesFeedback(sb, spam)).status).toBe(200);
    sb.clock.advance(3 * HOUR);
    const sent = ses.requests.length;
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'complaint' });
    expect(ses.requests).toHaveLength(sent);
  });

  // Found in review: the previous release opts out without a reason (a complaint it records across
  // a rolling deploy or a rollback), leaving this release's `bounce` on the item.
  // Read as a STOP until stop 35; an email address's opt-out is a bounce or a complaint (mail has
  // no STOP), and which one the previous release's is nobody knows: neither lifted by mail.
  it('should read an opt-out the previous release wrote over a bounce as a bounce or a complaint, which mail does not lift', async () => {
    // Prepare: a bounce, then the previous release's complaint (optedOut, consentAt; no reason)
    await start();
    const bounce = { messageId: sesIdOf(0), eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `CONTACT#${ZOFIA_KEY}` }, sk: { S: 'CONTACT' } },
        UpdateExpression: 'SET optedOut = :true, consentAt = :at, updatedAt = :at',
        ExpressionAttributeValues: { ':true': { BOOL: true }, ':at': { S: '2026-11-11T08:00:00.000Z' } },
      }),
    );

    // Act
    sb.clock.advance(3 * HOUR);
    const sent = ses.requests.length;
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'bounce-or-complaint' });
    expect(ses.requests).toHaveLength(sent);
  });

  // Found in review: only the reported mail's own conversation heard it, often resolved by then.
  it('should end the open conversation’s late notice when a complaint about an earlier conversation’s ack comes', async () => {
    // Prepare: the first conversation resolved; Zofia writes again, acknowledged (a late notice
    // may follow: the sweeper starts none in a conversation opted out)
    await start();
    const first = await sb.onlyOpenConversation();
    expect((await sb.act(`/conversations/${first.id}/resolve`, {})).status).toBe(200);
    sb.clock.advance(HOUR);
    await zofiaAsks('q-2@poczta.example.pl');
    expect((await sb.onlyOpenConversation()).optedOut).not.toBe(true);

    // Act: her complaint about the first conversation's ack
    sb.clock.advance(HOUR);
    const spam = {
      messageId: sesIdOf(0),
      eventType: 'Complaint' as const,
      event: { ...complaint('c-first'), timestamp: new Date(sb.clock.now().getTime()).toISOString() },
    };
    expect((await postSesFeedback(sb, spam)).status).toBe(200);

    // Assess: the open conversation opted out too (no late notice started, none pending)
    expect(await contactView()).toMatchObject({ optedOut: true, optedOutReason: 'complaint' });
    const open = await sb.onlyOpenConversation();
    expect(open.id).not.toBe(first.id);
    expect(open.optedOut).toBe(true);
    expect(open.notice?.state).not.toBe('pending');
  });

  it('should finish lifting a bounce on the retry of a mail whose first delivery died after the contact’s write', async () => {
    // Prepare
    await start();
    const bounce = { messageId: sesIdOf(0), eventType: 'Bounce' as const, event: permanentBounce() };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);
    await agentReplies('reply-1');
    sb.clock.advance(3 * HOUR);
    const lift = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'after',
      match: (input) =>
        pkStartsWith(`CONTACT#${ZOFIA_KEY}`)(input) &&
        String(input.UpdateExpression).includes('REMOVE optedOutReason'),
    });

    // Act: the write lifting the bounce is applied, the process dies before its answer; SNS retries
    await postSesMail(sb, { from: ZOFIA, messageId: 'q-2@poczta.example.pl' });
    lift.remove();
    await zofiaAsks('q-2@poczta.example.pl');

    // Assess
    expect(lift.fired).toBe(1);
    expect(ses.requests).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(await contactView()).toMatchObject({ optedOut: false });
  });

  it('should say a STOP as such, an older opt-out without a reason as a STOP, and lift neither by a message', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const mobile = '+48601234567';
    const key = `phone:${mobile}`;
    await sb.postSms({ From: mobile, Body: 'STOP' });
    const said = await (await sb.api(`/api/contacts?key=${encodeURIComponent(key)}`)).json();
    // An item written before stop 34: opted out, no reason.
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `CONTACT#${key}` }, sk: { S: 'CONTACT' } },
        UpdateExpression: 'REMOVE optedOutReason',
      }),
    );

    // Act
    sb.clock.advance(HOUR);
    await sb.postSms({ From: mobile, Body: 'Dzień dobry, gdzie jest moja paczka?' });

    // Assess
    expect((said as { contact: unknown }).contact).toMatchObject({ optedOut: true, optedOutReason: 'stop' });
    const response = await sb.api(`/api/contacts?key=${encodeURIComponent(key)}`);
    expect(((await response.json()) as { contact: unknown }).contact).toMatchObject({
      optedOut: true,
      optedOutReason: 'stop',
    });
    expect(await sb.outbox()).toHaveLength(0);
  });
});
