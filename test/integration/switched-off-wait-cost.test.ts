import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { countCalls } from '#test/support/faults.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

// Session 32: an ack (or late notice) waiting for a switched-off channel's setting cost a claim
// and a settling write every 10 minutes, and the sweeper's queueing write and SQS message
// before each, for as long as the setting stayed missing (days, for a forgotten Messenger
// token): three writes and a message every 10 minutes per waiting customer, when nothing had
// changed. Now a wait costs nothing while the channel stays off, and goes once a deployment
// that can send it runs.

const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';
const WITHOUT_SID = { NODE_ENV: 'production', TWILIO_ACCOUNT_SID: '', AGENT_API_TOKEN: PRODUCTION_TOKEN };
const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand'];

/**
 * A write of the wait's: any but a process's own once-per-deployment bookkeeping (the index
 * shard count, the one-off backfills' progress), which every deployment's first runs write.
 */
function ofTheWait(input: Record<string, unknown>): boolean {
  const { Key, Item } = input as { Key?: { pk?: { S?: string } }; Item?: { pk?: { S?: string } } };
  return !/^(META|BACKFILL)#/.test(Key?.pk?.S ?? Item?.pk?.S ?? '');
}

/** Counts the wait's writes (ofTheWait) at the SDK's edge, every write command, until `remove`. */
function countWaitWrites(sb: TestSwitchboard): { total(): number; remove(): void } {
  const counters = WRITES.map((command) => countCalls(sb.backends.dynamodb, command, ofTheWait));
  return {
    total: () => counters.reduce((sum, counter) => sum + counter.count, 0),
    remove: () => {
      for (const counter of counters) counter.remove();
    },
  };
}

/**
 * A deploy of `sb` without the SID records a customer's SMS; its worker finds the channel off.
 * Returns that deployment and the webhook's response.
 */
async function smsWhileTheSidIsMissing(sb: TestSwitchboard) {
  const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, WITHOUT_SID);
  const posted = await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
  await off.drain();
  return { off, posted };
}

describe('the cost of an acknowledgement waiting for a switched-off channel', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  it('should write nothing and queue nothing while the SID stays missing, and text the acknowledgement once when it is back', async () => {
    // Prepare: a deploy without the SID records a customer's SMS; its worker finds the channel off
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const { off, posted } = await smsWhileTheSidIsMissing(sb);
    expect(posted.status).toBe(200);
    const recorded = await sb.onlyOpenConversation();

    // Act: its sweeper and worker run for half an hour, every call counted at the SDK's edge;
    // then the deploy with the SID
    const writes = countWaitWrites(sb);
    const queued = countCalls(sb.backends.sqs, 'SendMessageCommand');
    await runFor(sb, off, 30);
    const whileOff = await sb.onlyOpenConversation();
    const written = writes.total();
    const queuedWhileOff = queued.count;
    writes.remove();
    queued.remove();
    await runFor(sb, sb, 10);

    // Assess: nothing written or queued while waiting (still before the promise: no notice or
    // breach due), the wait as ops see it unchanged; then texted once
    expect(Date.parse(recorded.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
    expect({ written, queuedWhileOff }).toEqual({ written: 0, queuedWhileOff: 0 });
    expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED', attempts: 0 });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('should leave a waiting acknowledgement untouched when a stray copy of its job reaches a worker that still cannot send it', async () => {
    // Prepare: an ack waiting for the SID, its wait's retry time long past (a copy of its job
    // the queue redelivers, or one an earlier release's sweeper queued)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const { off } = await smsWhileTheSidIsMissing(sb);
    const waiting = await sb.onlyOpenConversation();
    sb.clock.advance(30 * 60_000);

    // Act: the copy reaches the worker of the deployment without the SID; then the deploy with it
    const writes = countWaitWrites(sb);
    await off.runtime.sweepDeps.queue.enqueue({
      conversationId: waiting.id,
      episode: waiting.episode,
      kind: 'ack',
    });
    await off.drain();
    const written = writes.total();
    writes.remove();
    const after = await sb.onlyOpenConversation();
    await runFor(sb, sb, 10);

    // Assess: nothing written, the wait as it was; then texted once
    expect(written).toBe(0);
    expect(after.ack).toEqual(waiting.ack);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('should move a wait an earlier release left in the sweep index to its channel with one write, then write nothing', async () => {
    // Prepare: an ack waiting for the SID as the release before session 32 stored it: in the
    // sweep index at its retry time, 10 minutes on (its sweeper queued it again then)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    const { off } = await smsWhileTheSidIsMissing(sb);
    // (the one-off backfills of a fresh table done first, as long done on a deployed stack)
    await runFor(sb, off, 30);
    const waiting = await sb.onlyOpenConversation();
    await sb.backends.dynamodb.send(
      new UpdateItemCommand({
        TableName: sb.backends.tableName,
        Key: { pk: { S: `CONV#${waiting.id}` }, sk: { S: 'CONV' } },
        UpdateExpression: 'SET gsi2pk = :pk, gsi2sk = :sk',
        ExpressionAttributeValues: {
          ':pk': { S: 'SWEEP' },
          ':sk': { S: `${waiting.ack?.retryAt}#${waiting.id}` },
        },
      }),
    );

    // Act: its sweeper and worker run for half an hour, the writes counted; then the deploy with the SID
    const writes = countWaitWrites(sb);
    const queued = countCalls(sb.backends.sqs, 'SendMessageCommand');
    await runFor(sb, off, 30);
    const due = await sb.runtime.store.dueForSweep(sb.clock.now(), 10);
    const written = writes.total();
    const queuedWhileOff = queued.count;
    writes.remove();
    queued.remove();
    await runFor(sb, sb, 10);

    // Assess: moved once, no longer due every run; then texted once
    expect({ written, queuedWhileOff, due: due.items.length }).toEqual({
      written: 1,
      queuedWhileOff: 0,
      due: 0,
    });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(twilio.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });
});
