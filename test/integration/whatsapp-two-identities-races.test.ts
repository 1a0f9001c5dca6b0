import { afterEach, describe, expect, it } from 'vitest';
import { beforeCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { whatsappUserText } from '#test/support/meta-factory.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// One WhatsApp customer under a number and a business-scoped user id (whatsapp-two-identities
// tests), when Meta delivers two of their first messages in parallel requests: one that names
// both the number and the BSUID (it links them), one that names the BSUID only.

let sequence = 0;

/** A WhatsApp Cloud text message from `bsuid`, with `number` beside it when given. */
function whatsappText(text: string, bsuid: string | undefined, number?: string) {
  sequence++;
  return whatsappUserText(
    text,
    { bsuid, number },
    `wamid.two-identities-race-${sequence}`,
    1763986400 + sequence,
  );
}

const NUMBER = '48601234567';
const BSUID = 'PL.13491208655302741918';

/**
 * Forces the window of a BSUID-only recording that writes a new wait after the link read its
 * conversation: once that recording has read the link (its contact's claim, none yet), the
 * linking message (number and BSUID) runs up to its message write (link written, the BSUID's
 * conversation read), and waits there until `first` (the rest of that recording) is done.
 */
function linkingInside(sb: TestSwitchboard, first: () => Promise<unknown>) {
  let linking: Promise<Response> | undefined;
  const { promise: linkingHeld, resolve: holdLinking } = Promise.withResolvers<void>();
  const heldLinking = beforeCall(
    sb.backends.dynamodb,
    { command: 'PutItemCommand', match: pkStartsWith('MSG#') },
    async () => {
      holdLinking();
      await first();
    },
  );
  const heldFirst = beforeCall(
    sb.backends.dynamodb,
    { command: 'UpdateItemCommand', match: pkStartsWith(`CONTACT#whatsapp:${BSUID}`) },
    async () => {
      linking = sb.postMeta(whatsappText('Dzień dobry, tu Ewa', BSUID, NUMBER));
      await linkingHeld;
    },
  );
  return {
    linking: () => linking,
    heldFirst,
    heldLinking,
    remove() {
      heldFirst.remove();
      heldLinking.remove();
    },
  };
}

describe('one WhatsApp customer writing under a number and a BSUID in parallel requests', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function openConversations() {
    const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 100 });
    return items;
  }

  it('should acknowledge each customer once, in one conversation, whichever of the two first webhooks runs ahead', async () => {
    // Prepare: customers who each send their first two messages at once, as two webhooks
    sb = await startTestSwitchboard();
    const customers = Array.from({ length: 24 }, (_, i) => ({
      number: `4860123${String(4000 + i)}`,
      bsuid: `PL.1349120865530274${String(1000 + i)}`,
    }));

    // Act: each pair of webhooks in parallel (in either order), then every ack job
    for (const [i, { number, bsuid }] of customers.entries()) {
      const linking = () => sb.postMeta(whatsappText('Dzień dobry, tu Ewa', bsuid, number));
      const bsuidOnly = () => sb.postMeta(whatsappText('Kiedy dostawa?', bsuid));
      const answers = await Promise.all(i % 2 === 0 ? [linking(), bsuidOnly()] : [bsuidOnly(), linking()]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
    }
    await sendEveryAck(sb);

    // Assess: per customer, the acks that went (to the number or the BSUID) and their conversations
    const outbox = await sb.outbox();
    const items = await openConversations();
    const outcome = customers.map(({ number, bsuid }) => ({
      acks: outbox.filter((m) => m.to === `+${number}` || m.to === bsuid).length,
      conversations: items.filter(
        (c) => c.contact.key === `phone:+${number}` || c.contact.key === `whatsapp:${bsuid}`,
      ).length,
    }));
    expect(outcome).toEqual(customers.map(() => ({ acks: 1, conversations: 1 })));
  });

  // The other order, forced: the BSUID-only message has claimed its conversation and looked for
  // the link (none yet) when the message with both keys links them; its conversation is written
  // only after that message was recorded and its ack job ran. Two conversations (the BSUID's came
  // first, as when it writes minutes earlier), one ack.
  it('should acknowledge once when the BSUID-only message claimed its conversation before the link and writes it after', async () => {
    // Prepare: the BSUID-only message is held before its message write, its claim made
    sb = await startTestSwitchboard();
    let linkingStatus = 0;
    const held = beforeCall(
      sb.backends.dynamodb,
      { command: 'PutItemCommand', match: pkStartsWith('MSG#') },
      async () => {
        linkingStatus = (await sb.postMeta(whatsappText('Dzień dobry, tu Ewa', BSUID, NUMBER))).status;
        await sb.drain();
      },
    );

    // Act
    const bsuidOnly = await sb.postMeta(whatsappText('Kiedy dostawa?', BSUID));
    await sendEveryAck(sb);

    // Assess
    expect([held.fired, bsuidOnly.status, linkingStatus]).toEqual([true, 200, 200]);
    expect((await sb.outbox()).map((m) => m.to)).toEqual([BSUID]);
    const byNumber = (await openConversations()).find((c) => c.contact.key === `phone:+${NUMBER}`);
    expect(byNumber?.ack).toMatchObject({ state: 'skipped', reason: 'recently-acknowledged' });
    held.remove();
  });

  // Found at stop 28 (left then): a BSUID-only message that joins the BSUID's existing
  // conversation did not read the link again. Forced here: it has read the link (none yet) and
  // found the conversation when the message with both keys links them, reads that conversation
  // (no ack queued there yet) and queues the number's ack; then it opens a new waiting episode
  // there with an ack of its own. Two acks for one wait.
  it.each([
    ["the number's ack already sent", true],
    ["the number's ack still queued", false],
  ])(
    'should acknowledge once when a BSUID-only message joining its conversation writes a new episode after the link read it (%s)',
    async (_, sentFirst) => {
      // Prepare: known by the BSUID alone, acknowledged there and answered; hours later they write again
      sb = await startTestSwitchboard();
      await sb.postMeta(whatsappText('Czy macie to w innym kolorze?', BSUID));
      await sb.drain();
      const [byBsuid] = await openConversations();
      sb.clock.advance(20 * 60_000);
      const reply = await sb.act(`/conversations/${byBsuid?.id}/replies`, { text: 'Tak, w czerwonym.' });
      sb.clock.advance(2 * 3_600_000);
      let linkingStatus = 0;
      const held = beforeCall(
        sb.backends.dynamodb,
        { command: 'PutItemCommand', match: pkStartsWith('MSG#') },
        async () => {
          linkingStatus = (await sb.postMeta(whatsappText('Dzień dobry, tu Ewa', BSUID, NUMBER))).status;
          if (sentFirst) await sb.drain();
        },
      );

      // Act: the BSUID-only message is held before its message write (link read, conversation found)
      const bsuidOnly = await sb.postMeta(whatsappText('Zamawiam czerwony, kiedy dostawa?', BSUID));
      await sendEveryAck(sb);

      // Assess: the first ack, the reply, and one ack for the new wait
      expect([reply.status, held.fired, bsuidOnly.status, linkingStatus]).toEqual([201, true, 200, 200]);
      const acks = (await sb.outbox()).filter((m) => m.automatic);
      expect(acks).toHaveLength(2);
      held.remove();
    },
  );

  // The same window when the number's conversation waits for nobody (answered): the linking
  // message opens a new episode there, written only after the BSUID-only message has found the
  // link and named that episode, and after that message's ack job ran.
  it("should acknowledge once when the linking message's new episode on the number's answered conversation is written last", async () => {
    // Prepare: the number (an older webhook, without BSUID) and the BSUID alone each had a
    // conversation, acknowledged and answered; hours later the customer writes twice at once
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Dzień dobry, mam pytanie o zamówienie', undefined, NUMBER));
    await sb.postMeta(whatsappText('Czy macie to w innym kolorze?', BSUID));
    await sb.drain();
    sb.clock.advance(20 * 60_000);
    const replies = await Promise.all(
      (await openConversations()).map((c) =>
        sb.act(`/conversations/${c.id}/replies`, { text: 'Już odpowiadam.' }),
      ),
    );
    sb.clock.advance(2 * 3_600_000);
    // The BSUID-only message, once it has read the link (none yet), lets the linking message run
    // up to its message write (link written, the BSUID's conversation read), then runs to its end
    // and its ack job runs; only then does the linking message go on.
    let bsuidOnly: Promise<Response> | undefined;
    const forced = linkingInside(sb, async () => {
      await bsuidOnly;
      await sb.drain();
    });
    // Act
    bsuidOnly = sb.postMeta(whatsappText('Zamawiam czerwony, kiedy dostawa?', BSUID));
    const statuses = [(await bsuidOnly).status, (await forced.linking())?.status];
    await sendEveryAck(sb);

    // Assess: the two first acks, and one for the new wait
    expect([
      replies.map((r) => r.status),
      forced.heldFirst.fired,
      forced.heldLinking.fired,
      statuses,
    ]).toEqual([[201, 201], true, true, [200, 200]]);
    expect((await sb.outbox()).filter((m) => m.automatic)).toHaveLength(3);
    forced.remove();
  });

  // The same window for a BSUID-only message whose webhook the store could not take: the worker
  // records it later, its ack held (LATE_ACK_HOLD_MS), never queued by its recording.
  it('should acknowledge once when the worker records the BSUID-only message late and writes its new episode after the link read it', async () => {
    // Prepare: known by the BSUID alone, acknowledged and answered; hours later the BSUID-only
    // message's webhook fails at its message write (queued for the worker)
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Czy macie to w innym kolorze?', BSUID));
    await sb.drain();
    const [byBsuid] = await openConversations();
    sb.clock.advance(20 * 60_000);
    const reply = await sb.act(`/conversations/${byBsuid?.id}/replies`, { text: 'Tak, w czerwonym.' });
    sb.clock.advance(2 * 3_600_000);
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });
    const bsuidOnly = await sb.postMeta(whatsappText('Zamawiam czerwony, kiedy dostawa?', BSUID));
    fault.remove();
    // The worker's recording, once it has read the link (none yet), lets the linking message run
    // up to its message write, then records to its end; only then does the linking message go on.
    let recording: Promise<number> | undefined;
    const forced = linkingInside(sb, async () => {
      await recording;
    });
    // Act
    recording = sb.drain();
    await recording;
    const linkingStatus = (await forced.linking())?.status;
    await sendEveryAck(sb);

    // Assess: the first ack, the reply, and one ack for the new wait
    expect([
      reply.status,
      fault.fired,
      bsuidOnly.status,
      forced.heldFirst.fired,
      forced.heldLinking.fired,
    ]).toEqual([201, 1, 200, true, true]);
    expect(linkingStatus).toBe(200);
    expect((await sb.outbox()).filter((m) => m.automatic)).toHaveLength(2);
    forced.remove();
  });

  it('should acknowledge at the number when the BSUID-only message claimed a conversation, failed, and was recorded on the linked one', async () => {
    // Prepare: the BSUID-only message fails after its claim (the store refuses its message
    // write); its webhook queues it for the worker
    sb = await startTestSwitchboard();
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });
    const bsuidOnly = await sb.postMeta(whatsappText('Kiedy dostawa?', BSUID));

    // Act: the message with both keys links them (the claim is still there, never written);
    // then the worker records the queued one, and every ack job runs
    const linking = await sb.postMeta(whatsappText('Dzień dobry, tu Ewa', BSUID, NUMBER));
    await sendEveryAck(sb);

    // Assess: one conversation, the number's, with both messages; acknowledged once, there
    expect([fault.fired, bsuidOnly.status, linking.status]).toEqual([1, 200, 200]);
    const [only, ...others] = await openConversations();
    expect(others).toEqual([]);
    expect(only?.contact.key).toBe(`phone:+${NUMBER}`);
    expect((await sb.outbox()).map((m) => m.to)).toEqual([`+${NUMBER}`]);
    fault.remove();
  });
});
