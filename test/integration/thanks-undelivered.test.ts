import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { beforeCall, pkStartsWith } from '#test/support/faults.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

// Found by the closing note of stop 33: the agent answered and resolved, Twilio then reported the
// answer undelivered (30003: the phone off), and the customer's "Dziękuję!" opened a conversation
// born resolved. Our answer never reached them: their thanks cannot be for it (the ack, perhaps,
// or something else). It opens as any thanks did before stop 33, in front of an agent, who sees
// the failure on the answered conversation and the thanks under "no reply needed".

const MOBILE = '+48601234567';

describe('thanks after an answer the provider reported undelivered, resolved by the agent', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
  });

  const listed = async (query: string): Promise<string[]> =>
    (
      (await (await sb.api(`/api/conversations?${query}`)).json()) as { items: Array<{ id: string }> }
    ).items.map((c) => c.id);

  /** Wednesday 10:00 an SMS question; 10:30 the agent's answer goes to Twilio. */
  async function answered(): Promise<{ id: string; replySid: string }> {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
    });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(201);
    const shown = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId?: string }>;
    };
    const replySid = shown.messages.find((m) => m.kind === 'reply')?.providerMessageId as string;
    return { id, replySid };
  }

  const reported = async (sid: string, fixture: 'status-undelivered-30007' | 'status-delivered') => {
    const overrides = fixture === 'status-undelivered-30007' ? { ErrorCode: '30003' } : {};
    expect((await sb.postTwilio('status', fixture, { MessageSid: sid, ...overrides })).status).toBe(200);
  };

  const resolve = async (id: string) =>
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

  /** 10:35 the customer's thanks: the conversation it opens. */
  async function thanked(answeredId: string): Promise<string> {
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    const all = [...(await listed('status=open')), ...(await listed('status=resolved'))];
    return all.find((id) => id !== answeredId) as string;
  }

  it('should open the thanks for an agent when the report came before the resolve', async () => {
    // Prepare
    const { id, replySid } = await answered();
    await reported(replySid, 'status-undelivered-30007');
    await resolve(id);

    // Act
    const thanks = await thanked(id);

    // Assess: not born resolved; under "no reply needed", nothing promised
    expect(await listed('status=open')).toEqual([thanks]);
    expect(await listed('noReplyNeeded=true')).toEqual([thanks]);
    expect(await listed('awaiting=true')).toEqual([]);
  });

  it('should open the thanks for an agent when the report came after the resolve', async () => {
    // Prepare: the agent resolves at once; the carrier reports the phone unreachable later
    const { id, replySid } = await answered();
    await resolve(id);
    sb.clock.set('2026-11-25T10:32:00+01:00');
    await reported(replySid, 'status-undelivered-30007');

    // Act
    const thanks = await thanked(id);

    // Assess
    expect(await listed('status=open')).toEqual([thanks]);
    expect(await listed('noReplyNeeded=true')).toEqual([thanks]);
  });

  // Found by the thanks-edges review: the agent's resolve is two writes, the conversation's and
  // then the contact's release (which keeps our last reply on the contact, and whether it asked
  // nothing). A report landing between them marked the kept reply failed, and the release, built
  // from what it read before, put it back as a plain answer: the thanks was born resolved.
  it('should open the thanks for an agent when the report lands between the resolve and its release', async () => {
    // Prepare: Twilio's report arrives just as the resolve releases the contact's pointer
    const { id, replySid } = await answered();
    const meanwhile = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) =>
          pkStartsWith('CONTACT#')(input) &&
          String(input.UpdateExpression ?? '').includes('openConversationId = :null'),
      },
      () => reported(replySid, 'status-undelivered-30007'),
    );
    await resolve(id);
    meanwhile.remove();
    expect(meanwhile.fired).toBe(true);

    // Act
    const thanks = await thanked(id);

    // Assess: as when the report came before or after the resolve
    expect(await listed('status=open')).toEqual([thanks]);
    expect(await listed('noReplyNeeded=true')).toEqual([thanks]);
  });

  it('should still give the thanks a conversation born resolved when the answer was delivered', async () => {
    // Prepare
    const { id, replySid } = await answered();
    await resolve(id);
    sb.clock.set('2026-11-25T10:32:00+01:00');
    await reported(replySid, 'status-delivered');

    // Act
    const thanks = await thanked(id);

    // Assess
    expect(await listed('status=open')).toEqual([]);
    expect(await listed('status=resolved')).toContain(thanks);
  });
});

// Found by the thanks-edges review: the agent answered and left the conversation open, the
// customer's "Dziękuję!" resolved it by itself, and only then did Twilio report the answer
// undelivered. The agent heard reply.failed, but the conversation stayed resolved, out of the open
// list: the customer thanked for something they never got (the ack, perhaps). The report reopens
// a conversation their thanks resolved, as if it had come before the thanks: open, under "no reply
// needed", the failure on it; once, whatever the provider redelivers. One an agent resolved by hand
// stays resolved: a person decided it was done, and reply.failed tells them.
describe('an answer reported undelivered after the thanks for it resolved the conversation', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
  });

  const listed = async (query: string): Promise<string[]> =>
    (
      (await (await sb.api(`/api/conversations?${query}`)).json()) as { items: Array<{ id: string }> }
    ).items.map((c) => c.id);

  const shown = async (id: string) =>
    ((await (await sb.api(`/api/conversations/${id}`)).json()) as { conversation: Record<string, unknown> })
      .conversation;

  const count = async (type: string) => (await sb.events()).filter((e) => e.type === type).length;

  /** Wednesday 10:00 an SMS question; 10:30 the agent's answer goes to Twilio. */
  async function answered(): Promise<{ id: string; replySid: string }> {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
    });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:30:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(201);
    const messages = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId?: string }>;
    };
    return { id, replySid: messages.messages.find((m) => m.kind === 'reply')?.providerMessageId as string };
  }

  /** 10:40 Twilio reports the answer undelivered (30003), delivered twice. */
  async function undelivered(replySid: string): Promise<void> {
    sb.clock.set('2026-11-25T10:40:00+01:00');
    for (let copy = 0; copy < 2; copy++) {
      const posted = await sb.postTwilio('status', 'status-undelivered-30007', {
        MessageSid: replySid,
        ErrorCode: '30003',
      });
      expect(posted.status).toBe(200);
    }
    await sb.drain();
  }

  it('should reopen the conversation the thanks resolved, once, for the agent', async () => {
    // Prepare: the customer thanks at 10:35, the conversation resolves by itself
    const { id, replySid } = await answered();
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    expect((await sb.runtime.store.getConversation(id))?.status).toBe('resolved');

    // Act
    await undelivered(replySid);

    // Assess: open under "no reply needed", nothing promised, the failure shown; heard once each
    expect(await shown(id)).toMatchObject({
      status: 'open',
      awaiting: 'no-reply-needed',
      replyFailure: { status: 'undelivered', errorCode: '30003' },
    });
    expect(await listed('status=open')).toEqual([id]);
    expect(await listed('noReplyNeeded=true')).toEqual([id]);
    expect(await listed('awaiting=true')).toEqual([]);
    expect(await count('reply.failed')).toBe(1);
    expect(await count('conversation.reopened')).toBe(1);
    const reopened = (await sb.events()).find((e) => e.type === 'conversation.reopened');
    expect(reopened?.data).toMatchObject({ agent: null });
  });

  // Found by the review of c13d9b4: the agent's resolve of a conversation the thanks resolved a
  // moment before (a tab open from before the thanks) changed nothing, the thanks marker stayed,
  // and the report then reopened what the agent had resolved by hand.
  it('should keep it resolved when the agent resolved it by hand after the thanks', async () => {
    // Prepare: the thanks resolves it at 10:35; at 10:37 the agent resolves it too
    const { id, replySid } = await answered();
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    sb.clock.set('2026-11-25T10:37:00+01:00');
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act
    await undelivered(replySid);

    // Assess: resolved as the agent left it, the failure shown and announced
    expect(await shown(id)).toMatchObject({ status: 'resolved', replyFailure: { status: 'undelivered' } });
    expect(await count('conversation.reopened')).toBe(0);
    expect(await count('reply.failed')).toBe(1);
  });

  it('should keep it open when the customer thanks again after the report', async () => {
    // Prepare
    const { id, replySid } = await answered();
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    await undelivered(replySid);

    // Act
    sb.clock.set('2026-11-25T10:50:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję bardzo!' });
    await sb.drain();

    // Assess
    expect(await shown(id)).toMatchObject({ status: 'open', awaiting: 'no-reply-needed' });
    expect(await count('conversation.resolved')).toBe(1);
  });

  it('should reopen the conversation a thanks was born resolved in after the agent resolved the answer', async () => {
    // Prepare: the agent resolves at 10:31, the thanks at 10:35 opens a conversation born resolved
    const { id, replySid } = await answered();
    sb.clock.set('2026-11-25T10:31:00+01:00');
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);
    sb.clock.set('2026-11-25T10:35:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję!' });
    await sb.drain();
    const thanks = (await listed('status=resolved')).find((other) => other !== id) as string;
    expect(thanks).toBeDefined();

    // Act
    await undelivered(replySid);

    // Assess: the thanks' conversation in front of the agent, as if the report had come first;
    // the answered one stays as the agent resolved it, its failure shown
    expect(await listed('status=open')).toEqual([thanks]);
    expect(await listed('noReplyNeeded=true')).toEqual([thanks]);
    expect(await shown(id)).toMatchObject({ status: 'resolved', replyFailure: { status: 'undelivered' } });
    expect(await count('conversation.reopened')).toBe(1);
    expect(await count('reply.failed')).toBe(1);
  });

  it('should leave a conversation the agent resolved by hand resolved', async () => {
    // Prepare: no thanks; the agent resolves at 10:31
    const { id, replySid } = await answered();
    sb.clock.set('2026-11-25T10:31:00+01:00');
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act
    await undelivered(replySid);

    // Assess: reply.failed tells the agent; their resolve stands
    expect(await shown(id)).toMatchObject({ status: 'resolved', replyFailure: { status: 'undelivered' } });
    expect(await listed('status=open')).toEqual([]);
    expect(await count('conversation.reopened')).toBe(0);
    expect(await count('reply.failed')).toBe(1);
  });
});
