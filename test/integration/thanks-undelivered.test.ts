import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
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
