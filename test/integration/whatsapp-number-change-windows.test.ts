import { afterEach, describe, expect, it } from 'vitest';
import { afterCall, beforeCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { whatsappUserText } from '#test/support/meta-factory.ts';
import { NEW, numberChange, OLD } from '#test/support/number-change.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A WhatsApp customer who changes their number (whatsapp-number-change tests): the windows stop
// 30 left. The new number's own conversation, opened before Meta's `user_changed_number`, and a
// message that opens a new wait there around the change.

const { text, numberChanged } = numberChange('-window');

describe('a number change and a new wait in the conversation the new number already had open', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function openOf(key: string) {
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 100 });
    return items.find((c) => c.contact.key === key);
  }

  /**
   * Acknowledged at the old number and still waiting there; hours later the customer wrote from
   * the new number (before Meta's system message: a conversation of its own, acknowledged), and
   * a person answered them there. Returns how many messages went out so far.
   */
  async function waitingAtTheOldNumberAnsweredAtTheNew(): Promise<number> {
    sb = await startTestSwitchboard();
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    sb.clock.advance(3 * 3_600_000);
    await sb.postMeta(text('Piszę z nowego numeru, czy zmienię adres?', 'new'));
    await sb.drain();
    const own = await openOf(`phone:+${NEW}`);
    await sb.act(`/conversations/${own?.id}/replies`, { text: 'Tak, adres można zmienić.' });
    await sb.drain();
    sb.clock.advance(30 * 60_000);
    return (await sb.outbox()).length;
  }

  it('should not acknowledge a new wait there opened after the change, while the old wait goes on', async () => {
    // Prepare
    const before = await waitingAtTheOldNumberAnsweredAtTheNew();
    await sb.postMeta(numberChanged());

    // Act: minutes later a new question from the new number, in its own conversation
    sb.clock.advance(5 * 60_000);
    const message = await sb.postMeta(text('A kiedy dostawa?', 'new'));
    await sendEveryAck(sb);

    // Assess: the new wait is in the new number's conversation; nothing more went out
    expect(message.status).toBe(200);
    expect((await openOf(`phone:+${NEW}`))?.awaitingSince).not.toBeNull();
    expect((await sb.outbox()).slice(before)).toEqual([]);
  });

  it.each([
    {
      when: 'the whole change is recorded between its claim and its conversation write',
      hook: beforeCall,
      command: 'PutItemCommand',
      prefix: 'MSG#',
    },
    {
      when: 'it is recorded right after the change read that conversation',
      hook: afterCall,
      command: 'GetItemCommand',
      prefix: 'CONV#',
    },
  ])('should not acknowledge a new wait there when $when', async ({ hook, command, prefix }) => {
    // Prepare
    const before = await waitingAtTheOldNumberAnsweredAtTheNew();
    const own = await openOf(`phone:+${NEW}`);
    let status = 0;
    const meanwhile = hook(
      sb.backends.dynamodb,
      {
        command,
        match: (input) =>
          pkStartsWith(prefix)(input) && (prefix !== 'CONV#' || pkStartsWith(`CONV#${own?.id}`)(input)),
      },
      async () => {
        status = (await sb.postMeta(prefix === 'MSG#' ? numberChanged() : text('A kiedy dostawa?', 'new')))
          .status;
      },
    );

    // Act
    const first = await sb.postMeta(prefix === 'MSG#' ? text('A kiedy dostawa?', 'new') : numberChanged());
    await sendEveryAck(sb);
    meanwhile.remove();

    // Assess
    expect([meanwhile.fired, first.status, status]).toEqual([true, 200, 200]);
    expect((await openOf(`phone:+${NEW}`))?.awaitingSince).not.toBeNull();
    expect((await sb.outbox()).slice(before)).toEqual([]);
  });
});

describe('a number change and a message without the BSUID from the new number, recorded at once', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it.each([
    { when: 'between its claim and its conversation write', hook: beforeCall },
    { when: 'between its conversation write and its ack job', hook: afterCall },
  ])('should send one ack when the whole change is recorded $when', async ({ hook }) => {
    // Prepare: acknowledged at the old number; hours later, still waiting, the customer writes
    // from the new number in the webhook form without the BSUID (as before Meta's ids)
    sb = await startTestSwitchboard();
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    sb.clock.advance(3 * 3_600_000);
    let status = 0;
    const meanwhile = hook(
      sb.backends.dynamodb,
      { command: 'PutItemCommand', match: pkStartsWith('CONV#') },
      async () => {
        status = (await sb.postMeta(numberChanged())).status;
      },
    );

    // Act
    const message = await sb.postMeta(
      whatsappUserText('Piszę z nowego numeru', { number: NEW }, 'wamid.number-change-no-bsuid', 1763986490),
    );
    await sendEveryAck(sb);
    meanwhile.remove();

    // Assess: the new number's conversation is kept, its ack did not go
    expect([meanwhile.fired, message.status, status]).toEqual([true, 200, 200]);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: `+${OLD}` })]);
  });
});

describe('the conversation a new number took over, resolved and reopened', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  /** Acknowledged at the old number, the change, a message from the new number in that conversation, answered. */
  async function takenOverAndAnswered(): Promise<string> {
    sb = await startTestSwitchboard();
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    await sb.postMeta(numberChanged());
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(text('Zmieniłam numer', 'new'));
    const conversation = await sb.onlyOpenConversation();
    await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Dostawa jutro.' });
    await sb.drain();
    return conversation.id;
  }

  async function inbound(conversationId: string) {
    const messages = await sb.runtime.store.listMessages(conversationId, { limit: 20 });
    return messages.filter((m) => m.direction === 'inbound').length;
  }

  it("should free the new number's pointer on resolve: its next message opens a new conversation at once", async () => {
    // Prepare
    const id = await takenOverAndAnswered();

    // Act: an agent resolves it; a day later a new question from the new number
    const resolved = await sb.act(`/conversations/${id}/resolve`, {});
    const pointer = (await sb.runtime.store.getContact(`phone:+${NEW}`))?.openConversationId;
    sb.clock.advance(24 * 3_600_000);
    await sb.postMeta(text('Mam nowe pytanie', 'new'));
    await sb.drain();

    // Assess: no pointer left to a resolved conversation; the question opened the new number's
    // own conversation, acknowledged at the new number
    expect([resolved.status, pointer]).toEqual([200, null]);
    const open = await sb.onlyOpenConversation();
    expect([open.contact.key, await inbound(id)]).toEqual([`phone:+${NEW}`, 2]);
    expect((await sb.outbox()).at(-1)).toMatchObject({ to: `+${NEW}` });
  });

  it("should bring the new number's messages back to the conversation when an agent reopens it", async () => {
    // Prepare
    const id = await takenOverAndAnswered();
    await sb.act(`/conversations/${id}/resolve`, {});

    // Act
    const reopened = await sb.act(`/conversations/${id}/reopen`, {});
    sb.clock.advance(60 * 60_000);
    await sb.postMeta(text('Jeszcze jedno pytanie', 'new'));

    // Assess: one open conversation, the reopened one, which the message joined
    expect(reopened.status).toBe(200);
    expect((await sb.onlyOpenConversation()).id).toBe(id);
    expect(await inbound(id)).toBe(3);
    expect((await sb.runtime.store.getContact(`phone:+${NEW}`))?.openConversationId).toBe(id);
  });

  it("should keep a message from the new number in the conversation an agent reopens while it is recorded, the resolve's release of its pointer having died", async () => {
    // Prepare: resolved, the new number's pointer left on it (a crash, or a release lost)
    const id = await takenOverAndAnswered();
    const release = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: (input) =>
        pkStartsWith(`CONTACT#phone:+${NEW}`)(input) &&
        String(input.UpdateExpression).includes('openConversationId = :null'),
    });
    await sb.act(`/conversations/${id}/resolve`, {});
    release.remove();
    sb.clock.advance(60 * 60_000);
    let reopened = 0;
    // The message found it resolved and is about to open a new one in its place
    const meanwhile = beforeCall(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) =>
          pkStartsWith(`CONTACT#phone:+${NEW}`)(input) &&
          String(input.ConditionExpression).includes(':replacing'),
      },
      async () => {
        reopened = (await sb.act(`/conversations/${id}/reopen`, {})).status;
      },
    );

    // Act
    const message = await sb.postMeta(text('Jeszcze jedno pytanie', 'new'));
    meanwhile.remove();

    // Assess: the message joined the reopened conversation; no other opened
    expect([release.fired, meanwhile.fired, reopened, message.status]).toEqual([1, true, 200, 200]);
    expect((await sb.onlyOpenConversation()).id).toBe(id);
    expect(await inbound(id)).toBe(3);
  });
});
