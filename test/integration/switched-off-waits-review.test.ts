import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { FAKE_WHATSAPP_TOKEN, type FakeMeta, graphSends, startFakeMeta } from '#test/support/fake-meta.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { countCalls } from '#test/support/faults.ts';
import {
  messagingEnvelope,
  messagingTextEvent,
  PAGE_ID,
  whatsappTo,
  whatsappUserText,
} from '#test/support/meta-factory.ts';
import { runFor } from '#test/support/sweeps.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// Review of session 32's waits set aside for a switched-off channel (WAITING#<provider>:<channel>)
// against what else happens to their conversations: each must end in one ack (or none where
// none is owed), never two, never lost.

const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';
const WITHOUT_SID = { NODE_ENV: 'production', TWILIO_ACCOUNT_SID: '', AGENT_API_TOKEN: PRODUCTION_TOKEN };

describe('waits for a switched-off channel, against everything else that happens to them', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  async function waitingAck() {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, WITHOUT_SID);
    expect((await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' })).status).toBe(200);
    await off.drain();
    await runFor(sb, off, 30);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ reason: 'CHANNEL_MISCONFIGURED' });
    return { sb, twilio, off };
  }

  const texts = (fake: FakeTwilio) => fake.requests.filter((request) => request.method === 'POST');

  it('should text the acknowledgement once when two sweepers of the fixed deployment release the same wait at once', async () => {
    // Prepare: an ack waiting half an hour for the SID; two instances of the fixed deployment
    const { sb, twilio } = await waitingAck();
    const second = sb.redeploy(DEFAULT_BUSINESS_CONFIG);

    // Act: their first runs at the same moment, then both workers
    sb.clock.advance(60_000);
    await Promise.all([sweep(sb.runtime.sweepDeps), sweep(second.runtime.sweepDeps)]);
    await Promise.all([sb.drain(), second.drain()]);
    await runFor(sb, sb, 20);

    // Assess
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should text the acknowledgement once when a worker of the switched-off deployment takes the released job (rolling deploy)', async () => {
    // Prepare: an ack waiting for the SID
    const { sb, twilio, off } = await waitingAck();

    // Act: the fixed deployment's sweeper releases it, the old deployment's worker takes the job
    // (both serve during the deploy); then the fixed deployment alone
    sb.clock.advance(60_000);
    await sweep(sb.runtime.sweepDeps);
    await off.drain();
    const parkedAgain = await sb.onlyOpenConversation();
    await runFor(sb, sb, 20);

    // Assess: parked again, then texted once
    expect(parkedAgain.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should text one acknowledgement for a customer who wrote again while it waited', async () => {
    // Prepare: an ack waiting for the SID
    const { sb, twilio, off } = await waitingAck();

    // Act: the customer writes again to the deployment without the SID; then the fix
    await off.postSms({ From: '+48601234567', Body: 'Halo? Czekam na odpowiedź.' });
    await off.drain();
    await runFor(sb, off, 20);
    const before = await sb.onlyOpenConversation();
    await runFor(sb, sb, 20);

    // Assess
    expect(before.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should text nothing for a wait whose conversation an agent resolved meanwhile, and stop counting it', async () => {
    // Prepare: an ack waiting for the SID
    const { sb, twilio, off } = await waitingAck();
    const waiting = await sb.onlyOpenConversation();

    // Act: an agent resolves it (answered by phone); the switched-off deployment runs on, then the fix
    expect(
      (await off.act(`/conversations/${waiting.id}/resolve`, {}, { token: PRODUCTION_TOKEN })).status,
    ).toBe(200);
    await runFor(sb, off, 20);
    const counted = await sb.runtime.store.countWaitingForChannel('twilio:sms', 10);
    await runFor(sb, sb, 20);

    // Assess
    expect(texts(twilio)).toHaveLength(0);
    expect(counted).toBe(0);
  });

  it('should text one acknowledgement to a customer who sent STOP and START while it waited', async () => {
    // Prepare: an ack waiting for the SID
    const { sb, twilio, off } = await waitingAck();

    // Act: STOP, then START, to the deployment without the SID; then the fix
    await off.postSms({ From: '+48601234567', Body: 'STOP' });
    await off.drain();
    await runFor(sb, off, 10);
    await off.postSms({ From: '+48601234567', Body: 'START' });
    await off.drain();
    await runFor(sb, off, 20);
    await runFor(sb, sb, 20);

    // Assess
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should deliver the events a waiting conversation could not deliver, while its channel stays off', async () => {
    // Prepare: the event sink's folder missing while a deployment without the SID records an SMS
    const sinkDir = join(await mkdtemp(join(tmpdir(), 'switchboard-waits-')), 'later');
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { eventsPath: join(sinkDir, 'events.jsonl') });
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, WITHOUT_SID);
    await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await off.drain();
    const undelivered = await sb.onlyOpenConversation();

    // Act: the sink comes back; the switched-off deployment's sweeper runs on
    await mkdir(sinkDir);
    await runFor(sb, off, 30);
    const after = await sb.onlyOpenConversation();

    // Assess: delivered by the sweeper while the ack still waits
    expect(undelivered.outbox.length).toBeGreaterThan(0);
    expect(undelivered.ack).toMatchObject({ reason: 'CHANNEL_MISCONFIGURED' });
    expect(after.outbox).toEqual([]);
    expect((await sb.events()).map((event) => event.type)).toContain('message.received');
    expect(after.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
  });

  it('should move a wait an earlier release left in the sweep index, not yet due, once, when a new configuration runs the sweep-times backfill, and text it once after the fix', async () => {
    // Prepare: an ack waiting for the SID, stored as the release before session 32 did: in the
    // sweep index at its retry time, still 5 minutes ahead
    const { sb, twilio } = await waitingAck();
    const waiting = await sb.onlyOpenConversation();
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `CONV#${waiting.id}` }, sk: { S: 'CONV' } },
        UpdateExpression: 'SET gsi2pk = :pk, gsi2sk = :sk',
        ExpressionAttributeValues: {
          ':pk': { S: 'SWEEP' },
          ':sk': { S: `${new Date(sb.clock.now().getTime() + 5 * 60_000).toISOString()}#${waiting.id}` },
        },
      }),
    );

    // Act: a deployment without the SID and with another business configuration (its sweep-times
    // backfill reads the whole sweep index) runs one sweep; then the fix
    const changed = {
      ...DEFAULT_BUSINESS_CONFIG,
      ack: { ...DEFAULT_BUSINESS_CONFIG.ack, quietMinutesAfterReply: 7 },
    };
    const off = sb.redeploy(changed, WITHOUT_SID);
    await sweep(off.runtime.sweepDeps);
    const set = await sb.runtime.store.countWaitingForChannel('twilio:sms', 10);
    sb.clock.advance(10 * 60_000);
    const due = await sb.runtime.store.dueForSweep(sb.clock.now(), 10);
    await runFor(sb, sb, 20);

    // Assess: under its channel's waiting key, not due in the sweep index; then texted once
    expect({ set, due: due.items.length }).toEqual({ set: 1, due: 0 });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should record the breach of the promise of an acknowledgement that still waits, once, and text it once after the fix', async () => {
    // Prepare: an ack waiting for the SID
    const { sb, twilio, off } = await waitingAck();
    const waiting = await sb.onlyOpenConversation();

    // Act: the switched-off deployment runs until two hours past the promise; then the fix
    sb.clock.set(new Date(Date.parse(waiting.replyBy as string) - 60 * 60_000));
    await runFor(sb, off, 3 * 60);
    const whileOff = await sb.onlyOpenConversation();
    await runFor(sb, sb, 20);

    // Assess: the breach recorded while it waited (the index's breach time read), the ack still
    // waiting; then one text
    expect(whileOff.breachedEpisode).toBe(whileOff.episode);
    expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect(texts(twilio)).toHaveLength(1);
  });

  it('should record the breach of a promise whose late notice waits, once, and send that notice at most once after the fix', async () => {
    // Prepare: an ack texted by the deployment with the SID; then a deployment without it
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    const acked = await sb.onlyOpenConversation();
    expect(acked.ack).toMatchObject({ state: 'sent' });
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, WITHOUT_SID);

    // Act: the switched-off deployment runs until an hour past the promise; then the fix
    sb.clock.set(new Date(Date.parse(acked.replyBy as string) - 3 * 60 * 60_000));
    await runFor(sb, off, 4 * 60);
    const whileOff = await sb.onlyOpenConversation();
    const due = await sb.runtime.store.waitingForChannel('twilio:sms', sb.clock.now(), 10);
    await runFor(sb, sb, 30);

    // Assess: the notice waited, the breach recorded once; nothing left due while it waits;
    // then at most one more text
    expect(whileOff.notice).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect(whileOff.breachedEpisode).toBe(whileOff.episode);
    expect(due.items).toHaveLength(0);
    expect(texts(twilio).length).toBeLessThanOrEqual(2);
    expect((await sb.onlyOpenConversation()).notice?.state).not.toBe('pending');
  });
});

const SECOND_PAGE = '104857600654321';
const SECOND_NUMBER = '207651463353033';
const THIRD_NUMBER = '308762574464144';
const PAGE_TOKEN = 'EAAfakePageTokenA0123456789abcdZZ';
const WHATSAPP_TOKEN = FAKE_WHATSAPP_TOKEN;

describe('waits for a switched-off Meta channel, when the fix names several senders', () => {
  let sb: TestSwitchboard | undefined;
  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb?.stop();
    await graph?.close();
    sb = undefined;
    graph = undefined;
  });

  it("should answer the waiting Messenger customer of the Page the map names with its token, and not the other Page's, which stops waiting", async () => {
    // Prepare: no Page token at all; a customer writes to each of two Pages; their acks wait
    graph = await startFakeMeta({ tokens: { [PAGE_TOKEN]: 'messenger' } });
    const production = {
      NODE_ENV: 'production',
      AGENT_API_TOKEN: PRODUCTION_TOKEN,
      SES_FROM_ADDRESS: 'a@example.com',
    };
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: {
        ...production,
        META_PAGE_ACCESS_TOKEN: '',
        META_PAGE_ACCESS_TOKENS: JSON.stringify({ [PAGE_ID]: PAGE_TOKEN }),
      },
    });
    graph.useClock(sb.clock);
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, { META_PAGE_ACCESS_TOKENS: '' });
    const customers = ['7214568800000031', '7214568800000032'];
    for (const [i, recipient] of [PAGE_ID, SECOND_PAGE].entries()) {
      const event = messagingTextEvent(30 + i, { sender: customers[i], recipient });
      expect((await off.postMeta(messagingEnvelope([[event]], 'page', recipient))).status).toBe(200);
    }
    await off.drain();
    await runFor(sb, off, 30);
    const waitingBefore = await sb.runtime.store.countWaitingForChannel('meta:messenger', 10);

    // Act: the deployment whose map names the first Page only
    await runFor(sb, sb, 30);

    // Assess: the first Page's customer answered with its token, once; nothing for the second;
    // nothing waits any more
    expect(waitingBefore).toBe(2);
    expect(graphSends(graph).map(({ token, to }) => ({ token, to }))).toEqual([
      { token: PAGE_TOKEN, to: customers[0] },
    ]);
    expect(await sb.runtime.store.countWaitingForChannel('meta:messenger', 10)).toBe(0);
  });

  it('should keep a WhatsApp Cloud wait untouched while only the token is missing, and answer it from the number it came to once it is set', async () => {
    // Prepare: neither WhatsApp value; a customer writes to our second number; its ack waits
    graph = await startFakeMeta({ phoneNumberIds: [SECOND_NUMBER, THIRD_NUMBER] });
    const production = {
      NODE_ENV: 'production',
      AGENT_API_TOKEN: PRODUCTION_TOKEN,
      SES_FROM_ADDRESS: 'a@example.com',
    };
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: {
        ...production,
        WHATSAPP_ACCESS_TOKEN: WHATSAPP_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID: '',
        WHATSAPP_PHONE_NUMBER_IDS: `${THIRD_NUMBER},${SECOND_NUMBER}`,
      },
    });
    graph.useClock(sb.clock);
    const neither = sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      WHATSAPP_ACCESS_TOKEN: '',
      WHATSAPP_PHONE_NUMBER_IDS: '',
    });
    expect((await neither.postMeta(whatsappTo(SECOND_NUMBER, '48601000111', 'wamid.review1'))).status).toBe(
      200,
    );
    await neither.drain();
    const waiting = await sb.onlyOpenConversation();

    // Act: the numbers deployed without the token (half: WhatsApp's webhook off, its waits too),
    // a stray job of the wait reaching its worker; then the token
    const numbersOnly = sb.redeploy(DEFAULT_BUSINESS_CONFIG, { WHATSAPP_ACCESS_TOKEN: '' });
    await runFor(sb, numbersOnly, 30);
    await numbersOnly.runtime.sweepDeps.queue.enqueue({
      conversationId: waiting.id,
      episode: waiting.episode,
      kind: 'ack',
    });
    await numbersOnly.drain();
    const whileHalf = await sb.onlyOpenConversation();
    const sendsWhileHalf = graphSends(graph).length;
    await runFor(sb, sb, 20);

    // Assess: still waiting, no try spent; then answered once, from the number written to
    expect(waiting.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect(whileHalf.ack).toEqual(waiting.ack);
    expect(sendsWhileHalf).toBe(0);
    expect(graphSends(graph)).toEqual([
      { path: `${SECOND_NUMBER}/messages`, token: WHATSAPP_TOKEN, to: '48601000111' },
    ]);
  });
  it("should cost no write while a linked WhatsApp ack (number's conversation, after the BSUID's) waits with the BSUID's for the token, and send one ack once it is set", async () => {
    // Prepare: neither WhatsApp value; the customer writes with their BSUID only, then with
    // their number beside it (the number's ack waits for the BSUID's: Ack.after)
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: { NODE_ENV: 'production', AGENT_API_TOKEN: PRODUCTION_TOKEN, SES_FROM_ADDRESS: 'a@example.com' },
    });
    graph.useClock(sb.clock);
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      WHATSAPP_ACCESS_TOKEN: '',
      WHATSAPP_PHONE_NUMBER_ID: '',
    });
    const bsuid = 'PL.13491208655302741918';
    const bsuidOnly = whatsappUserText(
      'Czy macie to w innym kolorze?',
      { bsuid, number: undefined },
      'wamid.review-b1',
      1763986401,
    );
    expect((await off.postMeta(bsuidOnly)).status).toBe(200);
    await off.drain();
    sb.clock.advance(20_000);
    const both = whatsappUserText(
      'Podaję numer, proszę o telefon',
      { bsuid, number: '48601234567' },
      'wamid.review-b2',
      1763986421,
    );
    expect((await off.postMeta(both)).status).toBe(200);
    await off.drain();
    await runFor(sb, off, 30);
    // One customer waits for one ack (stop 33: the alarm's log line counted the pair as 2)
    const waitingCustomers = await sb.runtime.store.countWaitingForChannel('meta:whatsapp', 10);

    // Act: the switched-off deployment runs an hour, its writes and queued jobs counted; then the fix
    const writes = [
      'PutItemCommand',
      'UpdateItemCommand',
      'DeleteItemCommand',
      'TransactWriteItemsCommand',
    ].map((command) =>
      countCalls((sb as TestSwitchboard).backends.dynamodb, command, (input) => {
        const { Key, Item } = input as { Key?: { pk?: { S?: string } }; Item?: { pk?: { S?: string } } };
        return !/^(META|BACKFILL)#/.test(Key?.pk?.S ?? Item?.pk?.S ?? '');
      }),
    );
    const queued = countCalls(sb.backends.sqs, 'SendMessageCommand');
    await runFor(sb, off, 60);
    const written = writes.reduce((sum, counter) => sum + counter.count, 0);
    const queuedWhileOff = queued.count;
    for (const counter of [...writes, queued]) counter.remove();
    await runFor(sb, sb, 30);

    // Assess: nothing written or queued while both wait; then one ack reached the customer
    expect({ written, queuedWhileOff }).toEqual({ written: 0, queuedWhileOff: 0 });
    expect(waitingCustomers).toBe(1);
    expect(graph.taken).toHaveLength(1);
  });

  it('should count the customer of a linked WhatsApp pair waiting for the token still once after an agent resolves the first conversation, and send that ack once it is set', async () => {
    // Prepare: the customer writes with their BSUID, then with their number (the number's ack
    // waits after the BSUID's: Ack.after), both waiting for the token
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: { NODE_ENV: 'production', AGENT_API_TOKEN: PRODUCTION_TOKEN, SES_FROM_ADDRESS: 'a@example.com' },
    });
    graph.useClock(sb.clock);
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      WHATSAPP_ACCESS_TOKEN: '',
      WHATSAPP_PHONE_NUMBER_ID: '',
    });
    const bsuid = 'PL.13491208655302741918';
    const bsuidOnly = whatsappUserText(
      'Czy macie to w innym kolorze?',
      { bsuid, number: undefined },
      'wamid.review-c1',
      1763986401,
    );
    expect((await off.postMeta(bsuidOnly)).status).toBe(200);
    await off.drain();
    sb.clock.advance(20_000);
    const both = whatsappUserText(
      'Podaję numer, proszę o telefon',
      { bsuid, number: '48601234567' },
      'wamid.review-c2',
      1763986421,
    );
    expect((await off.postMeta(both)).status).toBe(200);
    await off.drain();
    await runFor(sb, off, 30);
    const open = (await sb.runtime.store.listConversations({ status: 'open', limit: 10 })).items;
    const first = open.find((conversation) => conversation.ack && !conversation.ack.after);

    // Act: an agent resolves the BSUID's conversation (answered by phone); the switched-off
    // deployment runs on; then the token
    expect(
      (await off.act(`/conversations/${first?.id}/resolve`, {}, { token: PRODUCTION_TOKEN })).status,
    ).toBe(200);
    await runFor(sb, off, 30);
    const waitingCustomers = await sb.runtime.store.countWaitingForChannel('meta:whatsapp', 10);
    await runFor(sb, sb, 30);

    // Assess: the number's ack is owed on its own now: counted (the alarm's line), then sent once
    expect(open).toHaveLength(2);
    expect(waitingCustomers).toBe(1);
    expect(graph.taken).toHaveLength(1);
  });
});
