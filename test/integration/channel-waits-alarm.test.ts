import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { countingMetrics } from '#test/support/counting-metrics.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { metaFixture } from '#test/support/meta-factory.ts';
import { runFor } from '#test/support/sweeps.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Session 32: the ChannelMisconfigured alarm for Messenger (Instagram) without its token was fed
// only by the messages as they came: it fired with them and cleared 5 minutes after the last one
// while their acks kept waiting for the token, and nothing told ops they still waited. A retry
// by Meta of a message already recorded was counted again. Now the sweeper counts, every run,
// the acks and notices waiting for a switched-off channel, and each message is counted once.

const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';

describe('the ChannelMisconfigured alarm while Messenger acks wait for META_PAGE_ACCESS_TOKEN', () => {
  let sb: TestSwitchboard | undefined;
  let meta: FakeMeta | undefined;

  afterEach(async () => {
    await sb?.stop();
    await meta?.close();
    sb = undefined;
    meta = undefined;
  });

  async function start(metrics?: Metrics) {
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({
      ...(metrics ? { metrics } : {}),
      graphBaseUrl: meta.url,
      env: { NODE_ENV: 'production', AGENT_API_TOKEN: PRODUCTION_TOKEN, SES_FROM_ADDRESS: 'a@example.com' },
    });
    meta.useClock(sb.clock);
    return { sb, off: sb.redeploy(DEFAULT_BUSINESS_CONFIG, { META_PAGE_ACCESS_TOKEN: '' }) };
  }

  it('should count the waiting acknowledgement on every sweeper run, long after the message, and stop once the token is deployed', async () => {
    // Prepare: a Messenger message recorded without the token, its ack waiting; half an hour on
    const { sb, off } = await start();
    expect((await off.postMeta(metaFixture('messenger-text'))).status).toBe(200);
    await off.drain();
    await runFor(sb, off, 30);

    // Act: five sweeper runs a minute apart (the alarm's period); then one of the deployment with the token
    const perRun: number[] = [];
    for (let run = 0; run < 5; run++) {
      const metrics = countingMetrics();
      sb.clock.advance(60_000);
      await sweep({ ...off.runtime.sweepDeps, metrics });
      perRun.push(metrics.total('ChannelMisconfigured'));
    }
    const line = off.log.lines.findLast(
      (entry) => entry.message === 'automatic messages wait for their channel',
    );
    await runFor(sb, sb, 10);
    const fixed = countingMetrics();
    sb.clock.advance(60_000);
    await sweep({ ...sb.runtime.sweepDeps, metrics: fixed });

    // Assess: every run counted it (the alarm stays in alarm), the line says what waits and
    // for what; none once it went
    expect(perRun.every((count) => count > 0)).toBe(true);
    expect(line).toMatchObject({ level: 'error', fields: { channel: 'meta:messenger', waiting: 1 } });
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    expect(fixed.total('ChannelMisconfigured')).toBe(0);
  });

  it('should count a message Meta posts again once, not once per delivery', async () => {
    // Prepare: the deployment without the token counts what its webhook sees
    const metrics = countingMetrics();
    const { off } = await start(metrics);
    expect(off.config.tokenlessChannels.map((entry) => entry.channel)).toEqual(['messenger']);

    // Act: Meta delivers the same message twice (its retry after a slow answer)
    const payload = metaFixture('messenger-text');
    const first = await off.postMeta(payload);
    const again = await off.postMeta(payload);

    // Assess
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(metrics.total('ChannelMisconfigured')).toBe(1);
  });
});
