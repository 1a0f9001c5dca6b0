import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { postMailgunMail } from '#test/support/email.ts';
import { startFakeTwilio } from '#test/support/fake-twilio.ts';
import { beforeCall } from '#test/support/faults.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// Found by the audit of stop 32: a customer who only said thanks after our answer ("Dziękuję!",
// a minute after the agent resolved) opened a conversation waiting for a reply. It had no ack
// (quiet after our reply), but a promise: it sat among the waiting, counted as a breach when
// nobody "answered" the thanks, and on Monday at 9:30 its late notice told the customer
// "przepraszam, że to trwa" about a question they never asked.

const MOBILE = '+48601234567';

describe('a customer who only says thanks', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  /** The one open conversation as the agents' API shows it. */
  async function shown(): Promise<Record<string, unknown>> {
    const { id } = await sb.onlyOpenConversation();
    const body = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Record<string, unknown>;
    };
    return body.conversation;
  }

  /** A mail recorded by a fresh Switchboard at the captured Mailgun fixture's time. */
  async function mailed(from: string, subject: string, body: string): Promise<Response> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const posted = await postMailgunMail(sb, { from, subject, body });
    await sb.drain();
    return posted;
  }

  /** Friday 10:00 the customer asks, 10:30 the agent answers and resolves. */
  async function answeredAndResolved(): Promise<number> {
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-27T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const asked = await shown();
    sb.clock.set('2026-11-27T10:30:00+01:00');
    expect((await sb.act(`/conversations/${asked.id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(
      201,
    );
    expect((await sb.act(`/conversations/${asked.id}/resolve`, {})).status).toBe(200);
    return (await sb.outbox()).length;
  }

  it.each([
    ['sms', 'Dziękuję! 🙏', { From: MOBILE }],
    ['WhatsApp', 'dzieki wielkie', { From: `whatsapp:${MOBILE}`, To: 'whatsapp:+48221234567' }],
    ['sms', 'Thank you so much!', { From: MOBILE }],
  ])(
    'should record it on %s as needing no reply: no promise, no ack, no late notice (%s)',
    async (_channel, body, from) => {
      // Prepare
      const textsBefore = await answeredAndResolved();

      // Act: a minute later the customer thanks us; nobody writes back, and the sweeper runs on
      // until well past the time a promise would have had
      sb.clock.set('2026-11-27T10:31:00+01:00');
      await sb.postSms({ ...from, Body: body });
      await sb.drain();
      for (const at of [
        '2026-11-30T09:30:00+01:00',
        '2026-11-30T10:30:00+01:00',
        '2026-12-01T10:30:00+01:00',
      ]) {
        sb.clock.set(at);
        await sweep(sb.runtime.sweepDeps);
        await sb.drain();
      }

      // Assess: since stop 33 recorded in a conversation of its own born resolved (the answer
      // asked nothing: thanks-after-resolve.test), nothing waiting and nothing left to close
      const resolved = (await (await sb.api('/api/conversations?status=resolved')).json()) as {
        items: Array<Record<string, unknown>>;
      };
      expect(resolved.items[0]).toMatchObject({
        status: 'resolved',
        awaiting: null,
        replyBy: null,
        ack: { state: 'skipped', reason: 'thanks' },
      });
      expect((await sb.outbox()).length).toBe(textsBefore);
      expect(await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).toMatchObject({
        items: [],
      });
      const waiting = (await (await sb.api('/api/conversations?awaiting=true')).json()) as {
        items: unknown[];
      };
      expect(waiting.items).toEqual([]);
      const noReply = (await (await sb.api('/api/conversations?noReplyNeeded=true')).json()) as {
        items: Array<{ id: string }>;
      };
      expect(noReply.items).toEqual([]);
      expect((await sb.events()).filter((e) => e.type === 'promise.breached')).toEqual([]);
    },
  );

  // Found by the review of stop 34: "Danke!", "Дякую!" or "Merci" alone from a customer of a
  // Polish company was promised a reply ("Dzień dobry, dostaliśmy Twoją wiadomość…").
  it.each([
    ['sms', 'Danke! 🙏', { From: MOBILE }],
    ['WhatsApp', 'Дякую!', { From: `whatsapp:${MOBILE}`, To: 'whatsapp:+48221234567' }],
    ['sms', 'Спасибо большое)))', { From: MOBILE }],
    ['sms', 'Merci beaucoup, bonne journée', { From: MOBILE }],
  ])('should send no ack to thanks alone in another language on %s (%j)', async (_channel, body, from) => {
    // Prepare: a customer we have never heard from, on a Friday morning
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-27T10:00:00+01:00') });

    // Act
    expect((await sb.postSms({ ...from, Body: body })).status).toBe(200);
    await sb.drain();

    // Assess: recorded for an agent to see, nothing sent, nothing promised
    const { id } = await sb.onlyOpenConversation();
    expect(await shown()).toMatchObject({
      id,
      awaiting: 'no-reply-needed',
      replyBy: null,
      ack: { state: 'skipped', reason: 'thanks' },
    });
    expect(await sb.outbox()).toEqual([]);
  });

  it('should acknowledge thanks in another language that carry a question', async () => {
    // Prepare
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-27T10:00:00+01:00') });

    // Act
    await sb.postSms({ From: MOBILE, Body: 'Danke, und wann kommt das Paket?' });
    await sb.drain();

    // Assess
    expect(await shown()).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    expect(await sb.outbox()).toHaveLength(1);
  });

  it.each([
    ['Jan Nowak <jan.nowak@example.org>', 'Dziękuję, pozdrawiam\nJan'],
    ['John Nowak <john.nowak@example.org>', "Dziękuję!\n\nWysłane z iPhone'a"],
    ['John Nowak <john.nowak@example.org>', 'Thank you\n\n-- \nJohn Nowak\nAcme Ltd\n+44 20 7946 0000'],
  ])(
    'should take a mail on our thread that only thanks, signed by the sender, the mail program or the phone, for thanks (%s: %j)',
    async (from, body) => {
      // Act: the customer thanks us on our thread (Mailgun's signature is checked against the
      // clock of the captured fixture)
      const posted = await mailed(from, 'Re: Pytanie o fakturę', body);

      // Assess
      expect(posted.status).toBe(200);
      expect(await shown()).toMatchObject({
        awaiting: 'no-reply-needed',
        ack: { state: 'skipped', reason: 'thanks' },
      });
      expect(await sb.outbox()).toEqual([]);
    },
  );

  it.each([
    ['Gdzie jest moja paczka nr 4711?', 'Dziękuję'],
    ['Order 4711 arrived damaged, please advise', 'Thanks, John'],
  ])(
    'should acknowledge a new mail whose subject asks something though its text only thanks (%s)',
    async (subject, body) => {
      // Act: a new mail, not a reply, its question in the subject
      const posted = await mailed('John Nowak <john.nowak@example.org>', subject, body);

      // Assess: a person is to read it, and the customer is told when
      expect(posted.status).toBe(200);
      expect(await shown()).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
      expect(await sb.outbox()).toHaveLength(1);
    },
  );

  /** Wednesday 10:00 the customer asks; 10:15 the agent answers `reply` and leaves it open. */
  async function answeredOpen(reply: string): Promise<string> {
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:15:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: reply })).status).toBe(201);
    return id;
  }

  const listed = async (query: string): Promise<string[]> =>
    (
      (await (await sb.api(`/api/conversations?${query}`)).json()) as { items: Array<{ id: string }> }
    ).items.map((c) => c.id);

  // The agent's day: after an answer the customer's "Dziękuję!" kept the conversation open, in
  // the agents' open list and under "no reply needed", until someone resolved it by hand. Nothing
  // waits: it resolves itself in the thanks' own write, and the customer's next message reopens
  // it and waits for a person as it did before.
  it('should resolve the conversation by itself when the customer only thanks for an answer, and reopen it with their next question', async () => {
    // Prepare
    const id = await answeredOpen('Wyszła dziś rano, kurier będzie jutro.');
    const textsBefore = (await sb.outbox()).length;

    // Act: the customer thanks us (the provider delivers it twice), later asks something new
    sb.clock.set('2026-11-25T10:40:00+01:00');
    const thanks = { From: MOBILE, Body: 'Dziękuję!', MessageSid: 'SM0123456789abcdef0123456789abcd01' };
    await sb.postSms(thanks);
    await sb.postSms(thanks);
    await sb.drain();
    const afterThanks = {
      conversation: (await sb.runtime.store.getConversation(id))?.status,
      open: await listed('status=open'),
      noReply: await listed('noReplyNeeded=true'),
      resolvedEvents: (await sb.events()).filter((e) => e.type === 'conversation.resolved').length,
    };
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();

    // Assess: resolved once, by nobody, nothing sent; the question reopens the same conversation
    expect(afterThanks).toEqual({ conversation: 'resolved', open: [], noReply: [], resolvedEvents: 1 });
    const resolved = (await sb.events()).find((e) => e.type === 'conversation.resolved');
    expect(resolved?.data).toMatchObject({ agent: null, reason: 'thanks' });
    expect((await sb.outbox()).length).toBe(textsBefore + 1);
    expect((await sb.onlyOpenConversation()).id).toBe(id);
    expect(await shown()).toMatchObject({ id, status: 'open', awaiting: 'reply', ack: { state: 'sent' } });
    expect(await listed('awaiting=true')).toEqual([id]);
  });

  it('should keep open, for the agent, a conversation whose answer the provider reported undelivered, whatever the customer thanks for', async () => {
    // Prepare: the agent's answer, sent through Twilio, reported undelivered
    const twilio = await startFakeTwilio();
    try {
      sb = await startTestSwitchboardThroughTwilio(twilio, {
        clock: new TestClock('2026-11-25T10:00:00+01:00'),
      });
      await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
      await sb.drain();
      const { id } = await sb.onlyOpenConversation();
      sb.clock.set('2026-11-25T10:15:00+01:00');
      expect((await sb.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(201);
      const messages = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
        messages: Array<{ kind: string; providerMessageId?: string }>;
      };
      const reply = messages.messages.find((m) => m.kind === 'reply');
      await sb.postTwilio('status', 'status-undelivered-30007', {
        MessageSid: reply?.providerMessageId as string,
        ErrorCode: '30003',
      });

      // Act
      sb.clock.set('2026-11-25T10:40:00+01:00');
      await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
      await sb.drain();

      // Assess: the failure stays in front of the agent
      expect(await shown()).toMatchObject({ id, status: 'open', replyFailure: { status: 'undelivered' } });
    } finally {
      await twilio.close();
    }
  });

  // Item 4 of the agent's day: "ok, dziękuję" after the agent asked "Czy mogę zamknąć
  // zgłoszenie?" may answer it (yes, close it; yes, send a new parcel): never resolved by itself,
  // it stays open under "no reply needed", where the agent sees it.
  it('should keep the thanks that may answer the question our reply asked open for the agent', async () => {
    // Prepare
    const id = await answeredOpen('Paczka jest w drodze. Czy mogę zamknąć zgłoszenie?');

    // Act
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'ok, dziękuję' });
    await sb.drain();

    // Assess
    expect(await shown()).toMatchObject({ id, status: 'open', awaiting: 'no-reply-needed' });
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
    expect((await sb.events()).filter((e) => e.type === 'conversation.resolved')).toEqual([]);
  });

  // Found by the review of stop 33: during a rolling deploy (or after a rollback) an older release
  // applies a reply without knowing lastReplyAsked, and keeps the field as it found it (the schema
  // passes unknown fields through): the flag of the reply before. A later reply that asked
  // something was then taken for one that asked nothing, and "ok, dziękuję" resolved it.
  // Found by the review of stop 33: a second thanks ("Dziękuję bardzo!") on a conversation the
  // first one resolved reopened it and resolved it again in the same write: downstream tools heard
  // conversation.reopened and conversation.resolved for nothing, and the service level counted the
  // first resolution as reopened (no first-contact resolution for a customer who thanked twice).
  it('should record a second thanks on the conversation the first resolved without reopening it', async () => {
    // Prepare
    const id = await answeredOpen('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act: thanks again (delivered twice), then a question
    sb.clock.set('2026-11-25T10:41:00+01:00');
    const again = {
      From: MOBILE,
      Body: 'Dziękuję bardzo!',
      MessageSid: 'SM0123456789abcdef0123456789abcd02',
    };
    await sb.postSms(again);
    await sb.postSms(again);
    await sb.drain();
    const afterAgain = {
      status: (await sb.runtime.store.getConversation(id))?.status,
      types: (await sb.events()).map((e) => e.type).filter((type) => type.startsWith('conversation.')),
      received: (await sb.events()).filter((e) => e.type === 'message.received').length,
    };
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();

    // Assess: still resolved once, the thanks recorded; the question reopens it and waits
    expect(afterAgain).toEqual({
      status: 'resolved',
      types: ['conversation.opened', 'conversation.resolved'],
      received: 3,
    });
    expect(await shown()).toMatchObject({ id, status: 'open', awaiting: 'reply', ack: { state: 'sent' } });
  });

  // Customers thank again when the parcel arrives: the conversation reopened and resolved again
  // the next day, and the service level took the resolution of the day it was resolved as reopened.
  it('should keep the resolution of the day a conversation resolved when the customer thanks again the next day', async () => {
    // Prepare
    await answeredOpen('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act: the parcel came
    sb.clock.set('2026-11-26T12:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję bardzo!' });
    await sb.drain();
    await sb.feedStats();
    sb.clock.set('2026-12-03T10:00:00+01:00');

    // Assess: the day it resolved keeps its resolution, first-contact once the week has passed
    const response = await sb.api('/api/service-level?from=2026-11-25&to=2026-11-25');
    expect(((await response.json()) as { totals: { firstContactResolution: unknown } }).totals).toMatchObject(
      {
        firstContactResolution: { share: 1, firstContact: 1, resolved: 1, pending: 0 },
      },
    );
  });

  it('should keep the thanks open when the latest reply was applied by an older release', async () => {
    // Prepare: our answer asked nothing; then an older release applies one that asks
    const id = await answeredOpen('Paczka jest w drodze.');
    sb.clock.set('2026-11-25T10:20:00+01:00');
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONV#${id}`, sk: 'CONV' }),
        UpdateExpression: 'SET lastReplyAt = :at',
        ExpressionAttributeValues: marshall({ ':at': sb.clock.now().toISOString() }),
      }),
    );

    // Act
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'ok, dziękuję' });
    await sb.drain();

    // Assess: what the older release's reply asked is not known: taken as asked, kept open
    expect(await shown()).toMatchObject({ id, status: 'open', awaiting: 'no-reply-needed' });
    expect((await sb.events()).filter((e) => e.type === 'conversation.resolved')).toEqual([]);
  });

  it('should still wait for a person when a question follows the thanks', async () => {
    // Prepare
    await answeredAndResolved();
    sb.clock.set('2026-11-27T10:31:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act
    sb.clock.set('2026-11-27T10:33:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();

    // Assess: the customer waits for a reply again, promised a time
    const asked = await shown();
    expect(asked.awaiting).toBe('reply');
    expect(asked.replyBy).not.toBeNull();
  });

  it('should measure the first reply to a question that follows thanks from the question, not the thanks', async () => {
    // Prepare: Wednesday 10:00 a question, answered at 10:15 (not resolved); at 10:40 the customer
    // thanks us, which needs no reply
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:15:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(201);
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act: Thursday 10:00 the customer asks something new, answered at 10:15
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();
    expect(await shown()).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
    sb.clock.set('2026-11-26T10:15:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Tak, proszę podać nowy.' })).status).toBe(
      201,
    );

    // Assess: the customer waited 15 minutes for Thursday's answer, not since Wednesday's thanks
    await sb.feedStats();
    const response = await sb.api('/api/service-level?from=2026-11-26&to=2026-11-26');
    const report = (await response.json()) as {
      totals: { answered: number; firstReplyWorkingHours: { median: number | null } };
    };
    expect(report.totals.answered).toBe(1);
    expect(report.totals.firstReplyWorkingHours.median).toBe(0.25);
  });

  it('should keep a customer waiting for their answer when they thank us before it comes', async () => {
    // Prepare: the question is acknowledged
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-27T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const before = await shown();

    // Act
    sb.clock.set('2026-11-27T10:05:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję' });
    await sb.drain();

    // Assess: still waiting, as promised
    expect(await shown()).toMatchObject({
      awaiting: 'reply',
      replyBy: before.replyBy,
      ack: { state: 'sent' },
    });
  });

  it('should answer "Dziękuję?" after our answer as a question', async () => {
    // Act: the answer did not answer; the customer asks back
    await answeredAndResolved();
    sb.clock.set('2026-11-27T12:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję?' });
    await sb.drain();

    // Assess
    expect(await shown()).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
  });

  it('should keep the promise of a question the customer thanked after, both sent while our reply was on its way', async () => {
    // Prepare: a question at 10:00, acknowledged. At 10:30 an agent replies; while the reply is
    // with the provider the customer asks something new (10:30:02) and thanks us (10:30:04)
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    const meanwhile = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => (input.Item as { kind?: { S?: string } } | undefined)?.kind?.S === 'reply',
      },
      async () => {
        sb.clock.advance(2_000);
        expect((await sb.postSms({ From: MOBILE, Body: 'A czy mogę zmienić adres?' })).status).toBe(200);
        sb.clock.advance(2_000);
        expect((await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' })).status).toBe(200);
      },
    );

    // Act
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' })).status).toBe(
      201,
    );
    meanwhile.remove();
    await sb.drain();

    // Assess: the question waits as one sent just after our reply does: no ack (we had just
    // written), but its promise, kept by a late notice, and a breach if nobody answers
    expect(meanwhile.fired).toBe(true);
    const after = await shown();
    expect(after).toMatchObject({
      awaiting: 'reply',
      ack: { state: 'skipped', reason: 'recently-answered' },
    });
    sb.clock.set(new Date(Date.parse(after.replyBy as string) - 29 * 60_000));
    expect((await sweep(sb.runtime.sweepDeps)).notices).toBe(1);
  });

  it('should answer thanks that carry a question as a question', async () => {
    // Act
    await answeredAndResolved();
    sb.clock.set('2026-11-27T12:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję, ale paczka jeszcze nie doszła' });
    await sb.drain();

    // Assess: acknowledged as any question
    const asked = await shown();
    expect(asked).toMatchObject({ awaiting: 'reply', ack: { state: 'sent' } });
  });
});
