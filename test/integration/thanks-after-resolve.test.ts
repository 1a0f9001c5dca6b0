import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { beforeCall } from '#test/support/faults.ts';
import { messagingEnvelope, PAGE_ID, PSID } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// The helpdesk's daily case: the agent answers and resolves, and the customer writes only
// "Dziękuję!". Before stop 33 that opened a new conversation under "No reply needed", which an
// agent had to close by hand. It is recorded in a conversation born resolved (reason 'thanks'),
// still shown in the customer's history; the customer's next question reopens it and waits as
// it did before.

const MOBILE = '+48601234567';

type Listed = { id: string; status: string };

describe('thanks after the agent answered and resolved', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  const listed = async (query: string): Promise<string[]> =>
    ((await (await sb.api(`/api/conversations?${query}`)).json()) as { items: Listed[] }).items.map(
      (c) => c.id,
    );

  const shownById = async (id: string) =>
    (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: Record<string, unknown>;
      messages: Array<{ direction: string; text?: string }>;
    };

  /** Wednesday 10:00 the customer asks by SMS; 10:30 the agent answers `reply` and resolves. */
  async function answeredAndResolved(reply: string): Promise<string> {
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: reply })).status).toBe(201);
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);
    return id;
  }

  it('should record an SMS thanks resolved, in the customer history, and reopen it with their next question', async () => {
    // Prepare
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    const textsBefore = (await sb.outbox()).length;

    // Act: the customer thanks us (Twilio delivers it twice), the next day asks something new
    sb.clock.set('2026-11-25T10:35:00+01:00');
    const thanks = { From: MOBILE, Body: 'Dziękuję!', MessageSid: 'SM0123456789abcdef0123456789abcd02' };
    await sb.postSms(thanks);
    await sb.postSms(thanks);
    await sb.drain();
    const afterThanks = {
      open: await listed('status=open'),
      noReply: await listed('noReplyNeeded=true'),
      resolved: await listed('status=resolved'),
    };
    const thanked = afterThanks.resolved.find((id) => id !== answered) as string;
    const resolvedEvents = (await sb.events()).filter(
      (e) => e.type === 'conversation.resolved' && e.conversationId === thanked,
    );
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();

    // Assess: nothing left for an agent, nothing sent; the thanks is readable in its conversation
    expect(afterThanks).toMatchObject({ open: [], noReply: [] });
    expect(afterThanks.resolved).toHaveLength(2);
    expect(resolvedEvents).toHaveLength(1);
    expect(resolvedEvents[0]?.data).toMatchObject({ agent: null, reason: 'thanks' });
    expect((await sb.outbox()).length).toBe(textsBefore + 1);
    // The question waits for a person, promised and acknowledged, in the thanks' conversation
    const asked = await sb.onlyOpenConversation();
    expect(asked.id).toBe(thanked);
    const shown = await shownById(thanked);
    expect(shown.conversation).toMatchObject({ status: 'open', awaiting: 'reply', ack: { state: 'sent' } });
    expect(shown.conversation.replyBy).not.toBeNull();
    expect(shown.messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual([
      'Dziękuję!',
      'A czy mogę jeszcze zmienić adres dostawy?',
    ]);
    expect(await listed('awaiting=true')).toEqual([thanked]);
  });

  // Customers often thank twice ("Dziękuję!", then "🙏" or "Miłego dnia, dziękuję"): the second
  // one found the born-resolved conversation, reopened it and left it under "No reply needed".
  // Then (review of stop 33) it reopened and resolved it again in one write: downstream tools
  // heard conversation.reopened and conversation.resolved for nothing.
  it('should keep a second thanks in the conversation the first one resolved, resolved', async () => {
    // Prepare
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act: the second thanks (Twilio delivers it twice)
    sb.clock.set('2026-11-25T10:36:00+01:00');
    const again = { From: MOBILE, Body: '🙏', MessageSid: 'SM0123456789abcdef0123456789abcd03' };
    await sb.postSms(again);
    await sb.postSms(again);
    await sb.drain();

    // Assess: both thanks in one conversation, resolved once; nothing for an agent to close
    expect(await listed('status=open')).toEqual([]);
    const [thanked] = (await listed('status=resolved')).filter((id) => id !== answered);
    expect(
      (await sb.events())
        .filter((e) => e.conversationId === thanked && e.type.startsWith('conversation.'))
        .map((e) => e.type),
    ).toEqual(['conversation.opened', 'conversation.resolved']);
    const shown = await shownById(thanked as string);
    expect(shown.conversation).toMatchObject({ status: 'resolved', awaiting: null });
    expect(shown.messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual([
      'Dziękuję!',
      '🙏',
    ]);
  });

  it('should let the agent follow up on the answered conversation after the thanks resolved its own', async () => {
    // Prepare
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Act
    sb.clock.set('2026-11-25T11:00:00+01:00');
    const followUp = await sb.act(`/conversations/${answered}/replies`, { text: 'Numer przesyłki: 4711.' });

    // Assess
    expect(followUp.status).toBe(201);
    expect(await listed('status=open')).toEqual([]);
  });

  // The agent reads the thanks and opens the answered conversation again (something to add): the
  // thanks' conversation, resolved, held the contact's pointer and the reopen was refused as
  // "the contact has another open conversation".
  it('should let the agent reopen the answered conversation after the thanks, and the next message join it', async () => {
    // Prepare
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    const [thanked] = (await listed('status=resolved')).filter((id) => id !== answered);

    // Act
    sb.clock.set('2026-11-25T11:00:00+01:00');
    const reopened = await sb.act(`/conversations/${answered}/reopen`, {});
    sb.clock.set('2026-11-25T11:10:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę zmienić adres?' });
    await sb.drain();

    // Assess: one open conversation, the answered one, with the question; the thanks' stays resolved
    expect(reopened.status).toBe(200);
    expect(await listed('status=open')).toEqual([answered]);
    expect(await listed('status=resolved')).toEqual([thanked]);
    const texts = (await shownById(answered)).messages
      .filter((m) => m.direction === 'inbound')
      .map((m) => m.text);
    expect(texts.at(-1)).toBe('A czy mogę zmienić adres?');
  });

  it('should keep one open conversation, with the question, when the customer writes while the agent reopens past the thanks', async () => {
    // Prepare: the question arrives after the reopen took the thanks' marker off, before its claim
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    const [thanked] = (await listed('status=resolved')).filter((id) => id !== answered);
    sb.clock.set('2026-11-25T11:00:00+01:00');
    const meanwhile = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) =>
          (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[':replacing']
            ?.S === thanked,
      },
      async () => {
        expect((await sb.postSms({ From: MOBILE, Body: 'A czy mogę zmienić adres?' })).status).toBe(200);
      },
    );

    // Act
    const reopened = await sb.act(`/conversations/${answered}/reopen`, {});
    meanwhile.remove();
    await sb.drain();

    // Assess: the customer's message won the pointer; the reopen names where they wait
    expect(meanwhile.fired).toBe(true);
    const open = await listed('status=open');
    expect(open).toHaveLength(1);
    expect(reopened.status).toBe(409);
    const texts = (await shownById(open[0] as string)).messages.map((m) => m.text);
    expect(texts).toContain('A czy mogę zmienić adres?');
    expect((await shownById(open[0] as string)).conversation).toMatchObject({ awaiting: 'reply' });
  });

  // The service level counts what agents resolve: the conversation the thanks opened resolved,
  // which nobody answered, counted as a resolution that was no first-contact one, and took the
  // follow-up the customer's next question is from the answered conversation.
  it('should count no resolution for the conversation the thanks opened resolved, and its next question as a follow-up', async () => {
    // Prepare
    await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    const fcr = async () => {
      await sb.feedStats();
      const response = await sb.api('/api/service-level?from=2026-11-25&to=2026-11-25');
      return ((await response.json()) as { totals: { firstContactResolution: unknown } }).totals
        .firstContactResolution;
    };
    const afterThanks = await fcr();

    // Act: the next day the customer asks something new
    sb.clock.set('2026-11-26T10:00:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'A czy mogę jeszcze zmienić adres dostawy?' });
    await sb.drain();

    // Assess: only the answered conversation is a resolution, undecided, then followed up
    expect(afterThanks).toEqual({ share: null, firstContact: 0, resolved: 0, pending: 1 });
    expect(await fcr()).toEqual({ share: 0, firstContact: 0, resolved: 1, pending: 0 });
  });

  it('should leave a thanks open for the agent when the resolved answer asked something', async () => {
    // Prepare
    await answeredAndResolved('Wyślemy nową paczkę. Czy adres jest ten sam?');

    // Act
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Assess: "Dziękuję!" may answer it (yes, the same address): an agent sees it
    const { id } = await sb.onlyOpenConversation();
    expect((await shownById(id)).conversation).toMatchObject({ awaiting: 'no-reply-needed' });
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
  });

  it('should leave a thanks open for the agent when a follow-up on the resolved conversation asked something', async () => {
    // Prepare: after the resolve the agent writes once more, asking
    const answered = await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-26T12:00:00+01:00');
    expect((await sb.act(`/conversations/${answered}/replies`, { text: 'Czy paczka dotarła?' })).status).toBe(
      201,
    );

    // Act
    sb.clock.set('2026-11-26T12:10:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Assess: "Dziękuję!" may be the answer (yes, it did; or not): an agent sees it
    const { id } = await sb.onlyOpenConversation();
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
  });

  // Found by the review of stop 33: an older release (a rolling deploy, a rollback) keeping a
  // follow-up on the contact writes its lastReplyAt and nothing else. Kept as a flag, "asked
  // nothing" was the earlier answer's, and the thanks that may answer the follow-up was born resolved.
  it('should leave a thanks open for the agent when an older release kept a later reply on the contact', async () => {
    // Prepare: the resolved answer asked nothing; an older release keeps a follow-up at 12:00
    await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');
    sb.clock.set('2026-11-26T12:00:00+01:00');
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONTACT#phone:${MOBILE}`, sk: 'CONTACT' }),
        UpdateExpression: 'SET lastReplyAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: marshall({ ':at': sb.clock.now().toISOString() }),
      }),
    );

    // Act
    sb.clock.set('2026-11-26T12:10:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Assess: what that reply asked is not known: taken as asked, an agent sees the thanks
    const { id } = await sb.onlyOpenConversation();
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
  });

  it('should leave a thanks open for the agent a week after our answer', async () => {
    // Prepare
    await answeredAndResolved('Wyszła dziś rano, kurier będzie jutro.');

    // Act: eight days later, "Dziękuję!" is no longer clearly about that answer
    sb.clock.set('2026-12-03T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();

    // Assess
    const { id } = await sb.onlyOpenConversation();
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
  });

  it('should record a Messenger thanks after the answer resolved, and wait for the question after it', async () => {
    // Prepare: a Messenger question at 10:00, answered and resolved at 10:30
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    const message = (mid: string, text: string) =>
      messagingEnvelope([
        [
          {
            sender: { id: PSID },
            recipient: { id: PAGE_ID },
            timestamp: sb.clock.now().getTime(),
            message: { mid, text },
          },
        ],
      ]);
    expect(
      (await sb.postMeta(message('m_thanks_q1', 'Dzień dobry, czy zamówienie 4417 już wyszło?'))).status,
    ).toBe(200);
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Tak, wyszło dziś rano.' })).status).toBe(
      201,
    );
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act
    sb.clock.set('2026-11-26T09:00:00+01:00');
    expect((await sb.postMeta(message('m_thanks_t1', 'Dzięki!'))).status).toBe(200);
    await sb.drain();
    const afterThanks = { open: await listed('status=open'), resolved: await listed('status=resolved') };
    sb.clock.set('2026-11-26T09:05:00+01:00');
    expect((await sb.postMeta(message('m_thanks_q2', 'A kiedy dojdzie?'))).status).toBe(200);
    await sb.drain();

    // Assess
    expect(afterThanks.open).toEqual([]);
    expect(afterThanks.resolved).toHaveLength(2);
    const asked = await sb.onlyOpenConversation();
    expect(afterThanks.resolved).toContain(asked.id);
    expect((await shownById(asked.id)).conversation).toMatchObject({ awaiting: 'reply' });
    expect(await listed('awaiting=true')).toEqual([asked.id]);
  });
});
