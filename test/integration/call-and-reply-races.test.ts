import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { beforeCall } from '#test/support/faults.ts';
import { IG_ACCOUNT_ID, messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiMessage = { direction: string; kind: string; providerMessageId: string | null; text: string };

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

/** Runs `meanwhile` once, right before the first matching DynamoDB call leaves the client. */

// A call that lands past the promise (its breach counted in its own write; a keyword's episode
// still taken over by the caller's question), and two agents' Instagram replies in flight at
// once (each marked, each cleared by its own write). Found by a last review of stop 22.

describe('calls past the promise and replies in flight', () => {
  let sb: TestSwitchboard | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('should still count the breach of a promise that passed when the customer calls before the sweeper saw it', async () => {
    // Prepare: an SMS Wednesday 10:00, acknowledged (promised Thursday 10:00); the sweeper has
    // not passed since the promise ran out when the same customer calls, at Thursday 10:01
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    expect(first.ack?.state).toBe('sent');
    expect(first.replyBy).toBe('2026-11-26T10:00:00.000+01:00');
    sb.clock.set('2026-11-26T10:01:00+01:00');
    const call = await sb.postTwilio('voice', 'voice-incoming');
    expect(call.status).toBe(200);

    // Act: the sweeper's next pass
    const swept = await sweep(sb.runtime.sweepDeps);

    // Assess: the promise the customer was given passed unanswered: one breach, counted by the
    // call's own write (announced once), not again by the sweeper
    const after = await sb.onlyOpenConversation();
    const breaches = (await sb.events()).filter((event) => event.type === 'promise.breached');
    expect(swept.breaches).toBe(0);
    expect(new Set(breaches.map((event) => event.id)).size).toBe(1);
    expect(after.breachedEpisode).toBe(after.episode);
    // (what the greeting spoke may well be the episode's promise now: the first kept for measuring)
    expect(after.originalReplyBy ?? after.replyBy).toBe('2026-11-26T10:00:00.000+01:00');
  });

  it("should let a caller's question take over an episode only HELP began, when the promise passed before the call", async () => {
    // Prepare: promises of a quarter of a working hour; an SMS at 10:00 is acknowledged and
    // resolved; HELP at 10:02 opens a new episode nobody is promised anything for (replyBy
    // 10:30); the customer calls at 10:31, not acknowledged only because of the 10:00 ack
    const targets = {
      sms: 0.25,
      mms: 0.25,
      whatsapp: 0.25,
      voice: 0.25,
      messenger: 0.25,
      instagram: 0.25,
      email: 0.25,
    };
    sb = await startTestSwitchboard({
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
      business: { ...DEFAULT_BUSINESS_CONFIG, promise: { ...DEFAULT_BUSINESS_CONFIG.promise, targets } },
    });
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    expect(first.ack?.state).toBe('sent');
    sb.clock.set('2026-11-25T10:01:00+01:00');
    expect((await sb.act(`/conversations/${first.id}/resolve`, {})).status).toBeLessThan(300);
    sb.clock.set('2026-11-25T10:02:00+01:00');
    const helpPost = await sb.postSms({
      From: '+48601234567',
      Body: 'HELP',
      MessageSid: 'SM0000000000000000000000000000beef',
      SmsMessageSid: 'SM0000000000000000000000000000beef',
      SmsSid: 'SM0000000000000000000000000000beef',
    });
    expect(helpPost.status).toBe(200);
    await sb.drain();
    const help = await sb.onlyOpenConversation();
    expect(help.ack).toMatchObject({ state: 'skipped', reason: 'keyword:help' });
    sb.clock.set(new Date(Date.parse(help.replyBy as string) + 60_000));

    // Act: the call
    const call = await sb.postTwilio('voice', 'voice-incoming');
    expect(call.status).toBe(200);

    // Assess: the caller's question took the episode over (as any message not acknowledged only
    // because we just wrote to them): its promise passing unanswered is a breach
    const after = await sb.onlyOpenConversation();
    expect(after.ack?.reason).toBe('recently-acknowledged');
    sb.clock.set(new Date(Date.parse(after.replyBy as string) + 60_000));
    const swept = await sweep(sb.runtime.sweepDeps);
    expect(swept.breaches).toBe(1);
  });

  it("should not take the echo of a second agent's Instagram reply for a person's when a first reply finishes meanwhile", async () => {
    // Prepare: an Instagram customer, acknowledged; agent B's reply is sent and about to be
    // stored when agent A's reply (sent after B's) goes through whole; then B's echo arrives
    sb = await startTestSwitchboard();
    const s = sb;
    const igsid = '1029384756100077';
    await s.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(4, { sender: igsid, recipient: IG_ACCOUNT_ID, text: 'Is the jacket in M?' })]],
        'instagram',
      ),
    );
    await s.drain();
    const conversation = await s.onlyOpenConversation();
    s.clock.advance(20 * 60_000);
    let echoStatus = 0;
    let otherStatus = 0;
    const race = beforeCall(
      s.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => {
          const item = input.Item as { kind?: { S?: string }; text?: { S?: string } } | undefined;
          return item?.kind?.S === 'reply' && (item.text?.S ?? '').startsWith('Agent B');
        },
      },
      async () => {
        // B is sent, not stored: A replies meanwhile, whole
        otherStatus = (await s.act(`/conversations/${conversation.id}/replies`, { text: 'Agent A: yes, M.' }))
          .status;
        const sentB = (await s.outbox()).find((m) => (m.text ?? '').startsWith('Agent B'));
        const echo = messagingEnvelope(
          [
            [
              {
                sender: { id: IG_ACCOUNT_ID },
                recipient: { id: igsid },
                timestamp: s.clock.now().getTime(),
                message: { mid: sentB?.providerMessageId, text: sentB?.text, is_echo: true },
              },
            ],
          ],
          'instagram',
        );
        echoStatus = (await s.postMeta(echo)).status;
      },
    );

    // Act
    const reply = await s.act(`/conversations/${conversation.id}/replies`, { text: 'Agent B: M and L.' });

    // Assess: B's echo waits for Meta's retry (B is still in flight); two replies on record
    expect(race.fired).toBe(true);
    expect([reply.status, otherStatus]).toEqual([201, 201]);
    const messages = await messagesOf(s, conversation.id);
    expect(messages.filter((m) => m.kind === 'reply')).toHaveLength(2);
    expect(echoStatus).toBe(503);
  });
});
