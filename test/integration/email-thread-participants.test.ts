import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import {
  drainWith,
  headerOf,
  mailgunMail,
  permanentBounce,
  postSesFeedback,
  postSesMail,
  sesIntake,
  sesRuntime,
} from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// A customer's colleague (CC'd, answering all) or the customer from another of their addresses
// answers our mail: their mail names our Message-ID in In-Reply-To/References. It opened a new
// conversation of its own, with an ack of its own, and the agent saw half the thread in each.
// It now joins the conversation our mail belonged to, as a message from that address; answers
// still go to the conversation's customer alone.

const ZOFIA = 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>';
const PIOTR = 'Piotr Nowak <piotr.nowak@firma.example>';
const HOUR = 60 * 60 * 1000;

type Shown = { from: string; direction: string; kind: string; text: string };

describe('a mail answering our mail from another address', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;

  afterEach(async () => {
    await ses?.close();
    await sb?.stop();
  });

  async function start(): Promise<void> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses);
    expect((await postSesMail(sb, { from: ZOFIA, messageId: 'q-1@poczta.example.pl' })).status).toBe(200);
    await drainWith(sb, http);
    expect(ses.requests).toHaveLength(1);
  }

  /** Our mail's Message-ID as the customer's client sees it: SES's id at SES's host. */
  function ourMessageId(index: number): string {
    const id = ses.requests[index]?.messageId;
    if (!id) throw new Error(`no SES send #${index}`);
    return `${id}@eu-west-1.amazonses.com`;
  }

  async function answerAll(
    from: string,
    inReplyTo: string,
    messageId: string,
    body = 'Dołączam numer zamówienia: 4711.',
  ) {
    sb.clock.advance(60_000);
    const response = await postSesMail(sb, {
      from,
      messageId,
      subject: 'Re: Pytanie o fakturę',
      body,
      extraHeaders: [
        ['In-Reply-To', `<${inReplyTo}>`],
        ['References', `<q-1@poczta.example.pl> <${inReplyTo}>`],
      ],
    });
    expect(response.status).toBe(200);
    await drainWith(sb, http);
  }

  function destinationOf(index: number): string[] | undefined {
    return (ses.requests[index]?.body.Destination as { ToAddresses?: string[] } | undefined)?.ToAddresses;
  }

  async function conversations(): Promise<Array<{ id: string; contact: { key: string } }>> {
    const page = (await (await sb.api('/api/conversations?status=open')).json()) as {
      items: Array<{ id: string; contact: { key: string } }>;
    };
    return page.items;
  }

  async function messagesOf(id: string): Promise<Shown[]> {
    return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: Shown[] }).messages;
  }

  async function agentReplies(id: string, key: string): Promise<Response> {
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

  it('should record a colleague’s reply-all in the customer’s conversation, once, with no second ack', async () => {
    // Prepare
    await start();
    const [zofia] = await conversations();

    // Act: Piotr answers our ack to all; SNS delivers his mail twice.
    await answerAll(PIOTR, ourMessageId(0), 'p-1@firma.example');
    await answerAll(PIOTR, ourMessageId(0), 'p-1@firma.example');

    // Assess
    const open = await conversations();
    expect(open.map((conversation) => conversation.id)).toEqual([zofia?.id]);
    const messages = await messagesOf(zofia?.id ?? '');
    const inbound = messages.filter((message) => message.direction === 'inbound');
    expect(inbound.map((message) => message.from)).toEqual([
      'zofia.wojcik@poczta.example.pl',
      'piotr.nowak@firma.example',
    ]);
    expect(inbound[1]?.text).toBe('Dołączam numer zamówienia: 4711.');
    // One ack in the episode: Zofia's. Piotr is no contact of ours, his name is not Zofia's.
    expect(ses.requests).toHaveLength(1);
    expect(await sb.runtime.store.getContact('email:piotr.nowak@firma.example')).toBeNull();
    expect((await sb.runtime.store.getContact('email:zofia.wojcik@poczta.example.pl'))?.name).toBe(
      'Zofia Wójcik',
    );
  });

  it('should send the agent’s reply to the conversation’s customer alone, threaded under the latest mail', async () => {
    // Prepare
    await start();
    const [zofia] = await conversations();
    await answerAll(PIOTR, ourMessageId(0), 'p-1@firma.example');

    // Act
    expect((await agentReplies(zofia?.id ?? '', 'reply-1')).status).toBe(201);

    // Assess: to Zofia, nobody copied (a Message-ID is no proof of who may read her answers).
    expect(ses.requests).toHaveLength(2);
    const reply = ses.requests[1];
    expect(destinationOf(1)).toEqual(['zofia.wojcik@poczta.example.pl']);
    expect(headerOf(reply?.rawMime ?? '', 'Cc')).toBeUndefined();
    expect(headerOf(reply?.rawMime ?? '', 'In-Reply-To')).toBe('<p-1@firma.example>');
  });

  it('should join the customer’s next conversation when theirs was resolved, acknowledging the customer', async () => {
    // Prepare
    await start();
    const [zofia] = await conversations();
    expect((await agentReplies(zofia?.id ?? '', 'reply-1')).status).toBe(201);
    expect((await sb.act(`/conversations/${zofia?.id}/resolve`, {})).status).toBe(200);
    sb.clock.advance(3 * HOUR);

    // Act: Piotr answers the agent's reply days later.
    await answerAll(PIOTR, ourMessageId(1), 'p-2@firma.example', 'Faktura ma zły NIP, proszę o korektę.');

    // Assess
    const open = await conversations();
    expect(open).toHaveLength(1);
    expect(open[0]?.contact.key).toBe('email:zofia.wojcik@poczta.example.pl');
    expect(ses.requests).toHaveLength(3);
    expect(destinationOf(2)).toEqual(['zofia.wojcik@poczta.example.pl']);
  });

  it('should mail nobody for a colleague’s mail in the conversation of a customer who marked our mail as spam', async () => {
    // Prepare
    await start();
    const complaint = {
      messageId: ses.requests[0]?.messageId ?? '',
      eventType: 'Complaint' as const,
      event: {
        complainedRecipients: [{ emailAddress: 'zofia.wojcik@poczta.example.pl' }],
        timestamp: '2026-11-10T09:00:00.000Z',
        feedbackId: '0102019a-complaint-000000',
        complaintFeedbackType: 'abuse',
      },
    };
    expect((await postSesFeedback(sb, complaint)).status).toBe(200);
    const [zofia] = await conversations();
    expect((await agentReplies(zofia?.id ?? '', 'reply-1')).status).toBe(201);
    sb.clock.advance(3 * HOUR);

    // Act
    await answerAll(PIOTR, ourMessageId(1), 'p-3@firma.example', 'A kiedy będzie korekta?');

    // Assess
    expect(ses.requests).toHaveLength(2);
    const [open] = await conversations();
    expect(open?.id).toBe(zofia?.id);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
  });

  it('should not let a guessed or foreign Message-ID join a conversation', async () => {
    // Prepare
    await start();
    const [zofia] = await conversations();

    // Act: an id at SES's host we never sent, and one naming the conversation itself.
    await answerAll(
      PIOTR,
      '0102019affffffffffffffff-ffffffff-000000@eu-west-1.amazonses.com',
      'p-4@firma.example',
    );
    await answerAll(
      'Ewa <ewa@inna.example>',
      `${zofia?.id}@sklep.example`,
      'e-1@inna.example',
      'Proszę o kontakt w sprawie zamówienia.',
    );

    // Assess: each opens its own conversation, with its own ack, as any new customer's mail.
    const open = await conversations();
    expect(open).toHaveLength(3);
    expect(open.map((conversation) => conversation.contact.key).sort()).toEqual([
      'email:ewa@inna.example',
      'email:piotr.nowak@firma.example',
      'email:zofia.wojcik@poczta.example.pl',
    ]);
    expect(ses.requests).toHaveLength(3);
  });

  it('should not lift the customer’s bounce for a colleague’s mail: it proves nothing of her mailbox', async () => {
    // Prepare: our ack to Zofia bounced for good.
    await start();
    const bounce = {
      messageId: ses.requests[0]?.messageId ?? '',
      eventType: 'Bounce' as const,
      event: permanentBounce(),
    };
    expect((await postSesFeedback(sb, bounce)).status).toBe(200);
    const [zofia] = await conversations();
    expect((await agentReplies(zofia?.id ?? '', 'reply-1')).status).toBe(201);
    sb.clock.advance(3 * HOUR);

    // Act
    await answerAll(
      PIOTR,
      ourMessageId(1),
      'p-5@firma.example',
      'Zofia jest na urlopie, proszę o odpowiedź.',
    );

    // Assess: recorded in her conversation, nothing mailed to the address that bounced.
    expect(ses.requests).toHaveLength(2);
    expect((await sb.runtime.store.getContact('email:zofia.wojcik@poczta.example.pl'))?.optedOut).toBe(true);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
  });

  it('should join a conversation that came through Mailgun (our mail to it went through SES)', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), ...sesIntake() });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses);
    const ask = mailgunMail({ from: ZOFIA, messageId: 'q-1@poczta.example.pl' });
    expect((await sb.postMailgun(signMailgun(ask))).status).toBe(200);
    await drainWith(sb, http);
    expect(ses.requests).toHaveLength(1);
    sb.clock.advance(60_000);

    // Act: Piotr's answer comes through Mailgun too.
    const answer = mailgunMail({
      from: PIOTR,
      messageId: 'p-6@firma.example',
      subject: 'Re: Pytanie o fakturę',
      body: 'Dołączam numer zamówienia: 4711.',
      extraHeaders: [
        ['In-Reply-To', `<${ourMessageId(0)}>`],
        ['References', `<q-1@poczta.example.pl> <${ourMessageId(0)}>`],
      ],
    });
    expect((await sb.postMailgun(signMailgun(answer))).status).toBe(200);
    await drainWith(sb, http);

    // Assess
    const open = await conversations();
    expect(open.map((conversation) => conversation.contact.key)).toEqual([
      'email:zofia.wojcik@poczta.example.pl',
    ]);
    expect(ses.requests).toHaveLength(1);
  });
});
