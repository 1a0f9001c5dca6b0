import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { afterCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { reopenGivingWay } from '#test/support/races.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

// The contact's pointer to its open conversation and the conversation's status are two items,
// written by customers' messages, resolves and reopens at the same moments. Each test stops
// one writer right after one of its calls is answered (at the SDK's edge) and runs another
// writer to the end there, then checks: one open conversation per customer, the contact
// pointing at it, every message in a conversation that is open or answered. docs/store.md,
// "Concurrency".

const PHONE = '+48601234567';
const KEY = `phone:${PHONE}`;

type Item = Record<string, { S?: string }>;
const itemOf = (input: Record<string, unknown>) => (input.Item ?? input.Key) as Item | undefined;

describe("the contact's pointer under racing customers and agents", () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    sb = await startTestSwitchboard();
  });
  afterEach(async () => {
    await sb.stop();
  });

  async function openOne(): Promise<string> {
    await sb.postSms({ From: PHONE, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    return (await sb.runtime.store.getContact(KEY))?.openConversationId as string;
  }

  async function state() {
    const ids = async (status: 'open' | 'resolved') =>
      (await sb.runtime.store.listConversations({ status, limit: 100 })).items.map((c) => c.id);
    return {
      open: await ids('open'),
      resolved: await ids('resolved'),
      pointer: (await sb.runtime.store.getContact(KEY))?.openConversationId ?? null,
    };
  }

  /** The customer's SMS `sid` (each delivery of it carries the same sid). */
  const sms = (sid: string, body = 'Jeszcze jedno') =>
    sb.postSms({ From: PHONE, MessageSid: sid, SmsSid: sid, Body: body });

  /** Runs `meanwhile` once, right after the customer message `sid` is stored. */
  const afterStoring = (sid: string, meanwhile: () => Promise<void>) =>
    afterCall(
      sb.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => pkStartsWith('MSG#')(input) && JSON.stringify(input.Item).includes(sid),
      },
      meanwhile,
    );

  it('should move a message to a new conversation when its conversation was resolved between storing and applying it', async () => {
    // Prepare
    const first = await openOne();
    const sid = twilioSid('SM');
    let resolved = 0;
    const hook = afterStoring(sid, async () => {
      resolved = (await sb.act(`/conversations/${first}/resolve`)).status;
    });

    // Act
    const response = await sms(sid);
    await sb.drain();

    // Assess: the message opened the contact's next conversation, with its own episode
    expect(hook.fired).toBe(true);
    expect([resolved, response.status]).toEqual([200, 200]);
    const after = await state();
    expect(after.resolved).toEqual([first]);
    expect(after.open).toHaveLength(1);
    expect(after.pointer).toBe(after.open[0]);
    const message = await sb.runtime.store.findByProviderId('twilio', sid);
    expect(message?.conversationId).toBe(after.open[0]);
    const moved = await sb.runtime.store.getConversation(after.open[0] as string);
    expect(moved?.episodeMessageIds).toContain(message?.id);
  });

  it('should move two deliveries of one message at the same moment without a 5xx', async () => {
    // Prepare: the conversation resolved after the message was stored; while the first delivery
    // is moving it, the provider's second delivery moves it first
    const first = await openOne();
    const sid = twilioSid('SM');
    let second: Response | undefined;
    afterStoring(sid, async () => {
      await sb.act(`/conversations/${first}/resolve`);
      afterCall(
        sb.backends.dynamodb,
        { command: 'GetItemCommand', match: (input) => itemOf(input)?.pk?.S?.startsWith('MSG#') ?? false },
        async () => {
          second = await sms(sid);
        },
      );
    });

    // Act
    const response = await sms(sid);
    await sb.drain();

    // Assess: both answered 200; the message is once in the contact's new conversation, and no
    // second ack (the new conversation's is skipped within the hour of the first)
    expect([response.status, second?.status]).toEqual([200, 200]);
    const after = await state();
    expect(after.resolved).toEqual([first]);
    expect(after.open).toHaveLength(1);
    const message = await sb.runtime.store.findByProviderId('twilio', sid);
    expect(message?.conversationId).toBe(after.open[0]);
    const messages = await sb.runtime.store.listMessages(after.open[0] as string, { limit: 1_000 });
    expect(messages.filter((m) => m.providerMessageId === sid)).toHaveLength(1);
    expect((await sb.outbox()).filter((entry) => entry.to === PHONE)).toHaveLength(1);
  });

  it('should keep a message in its conversation when an agent reopened it after the message read it resolved', async () => {
    // Prepare: the message reads the contact, is stored, then its conversation is resolved; the
    // agent reopens it right after the message read it resolved, before the message moves on
    const first = await openOne();
    const sid = twilioSid('SM');
    let reopened = 0;
    const stored = afterStoring(sid, async () => {
      await sb.act(`/conversations/${first}/resolve`);
      afterCall(
        sb.backends.dynamodb,
        {
          command: 'GetItemCommand',
          match: (input, output) =>
            itemOf(input)?.pk?.S === `CONV#${first}` &&
            (output.Item as Item | undefined)?.status?.S === 'resolved',
        },
        async () => {
          reopened = (await sb.act(`/conversations/${first}/reopen`)).status;
        },
      );
    });

    // Act
    const response = await sms(sid);
    await sb.drain();

    // Assess: the reopen stands and the message joined it; no second open conversation
    expect(stored.fired).toBe(true);
    expect([reopened, response.status]).toEqual([200, 200]);
    const after = await state();
    expect(after.open).toEqual([first]);
    expect(after.pointer).toBe(first);
    expect((await sb.runtime.store.findByProviderId('twilio', sid))?.conversationId).toBe(first);
    expect((await sb.runtime.store.getContact(KEY))?.conversationIds).toEqual([first]);
  });

  it('should answer a reopen 409 and leave the conversation resolved when a message moved on before the reopen was confirmed', async () => {
    // Prepare: resolved; a message arrives right after the reopen's claim, before its write
    const first = await openOne();
    await sb.act(`/conversations/${first}/resolve`);
    sb.clock.advance(2 * 60 * 60_000);
    const sid = twilioSid('SM');
    let delivered = 0;
    const claimed = afterCall(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: (input) => pkStartsWith('CONTACT#')(input) },
      async () => {
        delivered = (await sms(sid, 'Nowa sprawa')).status;
      },
    );

    // Act
    const reopen = await sb.act(`/conversations/${first}/reopen`);
    await sb.drain();

    // Assess: the message's conversation is the open one; the reopen undid itself
    expect(claimed.fired).toBe(true);
    expect([reopen.status, delivered]).toEqual([409, 200]);
    const after = await state();
    expect(after.resolved).toEqual([first]);
    expect(after.open).toHaveLength(1);
    expect(after.pointer).toBe(after.open[0]);
    expect((await sb.runtime.store.findByProviderId('twilio', sid))?.conversationId).toBe(after.open[0]);
    expect((await sb.outbox()).filter((entry) => entry.to === PHONE)).toHaveLength(2);
  });

  it('should move a message that joined a reopen which then gave way to the open conversation', async () => {
    // Prepare: resolved; right after the reopen's claim message A reads the conversation still
    // resolved and is held there; the reopen writes it open, message B joins it, then A opens a
    // new conversation before the reopen renews its claim: the reopen gives way
    const first = await openOne();
    await sb.act(`/conversations/${first}/resolve`);
    sb.clock.advance(2 * 60 * 60_000);
    const [a, b] = [twilioSid('SM'), twilioSid('SM')];
    const race = reopenGivingWay(sb.backends.dynamodb, first, {
      a: () => sms(a, 'Nowa sprawa'),
      b: () => sms(b, 'I jeszcze jedno'),
    });

    // Act
    const reopen = await sb.act(`/conversations/${first}/reopen`);
    await sb.drain();

    // Assess: the reopen gave way; both messages are in the one open conversation, acknowledged once
    expect([reopen.status, ...(await race.answers())]).toEqual([409, 200, 200]);
    const after = await state();
    expect(after.resolved).toEqual([first]);
    expect(after.open).toHaveLength(1);
    expect(after.pointer).toBe(after.open[0]);
    for (const sid of [a, b])
      expect((await sb.runtime.store.findByProviderId('twilio', sid))?.conversationId).toBe(after.open[0]);
    const open = await sb.runtime.store.getConversation(after.open[0] as string);
    expect(open?.awaitingSince).not.toBeNull();
    expect((await sb.outbox()).filter((entry) => entry.to === PHONE)).toHaveLength(2);
  });

  it("should renew a reopen's claim on the agents' retry when the first try died before renewing it", async () => {
    // Prepare: resolved; right after the reopen's claim a message reads the conversation still
    // resolved and is held there; the reopen then writes it open and dies before renewing
    const first = await openOne();
    await sb.act(`/conversations/${first}/resolve`);
    const sid = twilioSid('SM');
    const { promise: read, resolve: messageRead } = Promise.withResolvers<void>();
    const { promise: gate, resolve: letGo } = Promise.withResolvers<void>();
    let message: Promise<Response> | undefined;
    afterCall(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: (input) => pkStartsWith('CONTACT#')(input) },
      async () => {
        afterCall(
          sb.backends.dynamodb,
          {
            command: 'GetItemCommand',
            match: (input, output) =>
              itemOf(input)?.pk?.S === `CONV#${first}` &&
              (output.Item as Item | undefined)?.status?.S === 'resolved',
          },
          async () => {
            messageRead();
            await gate;
          },
        );
        message = sms(sid);
        await read;
      },
    );
    const renewal = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: (input) => String(input.UpdateExpression).startsWith('SET claimToken'),
    });
    const died = await sb.act(`/conversations/${first}/reopen`, undefined, { key: 'reopen-once' });

    // Act: the agents' tool retries with the same key; then the message goes on
    const retried = await sb.act(`/conversations/${first}/reopen`, undefined, { key: 'reopen-once' });
    letGo();
    const delivered = await message;

    // Assess: the message joined the reopened conversation; no second open one
    expect(renewal.fired).toBe(1);
    expect([died.status, retried.status, delivered?.status]).toEqual([500, 200, 200]);
    const after = await state();
    expect(after.open).toEqual([first]);
    expect(after.pointer).toBe(first);
    expect((await sb.runtime.store.findByProviderId('twilio', sid))?.conversationId).toBe(first);
  });

  it('should keep the pointer of a reopen that landed while a resolve was writing', async () => {
    // Prepare: the resolve has read the contact and written the conversation resolved; the
    // reopen runs to the end before the resolve releases the pointer
    const first = await openOne();
    let reopened = 0;
    const written = afterCall(
      sb.backends.dynamodb,
      {
        command: 'PutItemCommand',
        match: (input) => itemOf(input)?.pk?.S === `CONV#${first}` && itemOf(input)?.status?.S === 'resolved',
      },
      async () => {
        reopened = (await sb.act(`/conversations/${first}/reopen`)).status;
      },
    );

    // Act
    const resolve = await sb.act(`/conversations/${first}/resolve`);
    const sid = twilioSid('SM');
    await sms(sid, 'Dziękuję, jeszcze pytanie');
    await sb.drain();

    // Assess: the reopen is the last word; the next message joins it
    expect(written.fired).toBe(true);
    expect([resolve.status, reopened]).toEqual([200, 200]);
    const after = await state();
    expect(after.open).toEqual([first]);
    expect(after.pointer).toBe(first);
    expect((await sb.runtime.store.findByProviderId('twilio', sid))?.conversationId).toBe(first);
  });
  // Found at stop 25 (a review of this stop's own changes): the claim that replaces a resolved
  // conversation wrote the contact's lastReplyAt from what it had read, so an agent's follow-up
  // kept there meanwhile (keepLastReply) was moved back, and the quiet time after it lost.
  it("should never move the contact's last reply back when a message replaces a resolved conversation an agent followed up on meanwhile", async () => {
    // Prepare: an answered conversation, resolved by a request that died before releasing the
    // contact (the pointer still names it); half an hour later the customer writes, and the
    // agent's follow-up on the resolved conversation lands right after the message read it
    const first = await openOne();
    expect((await sb.act(`/conversations/${first}/replies`, { text: 'Paczka wyszła.' })).status).toBe(201);
    const release = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('CONTACT#'),
    });
    expect((await sb.act(`/conversations/${first}/resolve`)).status).toBe(500);
    release.remove();
    sb.clock.advance(30 * 60_000);
    const followUpAt = sb.clock.now().toISOString();
    let followUp = 0;
    const hook = afterCall(
      sb.backends.dynamodb,
      { command: 'GetItemCommand', match: (input) => pkStartsWith(`CONV#${first}`)(input) },
      async () => {
        followUp = (await sb.act(`/conversations/${first}/replies`, { text: 'Czy coś jeszcze?' })).status;
      },
    );

    // Act
    await sms(twilioSid('SM'), 'Dziękuję');
    await sb.drain();

    // Assess: the follow-up is the contact's last reply
    expect(hook.fired).toBe(true);
    expect(followUp).toBe(201);
    expect((await sb.runtime.store.getContact(KEY))?.lastReplyAt).toBe(followUpAt);
  });
});
