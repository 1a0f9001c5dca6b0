import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { type FakeMeta, GRAPH_FAILURES, startFakeMeta } from '#test/support/fake-meta.ts';
import { countCalls, injectFault, returnItemOnFailedCondition } from '#test/support/faults.ts';
import { whatsappAppEchoEnvelope, whatsappEnvelope, whatsappUserText } from '#test/support/meta-factory.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Meta's "Business-scoped user IDs" page: every messages webhook carries the user's BSUID
// (`from_user_id`, `contacts[].user_id`); a user with a username whose number the business has
// not exchanged messages with in 30 days (nor has in its contact book) comes with the BSUID
// only. Until stop 27 such a message went to a contact of its own (`whatsapp:<BSUID>`) even
// when an earlier webhook had carried that BSUID beside the person's number.

const NUMBER = '48601234567';
const BSUID = 'PL.13491208655302741918';
let sequence = 0;

/** One WhatsApp Cloud text message, with the number and the BSUID, or the BSUID only. */
function whatsappText(text: string, who: { number?: string; bsuid?: string } = {}) {
  const number = 'number' in who ? who.number : NUMBER;
  sequence++;
  return whatsappUserText(
    text,
    { bsuid: 'bsuid' in who ? who.bsuid : BSUID, number },
    `wamid.two-identities-${sequence}`,
    1763986400 + sequence,
  );
}

const bsuidOnly = (text: string) => whatsappText(text, { number: undefined });

/** Meta's system message that the user's BSUID changed from BSUID to `renewed` (no number). */
const bsuidChanged = (renewed: string, id: string) =>
  whatsappEnvelope({
    messages: [
      {
        id,
        timestamp: '1763986500',
        type: 'system',
        system: { type: 'user_changed_user_id', previous_user_id: BSUID, user_id: renewed },
      },
    ],
  });

/** Meta's system message that the user changed their number (from NUMBER) to `number`, with a new BSUID. */
const numberChanged = (number: string, renewed: string) =>
  whatsappEnvelope({
    messages: [
      {
        from: NUMBER,
        id: `wamid.user-changed-number-${renewed}`,
        timestamp: '1763986500',
        type: 'system',
        system: {
          body: `User Ewa Kowalska changed from ${NUMBER} to ${number}`,
          wa_id: number,
          type: 'user_changed_number',
          previous_user_id: BSUID,
          user_id: renewed,
        },
      },
    ],
  });

type ApiConversation = {
  id: string;
  status: string;
  contact: { key: string };
  ack: { state: string; reason?: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  const page = await sb.api('/api/conversations?limit=100');
  const resolved = await sb.api('/api/conversations?limit=100&status=resolved');
  return [
    ...((await page.json()) as { items: ApiConversation[] }).items,
    ...((await resolved.json()) as { items: ApiConversation[] }).items,
  ];
}

describe('one WhatsApp customer under a number and a business-scoped user id', () => {
  let sb: TestSwitchboard;
  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb.stop();
    await graph?.close();
    graph = undefined;
  });

  it('should add a message with only the BSUID to the conversation the number opened: one conversation, one ack, answers to the number', async () => {
    // Prepare: the customer writes with their number (and BSUID) and is acknowledged
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Dzień dobry, kiedy dostawa?'));
    await sb.drain();

    // Act: having adopted a username, they write again with their BSUID only
    const response = await sb.postMeta(bsuidOnly('Halo? Czekam na odpowiedź'));
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const all = await conversations(sb);
    expect(all.map((c) => c.contact.key)).toEqual(['phone:+48601234567']);
    const messages = await sb.runtime.store.listMessages(all[0]?.id as string, { limit: 10 });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ channel: 'whatsapp', to: '+48601234567' })]);
    expect(await sb.runtime.store.getContact(`whatsapp:${BSUID}`)).toBeNull();
  });

  it('should hold a STOP said with the number against a later message with only the BSUID, and a STOP said with only the BSUID against the number', async () => {
    // Prepare: one customer says STOP with their number; another is acknowledged at theirs
    sb = await startTestSwitchboard();
    const other = { number: '48601234568', bsuid: 'PL.13491208655302741919' };
    await sb.postMeta(whatsappText('STOP'));
    await sb.postMeta(whatsappText('Gdzie moja paczka?', other));
    await sb.drain();
    const before = (await sb.outbox()).length;

    // Act: the first writes with only the BSUID; the second says STOP with only the BSUID
    await sb.postMeta(bsuidOnly('Jednak mam pytanie'));
    await sb.postMeta(whatsappText('STOP', { bsuid: other.bsuid, number: undefined }));
    await sb.drain();

    // Assess: no ack to either of them after their STOP; both numbers opted out
    expect(before).toBe(1);
    expect(await sb.outbox()).toHaveLength(1);
    expect((await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut).toBe(true);
    expect((await sb.runtime.store.getContact('phone:+48601234568'))?.optedOut).toBe(true);
  });

  it('should write the link once: a later message with number and BSUID does no extra read or write, one with only the BSUID one read', async () => {
    // Prepare: the link is written by the first message
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Pierwsza wiadomość'));
    await sb.drain();
    const aliasKey = (input: Record<string, unknown>) =>
      JSON.stringify(input.Key ?? input.Item ?? {}).includes('ALIAS#');
    const aliasWrites = countCalls(sb.backends.dynamodb, 'UpdateItemCommand', aliasKey);
    const aliasPuts = countCalls(sb.backends.dynamodb, 'PutItemCommand', aliasKey);
    const aliasReads = countCalls(sb.backends.dynamodb, 'GetItemCommand', aliasKey);
    // (A contact read of the number follows a claim that found a conversation open: dynalite
    // returns no item on a failed condition. The BSUID's contact is never read.)
    const contactReads = countCalls(sb.backends.dynamodb, 'GetItemCommand', (input) =>
      JSON.stringify(input.Key ?? {}).includes('CONTACT#whatsapp:'),
    );

    // Act
    await sb.postMeta(whatsappText('Druga wiadomość, z numerem'));
    const withNumber = {
      writes: aliasWrites.count + aliasPuts.count,
      reads: aliasReads.count + contactReads.count,
    };
    await sb.postMeta(bsuidOnly('Trzecia, bez numeru'));

    // Assess
    expect(withNumber).toEqual({ writes: 0, reads: 0 });
    expect(aliasReads.count).toBe(1);
    expect(aliasWrites.count + aliasPuts.count).toBe(0);
    for (const counter of [aliasWrites, aliasPuts, aliasReads, contactReads]) counter.remove();
  });

  // Stop 29: what closing the link's last window costs a user known by their BSUID alone.
  it('should read the link of an unlinked BSUID once per message, and once more only after writing a new waiting episode', async () => {
    // Prepare: known by the BSUID alone, acknowledged and answered
    sb = await startTestSwitchboard();
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    await sb.drain();
    sb.clock.advance(20 * 60_000);
    const [conversation] = await conversations(sb);
    await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Tak, w czerwonym.' });
    sb.clock.advance(2 * 3_600_000);
    const aliasReads = countCalls(sb.backends.dynamodb, 'GetItemCommand', (input) =>
      JSON.stringify(input.Key ?? {}).includes('ALIAS#'),
    );

    // Act: a message that opens a new waiting episode, then one that joins it
    await sb.postMeta(bsuidOnly('Zamawiam czerwony'));
    const opening = aliasReads.count;
    await sb.postMeta(bsuidOnly('Kiedy dostawa?'));

    // Assess
    expect([opening, aliasReads.count - opening]).toEqual([2, 1]);
    aliasReads.remove();
  });

  it('should link within one webhook: a message with the number, then one with only the BSUID, are one conversation', async () => {
    // Prepare: one webhook with both messages, as Meta batches them
    sb = await startTestSwitchboard();
    const [withNumber, withBsuid] = [whatsappText('Dzień dobry'), bsuidOnly('Kiedy dostawa?')].map(
      (body) =>
        (body.entry as Array<{ changes: Array<{ value: { messages: unknown[]; contacts: unknown[] } }> }>)[0]
          ?.changes[0]?.value,
    );
    const batch = whatsappEnvelope({
      contacts: [...(withNumber?.contacts ?? []), ...(withBsuid?.contacts ?? [])],
      messages: [...(withNumber?.messages ?? []), ...(withBsuid?.messages ?? [])],
    });

    // Act
    const response = await sb.postMeta(batch);
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['phone:+48601234567']);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should keep a BSUID-only conversation opened before the link apart until it ends, without a second ack when the number appears', async () => {
    // Prepare: the customer writes with their BSUID only and is acknowledged there
    sb = await startTestSwitchboard();
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    await sb.drain();
    const [first] = await conversations(sb);

    // Act: minutes later Meta shares their number (and the BSUID beside it), then they write
    // with the BSUID only again
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));
    await sb.postMeta(bsuidOnly('I jeszcze jedno'));
    await sb.drain();

    // Assess: the BSUID conversation stays as it was (open, its ack sent); the number's
    // conversation holds both later messages and was not acknowledged again so soon
    const all = await conversations(sb);
    expect(all).toHaveLength(2);
    const byNumber = all.find((c) => c.contact.key === 'phone:+48601234567');
    expect(all.find((c) => c.id === first?.id)).toMatchObject({ status: 'open', ack: { state: 'sent' } });
    expect(byNumber?.ack).toMatchObject({ state: 'skipped', reason: 'recently-acknowledged' });
    const later = await sb.runtime.store.listMessages(byNumber?.id as string, { limit: 10 });
    expect(later.map((m) => m.text).sort()).toEqual(['I jeszcze jedno', 'Podaję numer, proszę o telefon']);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: BSUID })]);
  });

  // Found at stop 27's review: a STOP was written to both keys' contacts, but a conversation the
  // BSUID opened before the link (kept apart, still open) reads consent from itself: its late
  // notice still went to the person who had said STOP.
  it('should send no late notice on a BSUID conversation opened before the link once the person says STOP', async () => {
    // Prepare: acknowledged at the BSUID; minutes later the number appears beside it (the link)
    sb = await startTestSwitchboard();
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    await sb.drain();
    const [first] = await conversations(sb);
    const byBsuid = await sb.runtime.store.getConversation(first?.id as string);
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));
    await sb.drain();

    // Act: they say STOP (with their BSUID only); later, when a notice would be due there
    await sb.postMeta(bsuidOnly('STOP'));
    await sb.drain();
    sb.clock.set(new Date(Date.parse(byBsuid?.replyBy as string) - 29 * 60_000));
    const due = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: nothing after the STOP; only the first ack ever went out
    expect(due.notices).toBe(0);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: BSUID })]);
    expect((await sb.runtime.store.getConversation(first?.id as string))?.optedOut).toBe(true);
  });

  // Found at stop 27's review: an echo of a reply a person wrote in the WhatsApp Business app
  // names the user as a message does (`to_user_id` beside or instead of `to`). One to a linked
  // user's BSUID alone looked for a contact `whatsapp:<BSUID>`, which the link means never
  // exists: the reply was not recorded, the customer stayed waiting, and a late notice followed.
  it("should record a reply from the WhatsApp Business app to the BSUID alone on the number's conversation", async () => {
    // Prepare: the customer wrote with their number, then with their BSUID only; acknowledged once
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Dzień dobry, kiedy dostawa?'));
    await sb.postMeta(bsuidOnly('Halo?'));
    await sb.drain();
    sb.clock.advance(20 * 60_000);

    // Act: a person answers from the app; Meta's echo names the user by their BSUID only
    const response = await sb.postMeta(
      whatsappAppEchoEnvelope({
        id: 'wamid.app-reply-to-bsuid',
        to: null,
        to_user_id: BSUID,
        sentAt: sb.clock.now().getTime(),
      }),
    );

    // Assess: recorded as the answer on the one conversation
    expect(response.status).toBe(200);
    const [only, ...others] = await conversations(sb);
    expect(others).toEqual([]);
    const messages = await sb.runtime.store.listMessages(only?.id as string, { limit: 10 });
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual([
      'inbound:message',
      'inbound:message',
      'outbound:ack',
      'outbound:reply',
    ]);
  });

  // Meta's WhatsApp changelog (Aug 11, 2026) and its "System messages webhook reference": when a
  // user's BSUID changes Meta sends a `messages` system message, `system.type`
  // `user_changed_user_id`, with `system.previous_user_id` and the new `system.user_id`, and no
  // phone number; a changed number (`user_changed_number`, the new number in `system.wa_id`)
  // regenerates the BSUID and carries both ids too. Both were ignored: the person's next message
  // under the new BSUID alone opened a contact, a conversation and an ack of its own.
  it('should follow a changed BSUID (user_changed_user_id) to the contact the old one led to', async () => {
    // Prepare: the customer wrote with their number and BSUID, and was acknowledged
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Dzień dobry, kiedy dostawa?'));
    await sb.drain();
    const renewed = 'PL.99991208655302741918';

    // Act: Meta reports a new BSUID, then the customer writes with it alone
    const change = await sb.postMeta(
      whatsappEnvelope({
        messages: [
          {
            id: 'wamid.user-changed-user-id',
            timestamp: '1763986500',
            type: 'system',
            system: {
              body: 'User Ewa Kowalska changed their business-scoped user ID',
              type: 'user_changed_user_id',
              previous_user_id: BSUID,
              user_id: renewed,
            },
          },
        ],
      }),
    );
    await sb.postMeta(whatsappText('Nadal czekam', { number: undefined, bsuid: renewed }));
    await sb.drain();

    // Assess: one conversation, one ack, and nothing for the new BSUID on its own
    expect(change.status).toBe(200);
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['phone:+48601234567']);
    expect(await sb.outbox()).toHaveLength(1);
  });

  // Found at stop 27's review: after user_changed_user_id the new BSUID leads to the old BSUID's
  // contact; when the number later appeared beside the new BSUID, the link took over what the new
  // BSUID's own contact knew (nothing) rather than the contact it led to: the STOP said there was
  // forgotten, and the person was acknowledged at their number.
  it('should hold a STOP said under a BSUID that later changed when the number appears beside the new one', async () => {
    // Prepare: a user known by their BSUID only says STOP; Meta then reports a new BSUID
    sb = await startTestSwitchboard();
    await sb.postMeta(bsuidOnly('STOP'));
    const renewed = 'PL.77771208655302741918';
    await sb.postMeta(bsuidChanged(renewed, 'wamid.user-changed-user-id-stop'));
    await sb.drain();

    // Act: weeks later they write with their number beside the new BSUID
    sb.clock.advance(14 * 24 * 3_600_000);
    await sb.postMeta(whatsappText('Mam pytanie o zamówienie', { bsuid: renewed }));
    await sb.drain();

    // Assess: still opted out; nothing sent to them
    expect((await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut).toBe(true);
    expect(await sb.outbox()).toEqual([]);
  });

  it('should link the BSUID a number change (user_changed_number) gives to the new number', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const renewed = 'PL.88881208655302741918';

    // Act: Meta reports the new number and BSUID; the customer writes with the new BSUID alone
    await sb.postMeta(
      whatsappEnvelope({
        messages: [
          {
            from: NUMBER,
            id: 'wamid.user-changed-number',
            timestamp: '1763986500',
            type: 'system',
            system: {
              body: 'User Ewa Kowalska changed from 48601234567 to 48601234999',
              wa_id: '48601234999',
              type: 'user_changed_number',
              previous_user_id: BSUID,
              user_id: renewed,
            },
          },
        ],
      }),
    );
    await sb.postMeta(whatsappText('Mam nowy numer', { number: undefined, bsuid: renewed }));
    await sb.drain();

    // Assess: recorded under the new number, answered there
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['phone:+48601234999']);
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: '+48601234999' })]);
  });

  // Meta's "System messages webhook reference" (Aug 11, 2026): `user_changed_number` means "the
  // user changed their phone number and the new number can be shared with you"; `from` is the
  // number they had, `system.wa_id` the new one (`body`: "User … changed from <old> to <new>"),
  // beside the new BSUID and the previous one. Found at stop 29: the new BSUID was linked to the
  // new number, but a conversation open at the old number kept it as its route: its ack and an
  // agent's reply went to a number the customer had left.
  it('should send the ack and a reply of a conversation open at the old number to the new one after user_changed_number', async () => {
    // Prepare: the customer writes with their number and BSUID; before their ack goes, Meta
    // reports a new number
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(whatsappText('Dzień dobry, kiedy dostawa?'));
    const change = await sb.postMeta(numberChanged('48601234999', 'PL.44441208655302741918'));

    // Act: the ack goes; later an agent answers
    await sb.drain();
    sb.clock.advance(20 * 60_000);
    const [conversation] = await conversations(sb);
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, {
      text: 'Dostawa jutro przed 12:00.',
    });

    // Assess: both went to the new number; the conversation stays the old number's
    expect([change.status, reply.status]).toEqual([200, 201]);
    expect(conversation?.contact.key).toBe('phone:+48601234567');
    expect(graph.taken.map((t) => t.body.to ?? t.body.recipient)).toEqual(['48601234999', '48601234999']);
  });

  it('should answer a conversation the old BSUID opened alone at the new number after user_changed_number', async () => {
    // Prepare: a user known by their BSUID alone writes; before their ack goes, Meta reports
    // their number changed (and shares the new one)
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    await sb.postMeta(numberChanged('48601234999', 'PL.33331208655302741918'));

    // Act
    await sb.drain();

    // Assess: the ack went to the new number, not to a BSUID Meta has replaced
    expect(graph.taken.map((t) => t.body.to ?? t.body.recipient)).toEqual(['48601234999']);
  });

  // Found at stop 28: the link carried over only an ack already sent. A BSUID-only message whose
  // ack was still queued when, seconds later, the number appeared beside the BSUID left the
  // number's new conversation free to be acknowledged too: two acks for one wait.
  it("should not acknowledge the number's conversation when the BSUID's ack was still queued at the link", async () => {
    // Prepare: the customer writes with their BSUID only; its ack is queued, not sent yet
    sb = await startTestSwitchboard();
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));

    // Act: 20 s later Meta shares their number beside the BSUID; then every ack job runs
    sb.clock.advance(20_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));
    await sendEveryAck(sb);

    // Assess: one ack, at the BSUID; the number's conversation was not acknowledged again
    expect(await sb.outbox()).toEqual([expect.objectContaining({ to: BSUID })]);
    const byNumber = (await conversations(sb)).find((c) => c.contact.key === 'phone:+48601234567');
    expect(byNumber?.ack).toMatchObject({ state: 'skipped', reason: 'recently-acknowledged' });
  });

  // Found at stop 28 (left then): the number's own conversation already waited with its ack
  // queued when the BSUID-only message opened another; the message naming both joined the
  // number's episode without a new ack, so nothing tied the two queued acks: two acks.
  it("should send one ack when the number's conversation and the BSUID's both wait with their acks queued at the link", async () => {
    // Prepare: the customer writes with their number only (an older webhook, before Meta added
    // BSUIDs), then with their BSUID only: two conversations, two acks queued, none sent
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappText('Dzień dobry, mam pytanie o zamówienie', { bsuid: undefined }));
    sb.clock.advance(20_000);
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));

    // Act: 20 s later a message names both; then every ack job runs
    sb.clock.advance(20_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));
    await sendEveryAck(sb);

    // Assess: two conversations, one ack reached the customer
    expect((await conversations(sb)).map((c) => c.contact.key).sort()).toEqual([
      'phone:+48601234567',
      `whatsapp:${BSUID}`,
    ]);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it("should acknowledge the number's conversation after all when the BSUID's queued ack is refused", async () => {
    // Prepare: sending through the Graph API; the BSUID's ack will be refused for good
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    sb.clock.advance(20_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));

    // Act: the BSUID's ack goes first and is refused (the user is not reachable there)
    graph.failNext(1, GRAPH_FAILURES.undeliverable);
    await sendEveryAck(sb);

    // Assess: the customer got one ack, at their number
    expect(graph.taken.map((t) => t.body.to ?? t.body.recipient)).toEqual(['48601234567']);
  });

  it("should hold the number's ack while the BSUID's queued ack backs off, and skip it once that one went", async () => {
    // Prepare: sending through the Graph API, which throttles the next send
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    sb.clock.advance(20_000);
    await sb.postMeta(whatsappText('Podaję numer, proszę o telefon'));

    // Act: the BSUID's ack is throttled on its first try (every retry within the call too)
    graph.failNext(3, { ...GRAPH_FAILURES.throughput, retryAfter: '0' });
    await sendEveryAck(sb);

    // Assess: one ack reached the customer, at the BSUID, after its backoff
    expect(graph.taken.map((t) => t.body.to ?? t.body.recipient)).toEqual([BSUID]);
    const byNumber = (await conversations(sb)).find((c) => c.contact.key === 'phone:+48601234567');
    expect(byNumber?.ack).toMatchObject({ state: 'skipped', reason: 'recently-acknowledged' });
  });

  // Stop 28 writes the link before reading the other key's contact (so that a BSUID-only message
  // in flight finds it), no longer after the message is applied: a retry after a crash in between
  // finds the link already there, and must still know where the key led before it.
  it.each([
    ['dynalite', false],
    ['DynamoDB, which returns the item on a failed condition', true],
  ])(
    'should hold a STOP said under a changed BSUID when the link is retried after a crash (%s)',
    async (_, allOld) => {
      // Prepare: the BSUID-only user said STOP; Meta then reported a new BSUID
      sb = await startTestSwitchboard();
      await sb.postMeta(bsuidOnly('STOP'));
      const renewed = 'PL.66661208655302741918';
      await sb.postMeta(bsuidChanged(renewed, 'wamid.user-changed-user-id-crash'));
      await sb.drain();
      const reader = new DynamoDBClient({
        region: 'eu-central-1',
        endpoint: sb.backends.dynamoDbEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const undo = allOld ? returnItemOnFailedCondition(sb.backends.dynamodb, reader) : () => {};
      // The first try of the linking message dies right after the link's write
      const crash = injectFault(sb.backends.dynamodb, {
        command: 'UpdateItemCommand',
        when: 'after',
        match: (input) => JSON.stringify(input.Key ?? {}).includes(`ALIAS#whatsapp:${renewed}`),
      });

      // Act: they write with their number beside the new BSUID; the webhook's job is retried
      sb.clock.advance(14 * 24 * 3_600_000);
      const response = await sb.postMeta(whatsappText('Mam pytanie o zamówienie', { bsuid: renewed }));
      await sendEveryAck(sb);
      undo();
      reader.destroy();

      // Assess: still opted out; nothing sent to them
      expect([crash.fired, response.status]).toEqual([1, 200]);
      expect((await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut).toBe(true);
      expect(await sb.outbox()).toEqual([]);
    },
  );

  // Found at stop 28: user_changed_user_id linked the new BSUID to the contact, but a conversation
  // already open kept the old BSUID as its route: its ack, and an agent's reply, went to an id
  // that no longer reaches the person.
  it('should send the ack and a reply of a conversation open at a changed BSUID to the new BSUID', async () => {
    // Prepare: a user known by their BSUID alone writes; before their ack goes, Meta reports a new BSUID
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    const renewed = 'PL.55551208655302741918';
    await sb.postMeta(bsuidOnly('Czy macie to w innym kolorze?'));
    await sb.postMeta(bsuidChanged(renewed, 'wamid.user-changed-user-id-route'));

    // Act: the ack goes; later an agent answers
    await sb.drain();
    sb.clock.advance(20 * 60_000);
    const [conversation] = await conversations(sb);
    const reply = await sb.act(`/conversations/${conversation?.id}/replies`, {
      text: 'Tak, mamy też czerwony.',
    });

    // Assess: both went to the new BSUID
    expect(reply.status).toBe(201);
    expect(graph.taken.map((t) => t.body.recipient ?? t.body.to)).toEqual([renewed, renewed]);
  });
});
