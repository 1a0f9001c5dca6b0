import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeMeta, startFakeMeta, type TakenSend } from '#test/support/fake-meta.ts';
import { afterCall, beforeCall, pkStartsWith } from '#test/support/faults.ts';
import { whatsappEnvelope, whatsappUserText } from '#test/support/meta-factory.ts';
import { sendEveryAck } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiMessage = { id: string; kind: string; providerMessageId: string | null };

const WA_ID = '48601234567';

// The Cloud API takes a send and may report it `failed` afterwards, with `errors[].code`. Some
// codes say a later try may go (131000 something went wrong, 131016 service unavailable, 130429
// throughput, 131056 pair rate limit, 133004 server temporarily unavailable); others are final
// (131026 undeliverable, 131047 the window, 131051 unsupported type...). Until stop 31 every
// `failed` status was final: an ack lost to a passing Cloud outage was never sent again.
describe('a WhatsApp Cloud send Meta reports failed with a transient code', () => {
  let sb: TestSwitchboard;
  let meta: FakeMeta;

  afterEach(async () => {
    await sb.stop();
    await meta.close();
  });

  async function customerWrites(clock?: TestClock): Promise<string> {
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, ...(clock ? { clock } : {}) });
    meta.useClock(sb.clock);
    const at = Math.floor(sb.clock.now().getTime() / 1000);
    const response = await sb.postMeta(
      whatsappUserText('Dzień dobry, kiedy dostawa?', { number: WA_ID }, 'wamid.CUSTOMER1', at),
    );
    expect(response.status).toBe(200);
    await sb.drain();
    return (await sb.onlyOpenConversation()).id;
  }

  const failed = (send: TakenSend | undefined, errorCode: number) =>
    sb.postMeta(meta.webhookOf(send as TakenSend, { status: 'failed', errorCode }));

  async function messagesOf(id: string): Promise<ApiMessage[]> {
    return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
  }

  /**
   * The customer writes and the worker sends the ack, with Meta's `failed` 131000 status of it
   * posted by `hook` (afterCall or beforeCall) at the worker's write of the ack's wamid alias; the
   * sweeps that follow. Returns the race, the status's HTTP status, and the ack in between.
   */
  async function failedStatusRacesTheAlias(hook: typeof afterCall | typeof beforeCall, errorCode = 131000) {
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url });
    meta.useClock(sb.clock);
    let status = 0;
    const race = hook(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: pkStartsWith('PMID#meta:') },
      async () => {
        status = (await failed(meta.taken[0], errorCode)).status;
      },
    );
    const at = Math.floor(sb.clock.now().getTime() / 1000);
    await sb.postMeta(
      whatsappUserText('Dzień dobry, kiedy dostawa?', { number: WA_ID }, 'wamid.CUSTOMER1', at),
    );
    await sb.drain();
    const between = (await sb.onlyOpenConversation()).ack;
    await sendEveryAck(sb);
    return { race, status, between };
  }

  const ackEvents = async () =>
    (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));

  it('should send an acknowledgement again, once, when Meta reports it failed with 131000 a minute after it went, however often the status comes', async () => {
    // Prepare: the ack went
    const id = await customerWrites();
    expect(meta.taken).toHaveLength(1);

    // Act: its failed status, three times (Meta retries a webhook); the sweeps that follow
    sb.clock.advance(60_000);
    const statuses = [await failed(meta.taken[0], 131000), await failed(meta.taken[0], 131000)];
    const between = (await sb.onlyOpenConversation()).ack;
    statuses.push(await failed(meta.taken[0], 131000));
    await sendEveryAck(sb);

    // Assess: pending for its resend in between, sent again once, on record under its new wamid
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(between).toMatchObject({ state: 'pending', reason: 'delivery-failed:131000' });
    expect(meta.taken).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    const acks = (await messagesOf(id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toEqual([meta.taken[0]?.id, meta.taken[1]?.id]);
    expect(await ackEvents()).toEqual(['ack.sent', 'ack.failed', 'ack.sent']);
    const ids = (await sb.events()).filter((e) => e.type === 'ack.sent').map((e) => e.id);
    expect(new Set(ids).size, 'the resend announced under its own id').toBe(2);
  });

  // Stop 32: a failed status that lands while the worker is still marking the ack sent (between
  // its write of the wamid's alias and its settling write) failed the ack for good, as before the
  // resends: the ordering of Meta's webhook and our own write decided whether the customer got one.
  it('should send an acknowledgement again when Meta reports it failed with 131000 while the worker is still marking it sent', async () => {
    // Prepare and act: the failed status posted right after the worker wrote the ack's alias, as
    // the customer writes and the worker sends the ack; the sweeps that follow
    const { race, status, between } = await failedStatusRacesTheAlias(afterCall);

    // Assess: pending for its resend, sent again once, as when the status comes after the write
    expect(race.fired).toBe(true);
    expect(status).toBe(200);
    expect(between).toMatchObject({ state: 'pending', reason: 'delivery-failed:131000' });
    expect(meta.taken).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    // As a consumer hears them, duplicates dropped by id: the first try's ack.sent goes out with
    // the status's write and may go again with the worker's announcement ahead (the same id).
    const heard = [...new Map((await sb.events()).map((e) => [e.id, e])).values()];
    const events = heard.filter((e) => e.type.startsWith('ack.'));
    expect(events.map((e) => e.type)).toEqual(['ack.sent', 'ack.failed', 'ack.sent']);
    // Numbered once each, in order (the worker's ack.sent and the status's ack.failed shared a number)
    expect(heard.map((e) => e.sequence)).toEqual(heard.map((_, i) => i + 1));
    // The failure takes back the first try's ack.sent (it names its send), whichever a consumer hears first
    expect(events.find((e) => e.type === 'ack.failed')?.data).toMatchObject({ sentAt: expect.any(String) });
  });

  // Found at stop 33 (events): the worker announces the first try's ack.sent ahead of its settling
  // write, which then finds the status's failure and writes nothing. When that announcement failed
  // (the event bus down just then), no outbox held it: consumers got the ack.failed that takes back
  // an ack.sent they never heard, and the service level a failure of an ack never sent.
  it("should announce the first try's ack.sent once the event bus is back when Meta reports it failed with 131000 while the worker is marking it sent and the bus is down", async () => {
    // Prepare: the event bus (the local sink's folder) goes down right after the worker wrote the
    // ack's alias, and the failed status is posted then
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-bus-'));
    const bus = join(dir, 'bus');
    await mkdir(bus);
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, eventsPath: join(bus, 'events.jsonl') });
    meta.useClock(sb.clock);
    let status = 0;
    const race = afterCall(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: pkStartsWith('PMID#meta:') },
      async () => {
        await rename(bus, `${bus}-down`);
        status = (await failed(meta.taken[0], 131000)).status;
      },
    );
    const at = Math.floor(sb.clock.now().getTime() / 1000);
    await sb.postMeta(
      whatsappUserText('Dzień dobry, kiedy dostawa?', { number: WA_ID }, 'wamid.CUSTOMER1', at),
    );

    // Act: the worker sends the ack (its announcement fails); the bus comes back; the sweeps
    await sb.drain();
    await rename(`${bus}-down`, bus);
    await sendEveryAck(sb);

    // Assess: the first try's ack.sent, its failure and the resend's ack.sent, each once, numbered in order
    const events = await sb.events();
    await rm(dir, { recursive: true, force: true });
    expect(race.fired).toBe(true);
    expect(status).toBe(200);
    expect(meta.taken).toHaveLength(2);
    const acks = events.filter((e) => e.type.startsWith('ack.'));
    expect(acks.map((e) => e.type)).toEqual(['ack.sent', 'ack.failed', 'ack.sent']);
    expect(new Set(acks.map((e) => e.id)).size, 'each announced under its own id').toBe(3);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
  });

  // Stop 33: refused for the closed window (131047) while the worker is marking it sent, the ack
  // was skipped without naming its send: the ack.sent its worker announces ahead was never taken
  // back (for a late notice, the service level counted a notice the customer never got).
  it('should take back the ack.sent the worker announces ahead when Meta reports the ack refused for the closed window (131047) while the worker is marking it sent', async () => {
    // Prepare and act
    const { race, status } = await failedStatusRacesTheAlias(afterCall, 131047);

    // Assess: skipped for the window, its skip naming the send it takes back; never sent again
    expect(race.fired).toBe(true);
    expect(status).toBe(200);
    expect(meta.taken).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'skipped',
      reason: 'outside-window',
    });
    const heard = [...new Map((await sb.events()).map((e) => [e.id, e])).values()];
    const events = heard.filter((e) => e.type.startsWith('ack.'));
    expect(events.map((e) => e.type)).toEqual(['ack.sent', 'ack.skipped']);
    expect(events[1]?.data).toMatchObject({ reason: 'outside-window', sentAt: expect.any(String) });
    expect(heard.map((e) => e.sequence)).toEqual(heard.map((_, i) => i + 1));
  });

  it('should send an acknowledgement again when Meta reports it failed with 131000 before the worker wrote its alias (held for the worker)', async () => {
    // Prepare and act: the failed status posted right before the worker writes the ack's alias
    const { race, status, between } = await failedStatusRacesTheAlias(beforeCall);

    // Assess: pending for its resend, sent again once; never announced sent before its failure
    expect(race.fired).toBe(true);
    expect(status).toBe(200);
    expect(between).toMatchObject({ state: 'pending', reason: 'delivery-failed:131000' });
    expect(meta.taken).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(await ackEvents()).toEqual(['ack.failed', 'ack.sent']);
  });

  it('should stop sending an acknowledgement again after two resends that Meta reports failed, and keep it failed', async () => {
    // Prepare
    await customerWrites();

    // Act: every try reported failed (131016, 130429, 133004) shortly after it went
    for (const code of [131016, 130429, 133004]) {
      sb.clock.advance(30_000);
      expect((await failed(meta.taken.at(-1), code)).status).toBe(200);
      await sendEveryAck(sb);
    }

    // Assess: three sends in all; failed with the last reason
    expect(meta.taken).toHaveLength(3);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:133004',
    });
  });

  it('should not send an acknowledgement again that Meta reports failed with a final code (131026)', async () => {
    // Prepare
    await customerWrites();

    // Act
    sb.clock.advance(60_000);
    expect((await failed(meta.taken[0], 131026)).status).toBe(200);
    await sendEveryAck(sb);

    // Assess
    expect(meta.taken).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:131026',
    });
  });

  it('should not send an acknowledgement again that Meta reports failed with 131000 more than 15 minutes after it went', async () => {
    // Prepare
    await customerWrites();

    // Act: the failed status comes 20 minutes on
    sb.clock.advance(20 * 60_000);
    expect((await failed(meta.taken[0], 131000)).status).toBe(200);
    await sendEveryAck(sb);

    // Assess
    expect(meta.taken).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-failed:131000',
    });
  });

  it('should not send an acknowledgement again once an agent answered before its resend was due', async () => {
    // Prepare: the ack reported failed transiently
    const id = await customerWrites();
    sb.clock.advance(60_000);
    expect((await failed(meta.taken[0], 131000)).status).toBe(200);

    // Act: an agent answers before the resend is due
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' })).status).toBe(201);
    await sendEveryAck(sb);

    // Assess: the ack and the reply only
    expect(meta.taken).toHaveLength(2);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'answered' });
  });

  it('should send a late notice again when Meta reports it failed with 130429 shortly after it went', async () => {
    // Prepare: Wednesday 10:00 in Warsaw; the ack went; the notice goes 29 minutes before the promise
    await customerWrites(new TestClock('2026-11-25T10:00:00+01:00'));
    const replyBy = Date.parse((await sb.onlyOpenConversation()).replyBy as string);
    sb.clock.set(new Date(replyBy - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    expect((await sb.onlyOpenConversation()).notice).toMatchObject({ state: 'sent' });

    // Act: Meta reports the notice failed (throughput), then the sweeps
    sb.clock.advance(30_000);
    expect((await failed(meta.taken[1], 130429)).status).toBe(200);
    await sendEveryAck(sb);

    // Assess: sent again once, announced sent, failed, sent
    expect(meta.taken).toHaveLength(3);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.notice).toMatchObject({ state: 'sent' });
    expect(Date.parse(conversation.replyBy as string)).toBeGreaterThan(replyBy);
    const types = (await sb.events()).map((e) => e.type).filter((type) => type.startsWith('notice.'));
    expect(types).toEqual(['notice.sent', 'notice.failed', 'notice.sent']);
  });

  it("should mark an agent's reply Meta reports failed with 131016 as failed and retryable, and not send it again itself", async () => {
    // Prepare: the agent's reply went
    const id = await customerWrites();
    sb.clock.advance(10 * 60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' })).status).toBe(201);
    const reply = meta.taken.at(-1);

    // Act
    expect((await failed(reply, 131016)).status).toBe(200);
    await sendEveryAck(sb);

    // Assess: failed, said to be worth sending again; the agent decides
    const view = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: { replyFailure?: Record<string, unknown> };
    };
    expect(view.conversation.replyFailure).toMatchObject({
      status: 'failed',
      errorCode: '131016',
      retryable: true,
    });
    const events = (await sb.events()).filter((event) => event.type === 'reply.failed');
    expect(events.map((event) => event.data)).toEqual([expect.objectContaining({ retryable: true })]);
    expect(meta.taken).toHaveLength(2);
  });

  it('should look up the resend, not the failed first try, when a resend lost its answer and the episode ended before its next try', async () => {
    // Prepare: the ack went, Meta reported it failed (131000); its resend is taken, its answer lost
    const id = await customerWrites();
    sb.clock.advance(60_000);
    expect((await failed(meta.taken[0], 131000)).status).toBe(200);
    meta.failNext(1, { status: 504, gateway: true, taken: true });
    sb.clock.advance(3 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'pending',
      reason: 'SEND_UNCERTAIN',
    });
    // No status of the resend comes: the agent answers, the customer writes again, and the ended
    // episode's ack is owed its lookup
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' })).status).toBe(201);
    sb.clock.advance(60_000);
    await sb.postMeta(
      whatsappEnvelope({
        contacts: [{ profile: { name: 'Ewa Kowalska' }, wa_id: WA_ID }],
        messages: [
          {
            from: WA_ID,
            id: 'wamid.CUSTOMER2',
            timestamp: String(Math.floor(sb.clock.now().getTime() / 1000)),
            type: 'text',
            text: { body: 'A o której?' },
          },
        ],
      }),
    );

    // Act: the lookup's wait passes
    await sendEveryAck(sb);

    // Assess: the first episode's ack ends skipped (the resend not found), never "sent" as the failed first try
    const first = (await sb.events()).filter((e) => e.type.startsWith('ack.') && e.data.episode === 1);
    expect(first.map((e) => e.type)).toEqual(['ack.sent', 'ack.failed', 'ack.skipped']);
  });
});
