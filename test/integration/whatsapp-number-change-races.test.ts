import { afterEach, describe, expect, it } from 'vitest';
import { afterCall, beforeCall, pkStartsWith } from '#test/support/faults.ts';
import { NEW, numberChange, OLD } from '#test/support/number-change.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// A WhatsApp customer who changes their number (whatsapp-number-change tests), when Meta's
// `user_changed_number` and their first message from the new number are recorded at the same
// time, by two webhooks: the message lands between two of the change's writes, or the change
// between two of the message's.

const { text, numberChanged } = numberChange('-race');

describe('a number change and the first message from the new number, recorded at once', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function all() {
    const pages = await Promise.all(
      (['open', 'resolved'] as const).map((status) =>
        sb.runtime.store.listConversations({ status, limit: 100 }),
      ),
    );
    return pages.flatMap((page) => page.items);
  }

  it("should hold a STOP said at the old number against a message that joins the old conversation right after the change wrote the new number's pointer", async () => {
    // Prepare: the customer said STOP at the old number (that conversation was resolved), wrote
    // again there (no ack) and was answered; hours later the message from the new number is
    // recorded the moment the change has made that conversation the new number's (its last step)
    sb = await startTestSwitchboard();
    await sb.postMeta(text('STOP', 'old'));
    const [stopped] = await all();
    await sb.act(`/conversations/${stopped?.id}/resolve`, {});
    sb.clock.advance(24 * 3_600_000);
    await sb.postMeta(text('Jednak mam pytanie o zamówienie', 'old'));
    const open = (await all()).find((c) => c.status === 'open');
    await sb.act(`/conversations/${open?.id}/replies`, { text: 'Zamówienie wysłane wczoraj.' });
    await sb.drain();
    sb.clock.advance(2 * 3_600_000);
    let status = 0;
    const meanwhile = afterCall(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) =>
          pkStartsWith(`CONTACT#phone:+${NEW}`)(input) &&
          String(input.UpdateExpression).includes('claimToken'),
      },
      async () => {
        status = (await sb.postMeta(text('A kiedy dotrze?', 'new'))).status;
      },
    );

    // Act
    const change = await sb.postMeta(numberChanged());
    await sendEveryAck(sb);
    meanwhile.remove();

    // Assess: the message joined the old conversation and opened its next wait there, which the
    // STOP holds (the new number's contact knows it too); the agent's reply is all that was sent
    expect([meanwhile.fired, change.status, status]).toEqual([true, 200, 200]);
    const messages = await sb.runtime.store.listMessages(open?.id as string, { limit: 10 });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    expect(await sb.outbox()).toHaveLength(1);
    expect((await sb.runtime.store.getContact(`phone:+${NEW}`))?.optedOut).toBe(true);
  });

  it.each([
    {
      when: "between the new number's first conversation write and its ack job",
      hook: afterCall,
    },
    {
      // The change finds the pointer taken and the conversation not there yet.
      when: "while the new number's first message has claimed its conversation but not written it",
      hook: beforeCall,
    },
  ])('should send one ack when the whole change is recorded $when', async ({ hook }) => {
    // Prepare: acknowledged at the old number; hours later, still waiting, the customer writes
    // from the new number, and the change is recorded around that message's conversation write
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
    const message = await sb.postMeta(text('Piszę z nowego numeru', 'new'));
    await sendEveryAck(sb);
    meanwhile.remove();

    // Assess: the new number's conversation is kept, its ack did not go
    expect([meanwhile.fired, message.status, status]).toEqual([true, 200, 200]);
    expect((await all()).map((c) => c.contact.key).sort()).toEqual([`phone:+${OLD}`, `phone:+${NEW}`]);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: `+${OLD}` })]);
  });
});
