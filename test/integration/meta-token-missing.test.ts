import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { takeDlq } from '#test/support/dlq.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { metaFixture } from '#test/support/meta-factory.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Session 31: a production deployment with Meta's webhook on (META_APP_SECRET and
// META_VERIFY_TOKEN) but without META_PAGE_ACCESS_TOKEN (or INSTAGRAM_ACCESS_TOKEN) recorded the
// Messenger (Instagram) messages Meta sent it and skipped their acks for good
// (channel-cannot-send): a message arrives only from a Page (an Instagram account) the business
// subscribed to the app, so the channel is used and the token was forgotten, like Twilio's SID.
// Now those acks wait (pending, CHANNEL_MISCONFIGURED, no try spent) and go once a deployment
// with the token runs; an agent's reply meanwhile is refused 503 CHANNEL_MISCONFIGURED.

/** A production bootstrap token (at least 32 characters) for the agents' API of the deploys below. */
const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';

// WhatsApp Cloud without its token and number id alike: recorded and skipped
// (channel-cannot-send) until now, though a WhatsApp Cloud message comes only from a number
// subscribed to our app, as a Messenger one from a Page: it waits the same way now.
const CASES = [
  { channel: 'messenger', fixture: 'messenger-text', missing: 'META_PAGE_ACCESS_TOKEN' },
  { channel: 'instagram', fixture: 'instagram-text', missing: 'INSTAGRAM_ACCESS_TOKEN' },
  {
    channel: 'whatsapp',
    fixture: 'whatsapp-text',
    missing: 'WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID',
  },
] as const;

describe('Messenger, Instagram and WhatsApp Cloud on a production deployment without their sending token', () => {
  let sb: TestSwitchboard | undefined;
  let meta: FakeMeta | undefined;

  afterEach(async () => {
    await sb?.stop();
    await meta?.close();
    sb = undefined;
    meta = undefined;
  });

  it.each(CASES)(
    'should keep the $channel acknowledgement waiting without $missing, no try spent, refuse an agent reply 503, and send the ack once the token is deployed',
    async ({ fixture, missing }) => {
      // Prepare: a production deployment whose secret lacks the channel's token (the fake Graph
      // API at the HTTP boundary), and one with the secret complete over the same table and queue
      meta = await startFakeMeta();
      sb = await startTestSwitchboard({
        graphBaseUrl: meta.url,
        env: { NODE_ENV: 'production', AGENT_API_TOKEN: PRODUCTION_TOKEN, SES_FROM_ADDRESS: 'a@example.com' },
      });
      meta.useClock(sb.clock);
      const off = sb.redeploy(
        DEFAULT_BUSINESS_CONFIG,
        Object.fromEntries(missing.split(' and ').map((name) => [name, ''])),
      );

      // Act: the message is recorded by the deployment without the token; its sweeper and worker
      // run for an hour; an agent replies through it; then the deployment with the token runs
      const posted = await off.postMeta(metaFixture(fixture));
      await off.drain();
      await runFor(sb, off, 60);
      const whileOff = await sb.onlyOpenConversation();
      const reply = await off.act(
        `/conversations/${whileOff.id}/replies`,
        { text: 'Dzień dobry, sprawdzam.' },
        { token: PRODUCTION_TOKEN },
      );
      const dead = await takeDlq(sb);
      const sendsWhileOff = meta.taken.length;
      await runFor(sb, sb, 10);

      // Assess: recorded; waiting, not skipped; the reply refused as a setting to complete; then
      // the ack sent once
      expect(posted.status).toBe(200);
      expect(whileOff.ack).toMatchObject({ state: 'pending', reason: 'CHANNEL_MISCONFIGURED', attempts: 0 });
      expect(reply.status).toBe(503);
      expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('CHANNEL_MISCONFIGURED');
      expect({ dead, sendsWhileOff }).toEqual({ dead: [], sendsWhileOff: 0 });
      expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
      expect(meta.taken).toHaveLength(1);
    },
  );
});

// npm start keeps its behaviour: nothing waits there for a token (no deployment will bring it),
// the ack is skipped as on a channel it cannot send on.
describe('Messenger without its token under npm start (the local outbox)', () => {
  let sb: TestSwitchboard | undefined;

  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('should still skip the acknowledgement (channel-cannot-send), nothing waiting and nothing in the outbox', async () => {
    // Prepare: the local configuration (outbox sender), the page token left out
    sb = await startTestSwitchboard({ env: { META_PAGE_ACCESS_TOKEN: '' } });
    expect(sb.config.production).toBe(false);

    // Act
    const posted = await sb.postMeta(metaFixture('messenger-text'));
    await sb.drain();

    // Assess
    expect(posted.status).toBe(200);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'skipped',
      reason: 'channel-cannot-send',
    });
    expect(await sb.outbox()).toEqual([]);
  });
});
