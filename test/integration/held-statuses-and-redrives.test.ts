import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '#lib/use-cases/sweep.ts';
import { drainThroughRetries, redriveDlq } from '#test/support/dlq.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { ackWorkerDiedBeforeAlias, undeliveredBeforeAlias } from '#test/support/races.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// The worker against statuses held before its alias and against redrives, where this stop's
// new rules met the old: a held "undelivered" applied just before "sent" (no ack.sent may be
// announced), an alias the ended-episode path never wrote, a redriven job whose first delivery
// fails on a blip, and an ack the previous release dead-lettered. Found by a review of stop 23's
// own changes.

describe('held statuses and redrives', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;
  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  async function startThroughTwilio(options: { maxReceiveCount?: number } = {}) {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, options);
    return sb;
  }

  /** A customer's SMS from `from` whose ack Twilio refused until the job went to the DLQ; Twilio is up again. */
  async function ackDeadLetteredThroughTwilio(from: string) {
    const sb = await startThroughTwilio({ maxReceiveCount: 3 });
    twilio?.failNext(1_000, { status: 503, code: 20503, message: 'Service Unavailable' });
    await sb.postSms({ From: from, Body: 'Gdzie jest moja paczka?' });
    await drainThroughRetries(sb);
    twilio?.recover();
    if (twilio) twilio.requests.length = 0;
    return sb;
  }

  /** The open conversation's ack state, and how many requests the fake Twilio has had since it was last cleared. */
  async function ackStateAndTwilioCalls(sb: TestSwitchboard) {
    return { ack: (await sb.onlyOpenConversation()).ack?.state, twilioCalls: twilio?.requests.length };
  }

  it('should not announce ack.sent for an ack whose held "undelivered" status the worker has just applied (marked failed)', async () => {
    // Prepare: Twilio's undelivered callback lands before the worker writes the alias: held.
    const sb = await startThroughTwilio();
    const race = undeliveredBeforeAlias(sb);

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess: the ack is failed (the held status applied) ...
    expect(race.fired).toBe(true);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'failed', reason: 'delivery-undelivered:30007' });
    // ... so downstream tools must not hear it was sent
    const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
    expect(types).toEqual(['ack.failed']);
  });

  it('should apply the status Twilio sent for an ack whose worker died before its alias, when an agent answered before the next worker (never aliased, held for nothing)', async () => {
    // Prepare: the worker sends and stores the ack, then dies before the provider-id alias.
    const sb = await startTestSwitchboard();
    const fault = await ackWorkerDiedBeforeAlias(sb, '+48601234567');
    const conversation = await sb.onlyOpenConversation();
    const ack = (await sb.runtime.store.listMessages(conversation.id, { limit: 100 })).find(
      (m) => m.kind === 'ack',
    );
    // Twilio reports it undelivered: no alias yet, so the status is held for the alias's writer.
    const held = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId as string,
    });
    // An agent answers before the lease runs out.
    sb.clock.advance(30_000);
    expect(
      (await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Już sprawdzam.' })).status,
    ).toBe(201);

    // Act: the lease runs out, the sweeper requeues, the next worker finds the ack stored.
    sb.clock.advance(5 * 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the claim recorded the ack sent...
    expect(fault.fired).toBe(1);
    expect(held.status).toBe(200);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ episode: 1 });
    // ...but nobody ever wrote its alias: Twilio's status, held for the alias's writer, was never
    // applied (and every later status and echo of that message is held and lost the same way).
    const stored = (await sb.runtime.store.listMessages(conversation.id, { limit: 100 })).find(
      (m) => m.kind === 'ack',
    );
    const found = await sb.runtime.store.findByProviderId('twilio', ack?.providerMessageId as string);
    expect({ delivery: stored?.delivery?.status, findable: found?.id === ack?.id }).toEqual({
      delivery: 'undelivered',
      findable: true,
    });
  });

  it('should still send a redriven ack when the first delivery of the redriven job fails on a passing blip (a DynamoDB throttle) and the queue retries it', async () => {
    // Prepare: Twilio fails every attempt until the job is in the DLQ and the ack dead-lettered.
    const sb = await ackDeadLetteredThroughTwilio('+48601000031');
    const before = await sb.onlyOpenConversation();
    expect(before.ack).toMatchObject({ state: 'failed' });

    // Act: ops redrive the DLQ; the first delivery of the redriven job meets one throttled read
    // of the conversation (any error before its claim), and SQS delivers it again.
    sb.clock.advance(20 * 60_000);
    const blip = injectFault(sb.backends.dynamodb, {
      command: 'GetItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });
    const moved = await redriveDlq(sb);
    await sb.drain();
    blip.remove();

    // Assess: the queue's retry of the redriven job is taken for "another copy" and thrown back
    // into the DLQ: the customer, still waiting, never gets the ack although Twilio is up.
    expect(moved).toHaveLength(1);
    expect(blip.fired).toBe(1);
    expect(await ackStateAndTwilioCalls(sb)).toEqual({ ack: 'sent', twilioCalls: 1 });
  });

  it('should send, when redriven after the upgrade, an ack the previous release failed only because its retries ran out (stored without deadLettered)', async () => {
    // Prepare: an outage before this release: the job went to the DLQ and the ack was marked
    // failed with a retryable reason (SEND_FAILED), as the previous release wrote it: no
    // deadLettered flag (the field is new in this release).
    const sb = await ackDeadLetteredThroughTwilio('+48601000035');
    const failed = await sb.onlyOpenConversation();
    const key = marshall({ pk: `CONV#${failed.id}`, sk: 'CONV' });
    const { Item } = await sb.backends.dynamodb.send(
      new GetItemCommand({ TableName: sb.backends.tableName, Key: key }),
    );
    const old = unmarshall(Item ?? {});
    delete old.ack.deadLetteredAt;
    await sb.backends.dynamodb.send(
      new PutItemCommand({
        TableName: sb.backends.tableName,
        Item: marshall(old, { removeUndefinedValues: true }),
      }),
    );
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'failed',
      reason: 'SEND_FAILED:20503',
    });

    // Act: after the upgrade, ops follow docs/deploy.md and redrive the ack DLQ.
    sb.clock.advance(10 * 60_000);
    const moved = await redriveDlq(sb);
    await sb.drain();

    // Assess: the customer, still waiting, gets the ack (the redrive is dropped as "done" instead)
    expect(moved).toHaveLength(1);
    expect(await ackStateAndTwilioCalls(sb)).toEqual({ ack: 'sent', twilioCalls: 1 });
  });
});
