import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { takeDlq } from '#test/support/dlq.ts';
import { drainWith, postMailgunMail, sesRuntime } from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboardThroughTwilio, type TestSwitchboard } from '#test/support/switchboard.ts';

// Session 31: while a deploy's secret lacked TWILIO_ACCOUNT_SID (sending through Twilio switched
// off, its webhooks still recorded), each ack or late notice spent its tries against the
// switched-off sender within about 15 minutes and went on to the ack DLQ, marked failed: the
// fix of the secret an hour later sent none of them unless ops redrove the DLQ. Now they wait
// (pending, CHANNEL_MISCONFIGURED, no try spent, the sweeper queues them every 10 minutes) and
// go out once a deployment with the SID runs.

/** A production bootstrap token (at least 32 characters) for the agents' API of the deploys below. */
const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';
const WITHOUT_SID = { NODE_ENV: 'production', TWILIO_ACCOUNT_SID: '', AGENT_API_TOKEN: PRODUCTION_TOKEN };
const TEN_MINUTES = 10 * 60_000;

function posts(twilio: FakeTwilio) {
  return twilio.requests.filter((request) => request.method === 'POST');
}

describe('automatic messages while sending through Twilio is switched off', () => {
  let sb: TestSwitchboard | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await twilio?.close();
    sb = undefined;
    twilio = undefined;
  });

  async function start(business = DEFAULT_BUSINESS_CONFIG) {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { business });
    const off = sb.redeploy(business, WITHOUT_SID);
    expect(off.config.misconfiguredChannels.map((entry) => entry.channel)).toContain('twilio-sending');
    return { sb, twilio, off };
  }

  it.each([
    ['an hour', false],
    ['past its promise', true],
  ])(
    'should keep the acknowledgement of an SMS recorded without the SID waiting for %s, no try spent and nothing in the DLQ, and text it once when the SID is back',
    async (_case, pastPromise) => {
      // Prepare: a deploy without the SID records a customer's SMS
      const { sb, twilio, off } = await start();
      expect((await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' })).status).toBe(200);
      await off.drain();
      const recorded = await sb.onlyOpenConversation();

      // Act: its sweeper and worker run for a while; then the deploy with the SID
      await runFor(sb, off, 60);
      if (pastPromise) {
        // (the outage lasts until after the promise; the first hour showed each round alike)
        expect(Date.parse(recorded.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
        sb.clock.set(new Date(Date.parse(recorded.replyBy as string) + 5 * 60_000));
        await runFor(sb, off, 20);
      }
      const whileOff = await sb.onlyOpenConversation();
      const dead = await takeDlq(sb);
      const postsWhileOff = posts(twilio).length;
      await runFor(sb, sb, 10);

      // Assess: waiting, no try spent, not dead-lettered; then texted once, stating a time to
      // come (a new promise once the first had passed, as for any ack held up past it)
      expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED', attempts: 0 });
      expect({ dead, postsWhileOff }).toEqual({ dead: [], postsWhileOff: 0 });
      const after = await sb.onlyOpenConversation();
      expect(after.ack).toMatchObject({ state: 'sent' });
      expect(posts(twilio)).toHaveLength(1);
      expect(Date.parse(after.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
      expect(after.replyBy !== recorded.replyBy).toBe(pastPromise);
      const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
      expect(types).toEqual(['ack.sent']);
    },
  );

  it("should skip the waiting acknowledgement once an agent answered after the SID came back, texting only the agent's reply", async () => {
    // Prepare: a deploy without the SID records an SMS; its ack waits for an hour
    const { sb, twilio, off } = await start();
    await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await off.drain();
    await runFor(sb, off, 60);
    const { id } = await sb.onlyOpenConversation();

    // Act: the SID is back; an agent answers before the sweeper queues the ack again
    sb.clock.advance(60_000);
    const replied = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' });
    await runFor(sb, sb, 20);

    // Assess: the reply went, the ack did not (the customer has their answer)
    expect(replied.status).toBe(201);
    expect(posts(twilio).map((request) => request.form.Body)).toEqual([
      expect.stringContaining('Paczka wyszła dziś.'),
    ]);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'answered' });
  });

  it('should keep a late notice due while the SID is missing waiting, and text it once when the SID is back', async () => {
    // Prepare: a customer acknowledged while Twilio was fully configured; then the SID is lost
    const { sb, twilio, off } = await start();
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    expect(acknowledged.ack?.state).toBe('sent');

    // Act: the promise nears and passes with the SID missing; an hour later it is back
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 40 * 60_000));
    await runFor(sb, off, 100);
    const whileOff = await sb.onlyOpenConversation();
    const dead = await takeDlq(sb);
    await runFor(sb, sb, 10);

    // Assess: the notice waited, no try spent, not dead-lettered; then texted once with a new time
    expect(whileOff.notice).toMatchObject({
      state: 'pending',
      reason: 'CHANNEL_MISCONFIGURED',
      attempts: 0,
    });
    expect(dead).toEqual([]);
    const after = await sb.onlyOpenConversation();
    expect(after.notice).toMatchObject({ state: 'sent' });
    expect(posts(twilio)).toHaveLength(2);
    expect(Date.parse(after.replyBy as string)).toBeGreaterThan(sb.clock.now().getTime());
  });

  it('should still skip, not hold, the acknowledgement when the deploy says Twilio is not used (SWITCHBOARD_TWILIO=off)', async () => {
    // Prepare: a customer's SMS recorded while Twilio was used, its job still queued
    const { sb, twilio } = await start();
    await sb.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    const notUsed = sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      ...WITHOUT_SID,
      TWILIO_AUTH_TOKEN: '',
      SWITCHBOARD_TWILIO: 'off',
    });
    const off = notUsed.config.misconfiguredChannels.map((entry) => entry.channel);
    expect(off.filter((channel) => channel.startsWith('twilio'))).toEqual([]);

    // Act: the deploy that no longer uses Twilio runs the job
    await notUsed.drain();

    // Assess: skipped as a channel we cannot send on (nothing waits for a setting never meant to come)
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'skipped',
      reason: 'channel-cannot-send',
    });
    expect(posts(twilio)).toHaveLength(0);
  });

  // Session 31: an agent's reply through a deployment without the SID answered 500 INTERNAL
  // ("the request can be retried") and logged an unexpected error: nothing said why, or when.
  it("should refuse an agent's reply while the SID is missing with 503 CHANNEL_MISCONFIGURED, keep the customer waiting for their ack, and send the reply once under the same key when the SID is back", async () => {
    // Prepare: a deploy without the SID records a customer's SMS
    const { sb, twilio, off } = await start();
    await off.postSms({ From: '+48601234567', Body: 'Gdzie jest moja paczka?' });
    await off.drain();
    const { id } = await sb.onlyOpenConversation();

    // Act: an agent replies through it; the SID is put back; the agent's tool retries
    const key = 'reply-while-switched-off';
    const refused = await off.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś.' },
      {
        key,
        token: PRODUCTION_TOKEN,
      },
    );
    const whileOff = await sb.onlyOpenConversation();
    const messagesWhileOff = await sb.runtime.store.listMessages(id, { limit: 10 });
    sb.clock.advance(20 * 60_000);
    const retried = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' }, { key });
    await runFor(sb, sb, 20);

    // Assess: a clear refusal (retry later: nothing was sent or stored, the customer still
    // waits, their ack too); the retry sent the reply once, and the ack was no longer needed
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('600');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CHANNEL_MISCONFIGURED');
    expect(body.error.message).toContain('not sent');
    expect(whileOff.awaitingSince).not.toBeNull();
    expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED' });
    expect(messagesWhileOff.map((message) => message.direction)).toEqual(['inbound']);
    expect(off.log.lines.filter((line) => line.message === 'unexpected error')).toEqual([]);
    expect(retried.status).toBe(201);
    expect(posts(twilio).map((request) => request.form.Body)).toEqual([
      expect.stringContaining('Paczka wyszła dziś.'),
    ]);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'skipped', reason: 'answered' });
  });
});

// Session 31: mail received by a deploy without SES_FROM_ADDRESS (Mailgun's signing key or the
// stack's mail domain set) was recorded with its ack skipped for good ('channel-cannot-send'):
// putting the address back sent none of the acks owed meanwhile.
describe('acknowledgements of mail received while SES_FROM_ADDRESS is missing', () => {
  let sb: TestSwitchboard | undefined;
  let ses: FakeSes | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb?.stop();
    await ses?.close();
    await twilio?.close();
    sb = undefined;
    ses = undefined;
    twilio = undefined;
  });

  it("should keep the acknowledgement waiting, no try spent, refuse an agent's reply 503 meanwhile, and send the ack once when the address is back", async () => {
    // Prepare: a production deploy that receives mail (Mailgun) but has no address to send from
    // (sending through providers, not the local outbox)
    ses = await startFakeSes();
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, { clock: new TestClock(TEST_NOW) });
    const off = sb.redeploy(DEFAULT_BUSINESS_CONFIG, {
      NODE_ENV: 'production',
      AGENT_API_TOKEN: PRODUCTION_TOKEN,
    });
    expect(off.config.misconfiguredChannels.map((entry) => entry.channel)).toContain('email');

    // Act: a customer's mail is recorded; its sweeper and worker run for an hour; then the deploy
    // with the address
    expect((await postMailgunMail(off, { from: 'Jan Nowak <jan@example.net>' })).status).toBe(200);
    await off.drain();
    await runFor(sb, off, 60);
    const whileOff = await sb.onlyOpenConversation();
    const reply = await off.act(
      `/conversations/${whileOff.id}/replies`,
      { text: 'Faktura w załączeniu.' },
      { token: PRODUCTION_TOKEN },
    );
    const dead = await takeDlq(sb);
    const fixed = sesRuntime(sb, ses);
    sb.clock.advance(TEN_MINUTES);
    await sweep(fixed.sweepDeps);
    await drainWith(sb, fixed);

    // Assess: waiting (the reply refused as such, not "cannot be answered on email"), then mailed once
    expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED', attempts: 0 });
    expect(reply.status).toBe(503);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('CHANNEL_MISCONFIGURED');
    expect(dead).toEqual([]);
    expect(ses.requests).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
  });
});
