import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { afterCall, injectFault } from '#test/support/faults.ts';
import { ackWorkerDiedBeforeAlias } from '#test/support/races.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

const CUSTOMER = '+48601234567';

/** The sweeper's read of the sweep index (gsi2) that brought back this conversation. */
function sweepQueryReturning(id: string) {
  return (input: Record<string, unknown>, output: Record<string, unknown>) =>
    input.IndexName === 'gsi2' &&
    ((output.Items as Array<{ pk?: { S?: string } }> | undefined) ?? []).some(
      (item) => item.pk?.S === `CONV#${id}`,
    );
}

// The sweeper and the worker against what lands between their read and their write (an agent's
// reply, a customer's next message), after a crash mid-send, and while the event bus is down:
// no notice or breach for an episode that is not due, no ack lost from the record, and a
// backoff that doubles. Found by a review of the sweeper at stop 22 (docs/store.md).

describe('the sweeper and the worker under races, crashes and outages', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    // Wednesday 25 November 2026, 10:00 in Warsaw.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
  });
  afterEach(async () => {
    await sb.stop();
  });

  /**
   * Right after the sweeper's index read returns conversation `id`: an agent replies `text`,
   * and a minute later the customer writes again (a new episode, its promise hours away).
   */
  const replyAndWriteAfterSweepRead = (id: string, text: string) =>
    afterCall(sb.backends.dynamodb, { command: 'QueryCommand', match: sweepQueryReturning(id) }, async () => {
      expect((await sb.act(`/conversations/${id}/replies`, { text })).status).toBe(201);
      sb.clock.advance(60_000);
      expect((await sb.postSms({ From: CUSTOMER, Body: 'A jeszcze jedno pytanie' })).status).toBe(200);
    });

  it('should not send a late notice for a new episode that began just after the sweeper read the old one', async () => {
    // Prepare: acknowledged, and the late notice of episode 1 is due.
    await sb.postSms({ From: CUSTOMER, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    sb.clock.set(new Date(Date.parse(first.replyBy as string) - 29 * 60_000));
    // Right after the sweeper's index read: an agent answers, and a minute later the customer
    // writes again (episode 2: a new promise hours away, a new acknowledgement).
    const meanwhile = replyAndWriteAfterSweepRead(first.id, 'Już sprawdzam.');

    // Act
    await sweep(sb.runtime.sweepDeps);
    meanwhile.remove();
    await sb.drain();

    // Assess: the customer who wrote a minute ago (not acknowledged: an agent had just
    // answered) gets no "we are late" notice for a promise hours away.
    expect(meanwhile.fired).toBe(true);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.episode).toBe(2);
    expect(Date.parse(conversation.originalReplyBy ?? (conversation.replyBy as string))).toBeGreaterThan(
      sb.clock.now().getTime() + 60 * 60_000,
    );
    const outbound = async () =>
      (await sb.runtime.store.listMessages(conversation.id, { limit: 1_000 }))
        .filter((m) => m.direction === 'outbound')
        .map((m) => m.kind);
    expect(await outbound()).toEqual(['ack', 'reply']);
  });

  it('should still send the late notice of the new episode when its own promise comes due', async () => {
    // Prepare: as above, the sweeper's read of episode 1 overtaken by a reply and a new message.
    await sb.postSms({ From: CUSTOMER, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    sb.clock.set(new Date(Date.parse(first.replyBy as string) - 29 * 60_000));
    const meanwhile = replyAndWriteAfterSweepRead(first.id, 'Już sprawdzam.');
    await sweep(sb.runtime.sweepDeps);
    meanwhile.remove();
    await sb.drain();
    const second = await sb.onlyOpenConversation();
    const promised = Date.parse(second.originalReplyBy ?? (second.replyBy as string));

    // Act: 29 minutes before episode 2's own promise, nobody having answered.
    sb.clock.set(new Date(promised - 29 * 60_000));
    const due = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the notice of episode 2 is due now (and not before).
    expect(meanwhile.fired).toBe(true);
    expect(due.notices).toBe(1);
  });

  it('should announce promise.breached only for a promise that has passed', async () => {
    // Prepare: acknowledged, and the promise of episode 1 passed a minute ago.
    await sb.postSms({ From: CUSTOMER, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const first = await sb.onlyOpenConversation();
    sb.clock.set(new Date(Date.parse(first.replyBy as string) + 60_000));
    // Right after the sweeper's index read: the agent answers (late), and the customer writes
    // again a minute later (episode 2, with a promise hours away).
    const meanwhile = replyAndWriteAfterSweepRead(first.id, 'Przepraszam.');

    // Act
    await sweep(sb.runtime.sweepDeps);
    meanwhile.remove();
    await sb.drain();

    // Assess: no breach announced for episode 2, whose promise is still ahead.
    expect(meanwhile.fired).toBe(true);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.episode).toBe(2);
    expect(Date.parse(conversation.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
    const breaches = (await sb.events()).filter((event) => event.type === 'promise.breached');
    for (const breach of breaches) {
      expect(Date.parse(breach.data.replyBy as string)).toBeLessThanOrEqual(Date.parse(breach.occurredAt));
    }
    expect(breaches.map((b) => b.data.episode)).not.toContain(2);
  });
  it('should mark an ack failed on an undelivered callback after its worker died before storing the provider id', async () => {
    // Prepare: the worker sends the ack and stores its message, then dies before the provider-id
    // alias; the job is redelivered under a live lease, then the sweeper requeues it once the
    // lease ran out and the next worker finds the stored message.
    const fault = await ackWorkerDiedBeforeAlias(sb, CUSTOMER);
    sb.clock.advance(5 * 60_000);
    const requeue = await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    const ack = (await sb.runtime.store.listMessages(conversation.id, { limit: 1_000 })).find(
      (m) => m.kind === 'ack',
    );

    // Act: Twilio reports the ack undelivered.
    const callback = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId as string,
    });

    // Assess: sent once, and the failure is recorded on the conversation.
    expect(fault.fired).toBe(1);
    expect(requeue.requeued).toBe(1);
    expect(await sb.outbox()).toHaveLength(1);
    expect(callback.status).toBe(200);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-undelivered:30007',
    });
  });
  it('should record an ack as sent when its worker died after sending and an agent answered before the retry', async () => {
    // Prepare: the worker sends the ack and stores its message, then dies before marking it
    // sent; before its lease runs out an agent answers.
    const fault = await ackWorkerDiedBeforeAlias(sb, CUSTOMER);
    const conversation = await sb.onlyOpenConversation();
    sb.clock.advance(30_000);
    expect(
      (await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Już sprawdzam.' })).status,
    ).toBe(201);

    // Act: the lease runs out, the sweeper queues the job again, a worker takes it.
    sb.clock.advance(5 * 60_000);
    const requeue = await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the customer got the acknowledgement (once), and the records say so.
    expect(fault.fired).toBe(1);
    expect(requeue.requeued).toBe(1);
    expect((await sb.outbox()).map((m) => m.text)).toHaveLength(2);
    const after = await sb.onlyOpenConversation();
    expect(after.ack).toMatchObject({ state: 'sent', episode: 1 });
    const types = (await sb.events()).map((event) => event.type);
    expect(types).toContain('ack.sent');
    expect(types).not.toContain('ack.skipped');
  });

  it('should back off (doubling the wait) while the event bus stays down, as deferOutbox promises', async () => {
    // Prepare: the event sink is down (its folder does not exist) while a customer writes.
    const down = await startTestSwitchboard({
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
      eventsPath: '/nonexistent-switchboard-events/events.jsonl',
    });
    try {
      await down.postSms({ From: CUSTOMER });
      await down.drain();
      const { items } = await down.runtime.store.listConversations({ status: 'open', limit: 1 });
      const id = items[0]?.id as string;

      // Act: four sweeps, each when the conversation comes due again.
      const waits: number[] = [];
      for (let run = 0; run < 4; run++) {
        const current = await down.runtime.store.getConversation(id);
        const dueAt = Date.parse(current?.outboxRetryAt ?? down.clock.now().toISOString());
        down.clock.set(new Date(Math.max(dueAt, down.clock.now().getTime() + down.config.ack.graceMs)));
        await sweep(down.runtime.sweepDeps);
        const after = await down.runtime.store.getConversation(id);
        waits.push(Date.parse(after?.outboxRetryAt as string) - down.clock.now().getTime());
      }

      // Assess: each failure doubles the wait (up to an hour).
      const grace = down.config.ack.graceMs;
      expect(waits).toEqual([grace, 2 * grace, 4 * grace, 8 * grace]);
    } finally {
      await down.stop();
    }
  });
  it('should send no late notice by SMS to a landline caller whose only acknowledgement was spoken', async () => {
    // Prepare: a landline calls (voiceSms "mobile": no SMS to it; the greeting spoke the promise).
    await sb.postTwilio('voice', 'voice-incoming', { From: '+48221112233', Caller: '+48221112233' });
    await sb.drain();
    const called = await sb.onlyOpenConversation();
    expect(called.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });

    // Act: nobody calls back; the notice time comes.
    sb.clock.set(new Date(Date.parse(called.replyBy as string) - 29 * 60_000));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: still nothing sent by SMS to the landline.
    expect(await sb.outbox()).toEqual([]);
  });

  it('should give up on an ack whose every worker died holding it, sending it no more than the attempts allow', async () => {
    // Prepare: each worker sends the ack and dies before storing it (the documented window)
    await sb.postSms({ From: CUSTOMER, Body: 'Dzień dobry, gdzie paczka?' });
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      times: 100,
      match: (input) => (input.Item as { kind?: { S?: string } } | undefined)?.kind?.S === 'ack',
    });

    // Act: the lease runs out, the sweeper queues it again, a worker takes it, many times over
    for (let round = 0; round < 2 * sb.config.ack.maxAttempts; round++) {
      await sb.drain();
      sb.clock.advance(sb.config.ack.leaseMs + 1_000);
      await sweep(sb.runtime.sweepDeps);
    }
    await sb.drain();
    crash.remove();

    // Assess: failed for good after the allowed attempts, never sent more often than that
    expect(crash.fired).toBe(sb.config.ack.maxAttempts);
    expect(await sb.outbox()).toHaveLength(sb.config.ack.maxAttempts);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed', reason: 'worker-died' });
  });
});

// A sweeper that cannot finish its work must say so to an alarm, not only in warn lines, and one
// item it cannot read must not stop it for every other customer. Found at stop 23 (an ops review).
describe('the sweeper when it cannot finish its work', () => {
  let sb: TestSwitchboard;

  beforeEach(async () => {
    sb = await startTestSwitchboard();
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('should make a sweeper that can requeue nothing visible to an alarm (a Lambda error or a metric), not only a warn line', async () => {
    // Prepare: the ack queue refuses every send (a wrong ACK_QUEUE_URL, a lost sqs:SendMessage
    // grant, a queue policy change). The webhook still answers 200 and leaves the ack pending,
    // counting on the sweeper.
    const queueDown = injectFault(sb.backends.sqs, {
      command: 'SendMessageCommand',
      when: 'before',
      times: Number.POSITIVE_INFINITY,
    });
    const response = await sb.postSms({ From: '+48601000032', Body: 'Dzień dobry, mam pytanie' });
    expect(response.status).toBe(200);
    const metrics = countingMetrics();

    // Act: the sweeper runs every minute for 5 minutes (functions/sweeper.ts returns what sweep returns).
    const runs: Array<{ threw: boolean; errors: number }> = [];
    for (let minute = 0; minute < 5; minute++) {
      sb.clock.advance(60_000 + 1_000);
      try {
        const result = await sweep({ ...sb.runtime.sweepDeps, metrics });
        runs.push({ threw: false, errors: result.errors });
      } catch {
        runs.push({ threw: true, errors: 1 });
      }
    }
    queueDown.remove();

    // Assess: every run failed to requeue the customer's ack...
    expect(queueDown.fired).toBeGreaterThanOrEqual(5);
    expect((await sb.onlyOpenConversation()).ack?.state).toBe('pending');
    expect(runs.every((run) => run.errors > 0)).toBe(true);
    // ...and CloudWatch sees it: the SweeperErrors alarm watches the function's Errors, the
    // others the custom metrics; every run counts SweepErrors (its alarm: 3 minutes running).
    const lambdaErrors = runs.filter((run) => run.threw).length;
    expect(
      lambdaErrors + metrics.counted.length,
      `${runs.length} sweeper runs failed every requeue, yet no Lambda error and no metric`,
    ).toBeGreaterThan(0);
    expect(metrics.counted.filter(({ name }) => name === 'SweepErrors')).toHaveLength(5);
  });

  it('should keep sweeping every other customer when one due conversation item cannot be read (a rollback, a hand-copied PITR item)', async () => {
    // Prepare: a customer whose ack job was lost (SQS refused the send): only the sweeper can
    // get them their acknowledgement.
    const lost = injectFault(sb.backends.sqs, { command: 'SendMessageCommand', when: 'before' });
    await sb.postSms({ From: '+48601000034', Body: 'Dzień dobry, gdzie moje zamówienie?' });
    lost.remove();
    const waiting = await sb.onlyOpenConversation();
    // ...and one conversation item this release cannot parse, due a little earlier: written by
    // the newer release that docs/deploy.md ("Rolling back") just rolled back from (a status it
    // does not know), or copied back by hand from a point-in-time restore.
    const { Item } = await sb.backends.dynamodb.send(
      new GetItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONV#${waiting.id}`, sk: 'CONV' }),
      }),
    );
    const poison = unmarshall(Item ?? {});
    poison.pk = 'CONV#conv_unreadable';
    poison.id = 'conv_unreadable';
    poison.status = 'snoozed';
    poison.gsi2sk = `2026-11-25T08:00:00.000Z#conv_unreadable`;
    await sb.backends.dynamodb.send(
      new PutItemCommand({
        TableName: sb.backends.tableName,
        Item: marshall(poison, { removeUndefinedValues: true }),
      }),
    );
    const metrics = countingMetrics();

    // Act: the sweeper's next run past the grace period, with a page of one so that the
    // unreadable item fills a page of its own; then the run after it.
    sb.clock.advance(sb.config.ack.graceMs + 1_000);
    let swept: Awaited<ReturnType<typeof sweep>> | undefined;
    let failure: unknown;
    try {
      swept = await sweep({ ...sb.runtime.sweepDeps, metrics }, { pageSize: 1 });
    } catch (error) {
      failure = error;
    }
    sb.clock.advance(60_000);
    const next = await sweep({ ...sb.runtime.sweepDeps, metrics });

    // Assess: the one unreadable item sorts first in the sweep index and is never rewritten, so
    // a run that throws on it throws on every run from now on: no requeued acks, late notices,
    // breaches, republished events, webhook deliveries or recovered mail, for every customer.
    expect(
      failure,
      `the whole sweep failed on one item: ${(failure as Error | undefined)?.name}`,
    ).toBeUndefined();
    expect(swept?.requeued).toBe(1);
    expect(swept).toMatchObject({ unreadable: 1, due: 1 });
    // It is skipped again on every run (never a loop on its page), counted for the alarm, and
    // logged by its key and the failing field only, never its content.
    expect(next.unreadable).toBe(1);
    expect(metrics.counted).toEqual([
      { name: 'SweepErrors', value: 1 },
      { name: 'SweepErrors', value: 1 },
    ]);
    const skipped = sb.log.lines.filter((line) => line.message.includes('cannot read'));
    expect(skipped[0]?.fields).toEqual({ key: 'CONV#conv_unreadable', fields: ['status'] });
    expect(JSON.stringify(sb.log.lines)).not.toContain('+48601000034');
  });
});
