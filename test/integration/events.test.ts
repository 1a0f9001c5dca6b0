import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countCalls, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

/** What a new customer's first message produces, in order, once its ack is sent. */
const FIRST_MESSAGE_EVENTS = ['conversation.opened', 'message.received', 'ack.sent'];

describe('events for downstream tools', () => {
  let sb: TestSwitchboard;
  let dir: string | undefined;

  afterEach(async () => {
    await sb.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The open conversation (each test but the last has one contact). */
  const openConversation = async () =>
    (await sb.runtime.store.listConversations({ status: 'open', limit: 1 })).items[0];

  /** Starts with the event sink writing into a folder of its own, made now only if `create`. */
  async function startWithSinkIn(folder: string, options: { create?: boolean } = {}): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-events-'));
    const sinkDir = join(dir, folder);
    if (options.create) await mkdir(sinkDir);
    sb = await startTestSwitchboard({ eventsPath: join(sinkDir, 'events.jsonl') });
    return sinkDir;
  }

  it('should deliver each change once, with stable ids, in the order it happened', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess
    const events = await sb.events();
    expect(events.map((event) => event.type)).toEqual(FIRST_MESSAGE_EVENTS);
    expect(new Set(events.map((event) => event.id)).size).toBe(3);
    const conversation = await openConversation();
    expect(conversation?.outbox).toEqual([]);
  });

  it('should keep undelivered events in the outbox and let the sweeper deliver them once', async () => {
    // Prepare: the sink's folder does not exist yet, so the first deliveries fail.
    const sinkDir = await startWithSinkIn('not-yet');
    const response = await sb.postSms({ From: '+48601234567' });
    const stuck = await openConversation();

    // Act
    await mkdir(sinkDir);
    sb.clock.advance(sb.config.ack.graceMs + 1_000);
    await sweep(sb.runtime.sweepDeps);
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect(response.status).toBe(200);
    expect(stuck?.outbox.map((event) => event.type)).toEqual(['conversation.opened', 'message.received']);
    const events = await sb.events();
    expect(events.map((event) => event.type)).toEqual(['conversation.opened', 'message.received']);
    const delivered = await openConversation();
    expect(delivered?.outbox).toEqual([]);
  });

  it("should write a first message's conversation once: its events go out at once and the ack worker's claim clears them", async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const conversationWrites = countCalls(sb.backends.dynamodb, 'PutItemCommand', pkStartsWith('CONV#'));

    // Act
    const response = await sb.postSms({ From: '+48601234567' });
    const writesByWebhook = conversationWrites.count;
    const pending = await openConversation();
    const deliveredByWebhook = (await sb.events()).map((event) => event.type);
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect(writesByWebhook).toBe(1);
    expect(deliveredByWebhook).toEqual(['conversation.opened', 'message.received']);
    expect(pending?.outbox.map((event) => event.type)).toEqual(['conversation.opened', 'message.received']);
    const events = await sb.events();
    expect(events.map((event) => event.type)).toEqual(FIRST_MESSAGE_EVENTS);
    const done = await openConversation();
    expect(done?.outbox).toEqual([]);
    expect(conversationWrites.count).toBe(3);
  });

  it("should let the ack worker deliver a first message's events when the webhook could not", async () => {
    // Prepare: no sink folder while the webhook runs
    const sinkDir = await startWithSinkIn('later');
    const response = await sb.postSms({ From: '+48601234567' });

    // Act
    await mkdir(sinkDir);
    await sb.drain();

    // Assess: each event once, in order, and nothing left behind
    expect(response.status).toBe(200);
    const events = await sb.events();
    expect(events.map((event) => event.type)).toEqual(FIRST_MESSAGE_EVENTS);
    expect(new Set(events.map((event) => event.id)).size).toBe(3);
    const done = await openConversation();
    expect(done?.outbox).toEqual([]);
  });

  it('should still acknowledge when more events wait in the outbox than an ack job may name', async () => {
    // Prepare: the sink is down while 55 messages of one episode pile up 56 events in the outbox
    const sinkDir = await startWithSinkIn('later');
    await sb.postSms({ From: '+48601234567', Body: 'Pierwsza' });
    await sb.drain();
    for (let i = 0; i < 54; i++) await sb.postSms({ From: '+48601234567', Body: `Wiadomość ${i}` });
    const waiting = await openConversation();
    const reply = await sb.runtime.app.request(`/api/conversations/${waiting?.id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({ text: 'Już sprawdzamy.' }),
    });
    await mkdir(sinkDir);
    sb.clock.advance(2 * 60 * 60_000);

    // Act: a new episode (its ack job cannot name 57+ delivered events), then the worker
    await sb.postSms({ From: '+48601234567', Body: 'I jeszcze jedno' });
    await sb.drain();

    // Assess: two acks (one per episode), nothing left in the outbox, every event delivered
    expect(reply.status).toBe(201);
    const acks = (await sb.outbox()).filter((entry) => entry.kind === 'ack' || !entry.kind);
    expect(acks.filter((entry) => entry.to === '+48601234567').length).toBeGreaterThanOrEqual(2);
    const done = await openConversation();
    expect(done?.ack?.state).toBe('sent');
    expect(done?.outbox).toEqual([]);
    expect(new Set((await sb.events()).map((event) => event.id)).size).toBeGreaterThan(56);
  });

  it('should announce a sent ack before marking it, so the worker writes the conversation twice, not three times', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601234567' });
    const conversationWrites = countCalls(sb.backends.dynamodb, 'PutItemCommand', pkStartsWith('CONV#'));

    // Act
    await sb.drain();

    // Assess: the claim and the write that marks it sent; no clearing write after it
    expect(conversationWrites.count).toBe(2);
    const events = await sb.events();
    expect(events.map((event) => event.type)).toEqual(FIRST_MESSAGE_EVENTS);
    const conversation = await openConversation();
    expect(conversation?.ack?.state).toBe('sent');
    expect(conversation?.outbox).toEqual([]);
  });

  it("should keep a sent ack's events in the outbox when they cannot be announced, and deliver them once later", async () => {
    // Prepare: the sink works for the inbound message, then its folder goes away
    const sinkDir = await startWithSinkIn('sink', { create: true });
    await sb.postSms({ From: '+48601234567' });
    const before = await sb.events();
    await rm(sinkDir, { recursive: true });

    // Act
    await sb.drain();
    const stuck = await openConversation();
    await mkdir(sinkDir);
    sb.clock.advance(sb.config.ack.graceMs + 1_000);
    await sweep(sb.runtime.sweepDeps);
    await sweep(sb.runtime.sweepDeps);

    // Assess
    expect(before.map((event) => event.type)).toEqual(['conversation.opened', 'message.received']);
    expect(stuck?.ack?.state).toBe('sent');
    expect(stuck?.outbox.map((event) => event.type)).toEqual(['ack.sent']);
    expect((await sb.events()).map((event) => event.type)).toEqual(['ack.sent']);
    const delivered = await openConversation();
    expect(delivered?.outbox).toEqual([]);
  });

  it('should not let undeliverable events keep the sweeper from anything else', async () => {
    // Prepare: the sink is down; one conversation's events are stuck, another's ack waits.
    await startWithSinkIn('missing');
    await sb.postSms({ From: '+48601000001' });
    sb.clock.advance(1_000);
    injectFault(sb.backends.sqs, { command: 'SendMessageCommand', when: 'before' });
    await sb.postSms({ From: '+48601000002' });

    // Act: sweeps that may each look at one conversation only.
    sb.clock.advance(sb.config.ack.graceMs + 2_000);
    const first = await sweep(sb.runtime.sweepDeps, { pageSize: 1, budgetMs: 0 });
    const second = await sweep(sb.runtime.sweepDeps, { pageSize: 1, budgetMs: 0 });
    const third = await sweep(sb.runtime.sweepDeps, { pageSize: 1, budgetMs: 0 });

    // Assess: the stuck outbox was deferred, so the waiting ack got queued.
    expect(first.requeued + second.requeued + third.requeued).toBeGreaterThanOrEqual(2);
    await sb.drain();
    expect(await sb.outbox()).toHaveLength(2);
  });
});
