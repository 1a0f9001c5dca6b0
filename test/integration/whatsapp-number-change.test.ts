import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { whatsappUserText } from '#test/support/meta-factory.ts';
import { NEW, numberChange, OLD, OLD_BSUID } from '#test/support/number-change.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Meta's "System messages webhook reference" (Aug 11, 2026): `user_changed_number` says "the user
// changed their phone number and the new number can be shared with you": `from` is the number
// they had, `system.wa_id` the new one, beside a new BSUID (`user_id`) and the one it replaced
// (`previous_user_id`). Until stop 30 the new BSUID was linked to the new number's contact and
// a conversation open at the old number was answered at the new one, but nothing reached the new
// number's contact: the customer's next message from it opened a second conversation with a
// second ack for the same wait, and a STOP said at the old number no longer held.

const { text, numberChanged } = numberChange();

/** A write to the new number's contact item. */
const newContact = (input: Record<string, unknown>) => pkStartsWith(`CONTACT#phone:+${NEW}`)(input);

type ApiConversation = {
  id: string;
  status: string;
  contact: { key: string };
  ack: { state: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  const lists = await Promise.all(
    ['open', 'resolved'].map((status) => sb.api(`/api/conversations?limit=100&status=${status}`)),
  );
  const pages = await Promise.all(lists.map((list) => list.json() as Promise<{ items: ApiConversation[] }>));
  return pages.flatMap((page) => page.items);
}

describe('a WhatsApp customer who changes their number (user_changed_number)', () => {
  let sb: TestSwitchboard;
  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb.stop();
    await graph?.close();
    graph = undefined;
  });

  it("should add the new number's next message to the conversation open at the old one: one conversation, one ack, the reply at the new number", async () => {
    // Prepare: the customer writes from their number and is acknowledged; then they change it
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    const change = await sb.postMeta(numberChanged());

    // Act: minutes later they write from the new number; an agent then answers
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(text('Zmieniłam numer, nadal czekam na odpowiedź', 'new'));
    await sb.drain();
    const all = await conversations(sb);
    const reply = await sb.act(`/conversations/${all[0]?.id}/replies`, {
      text: 'Dostawa jutro przed 12:00.',
    });

    // Assess
    expect([change.status, reply.status]).toEqual([200, 201]);
    expect(all).toHaveLength(1);
    const messages = await sb.runtime.store.listMessages(all[0]?.id as string, { limit: 10 });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    expect(graph.taken.map((t) => t.body.to)).toEqual([OLD, NEW]);
    expect((await sb.runtime.store.getContact(`phone:+${NEW}`))?.openConversationId).toBe(all[0]?.id);
  });

  it("should add the new number's next message to the conversation a customer known by their BSUID alone had open", async () => {
    // Prepare: a user with a username writes with their BSUID only and is acknowledged there;
    // then they change their number, which Meta shares with the new BSUID
    sb = await startTestSwitchboard();
    await sb.postMeta(
      whatsappUserText('Czy macie to w innym kolorze?', { bsuid: OLD_BSUID }, 'wamid.bsuid-only', 1763986401),
    );
    await sb.drain();

    // Act
    await sb.postMeta(numberChanged());
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(text('Piszę już z numeru', 'new'));
    await sb.drain();

    // Assess: one conversation (the BSUID's), one ack
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual([`whatsapp:${OLD_BSUID}`]);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: OLD_BSUID })]);
  });

  it('should hold a STOP said at the old number at the new one, and let a START there lift it', async () => {
    // Prepare: the customer said STOP at their old number, then changed it
    sb = await startTestSwitchboard();
    await sb.postMeta(text('STOP', 'old'));
    await sb.postMeta(numberChanged());
    await sb.drain();

    // Act: days later a question from the new number; then START, and another question
    sb.clock.advance(3 * 24 * 3_600_000);
    await sb.postMeta(text('Mam pytanie o zamówienie', 'new'));
    await sb.drain();
    const afterStop = (await sb.outbox()).length;
    const stopped = (await sb.runtime.store.getContact(`phone:+${NEW}`))?.optedOut;
    sb.clock.advance(60_000);
    await sb.postMeta(text('START', 'new'));
    sb.clock.advance(60_000);
    await sb.postMeta(text('Gdzie jest moja paczka?', 'new'));
    await sb.drain();

    // Assess: nothing while opted out; acknowledged at the new number once back in
    expect([afterStop, stopped]).toEqual([0, true]);
    expect((await sb.runtime.store.getContact(`phone:+${NEW}`))?.optedOut).toBe(false);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: `+${NEW}` })]);
  });

  it('should keep a START said at the new number when the same system message comes again', async () => {
    // Prepare: STOP at the old number, the change, START at the new one
    sb = await startTestSwitchboard();
    await sb.postMeta(text('STOP', 'old'));
    await sb.postMeta(numberChanged());
    sb.clock.advance(60_000);
    await sb.postMeta(text('START', 'new'));
    await sb.drain();

    // Act: Meta delivers the system message again; then a question from the new number
    const again = await sb.postMeta(numberChanged());
    sb.clock.advance(60_000);
    await sb.postMeta(text('Mam pytanie o zamówienie', 'new'));
    await sb.drain();

    // Assess
    expect(again.status).toBe(200);
    expect((await sb.runtime.store.getContact(`phone:+${NEW}`))?.optedOut).toBe(false);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: `+${NEW}` })]);
  });

  it('should not acknowledge again a message from the new number that came before the system message, while the old wait goes on', async () => {
    // Prepare: acknowledged at the old number; the first message from the new number is
    // delivered before Meta's system message (its ack queued, not sent yet)
    sb = await startTestSwitchboard();
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    sb.clock.advance(3 * 3_600_000);
    await sb.postMeta(text('Piszę z nowego numeru', 'new'));

    // Act
    await sb.postMeta(numberChanged());
    await sendEveryAck(sb);

    // Assess: the new number's own conversation is kept (not merged), but its ack did not go
    const all = await conversations(sb);
    expect(all.map((c) => c.contact.key).sort()).toEqual([`phone:+${OLD}`, `phone:+${NEW}`]);
    expect(all.find((c) => c.contact.key === `phone:+${NEW}`)?.ack?.state).toBe('skipped');
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: `+${OLD}` })]);
  });

  it("should hold a STOP said at the old number against the new number's own conversation opened before the system message", async () => {
    // Prepare: STOP at the old number; the first message from the new number is delivered
    // before Meta's system message (its ack queued, not sent yet)
    sb = await startTestSwitchboard();
    await sb.postMeta(text('STOP', 'old'));
    await sb.drain();
    sb.clock.advance(3_600_000);
    await sb.postMeta(text('Mam pytanie o zamówienie', 'new'));

    // Act
    await sb.postMeta(numberChanged());
    await sendEveryAck(sb);

    // Assess: nothing sent; the new number's conversation heard the STOP
    expect(await sb.outbox()).toEqual([]);
    const own = (await conversations(sb)).find((c) => c.contact.key === `phone:+${NEW}`);
    expect(own?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
  });

  it('should hand the old wait to a new number whose contact still names a conversation of its own that was resolved', async () => {
    // Prepare: weeks ago someone wrote from the new number (no BSUID then) and was answered;
    // the resolve's release of that contact's pointer died. Today the customer writes from
    // their old number, is acknowledged, and changes to that number.
    sb = await startTestSwitchboard();
    await sb.postMeta(
      whatsappUserText('Czy jesteście otwarci?', { number: NEW }, 'wamid.number-change-history', 1761386400),
    );
    await sb.drain();
    const [history] = await conversations(sb);
    const release = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: (input) =>
        newContact(input) && String(input.UpdateExpression).includes('openConversationId = :null'),
    });
    await sb.act(`/conversations/${history?.id}/resolve`, {});
    release.remove();
    sb.clock.advance(21 * 24 * 3_600_000);
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();

    // Act: the change, then a message from the new number
    await sb.postMeta(numberChanged());
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(text('Nadal czekam', 'new'));
    await sb.drain();

    // Assess: the old wait's conversation holds it; two acks in all, one per wait
    expect(release.fired).toBe(1);
    const open = (await conversations(sb)).filter((c) => c.status === 'open');
    expect(open.map((c) => c.contact.key)).toEqual([`phone:+${OLD}`]);
    const messages = await sb.runtime.store.listMessages(open[0]?.id as string, { limit: 10 });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    expect(await sb.outbox()).toHaveLength(2);
  });

  it.each([
    ['none of its own', null, 'en'],
    ['its own', 'Dzień dobry, czy jesteście dziś otwarci do wieczora?', 'pl'],
  ])(
    "should give the new number's contact the customer's name and language where it knows %s",
    async (_, earlier, language) => {
      // Prepare: maybe someone wrote from the new number before, in Polish (no BSUID then, no
      // name); today the customer writes in English from their old number
      sb = await startTestSwitchboard();
      if (earlier) {
        const body = whatsappUserText(earlier, { number: NEW }, 'wamid.number-change-earlier', 1761386400);
        const value = (body.entry as Array<{ changes: Array<{ value: { contacts: unknown[] } }> }>)[0]
          ?.changes[0]?.value;
        if (value) value.contacts = [];
        await sb.postMeta(body);
      }
      await sb.postMeta(text('Hello, when will my order arrive? I have been waiting for a week.', 'old'));
      await sb.drain();

      // Act
      await sb.postMeta(numberChanged());

      // Assess
      expect(await sb.runtime.store.getContact(`phone:+${NEW}`)).toMatchObject({
        name: 'Ewa Kowalska',
        locale: language,
        channels: ['whatsapp'],
      });
    },
  );

  // A crash between two of the change's writes: the webhook goes to the worker, whose recording
  // of it again finishes what the first left (each write repeatable).
  it.each([
    ['the link', pkStartsWith('ALIAS#whatsapp:')],
    ["the new number's contact", newContact],
    [
      "the new number's pointer",
      (input: Record<string, unknown>) =>
        newContact(input) && String(input.UpdateExpression).includes('claimToken'),
    ],
  ])('should finish a number change whose recording died right after writing %s', async (_, match) => {
    // Prepare: acknowledged at the old number; the system message's recording dies once
    sb = await startTestSwitchboard();
    await sb.postMeta(text('Dzień dobry, kiedy dostawa?', 'old'));
    await sb.drain();
    const crash = injectFault(sb.backends.dynamodb, { command: 'UpdateItemCommand', when: 'after', match });

    // Act: the worker records the webhook again; then the customer writes from the new number
    await sb.postMeta(numberChanged());
    await sb.drain();
    crash.remove();
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(text('Nadal czekam', 'new'));
    await sb.drain();

    // Assess: one conversation, one ack
    expect(crash.fired).toBe(1);
    expect(await conversations(sb)).toHaveLength(1);
    expect(await sb.outbox()).toHaveLength(1);
  });
});
