import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import type { MetricName, Metrics } from '#lib/ports/metrics.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { metaFixture } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Session 32: the ChannelMisconfigured alarm for Messenger (Instagram) without its token was fed
// only by the messages as they came: it fired with them and cleared 5 minutes after the last one
// while their acks kept waiting for the token, and nothing told ops they still waited. A retry
// by Meta of a message already recorded was counted again. Now the sweeper counts, every run,
// the acks and notices waiting for a switched-off channel, and each message is counted once.

const PRODUCTION_TOKEN = 'prod-agent-token-0123456789abcdefghijklmnop';

function countingMetrics(): Metrics & { total: (name: MetricName) => number } {
  const counted: Array<{ name: MetricName; value: number }> = [];
  return {
    count: (name, value = 1) => void counted.push({ name, value }),
    timing: () => {},
    total: (name) =>
      counted.filter((entry) => entry.name === name).reduce((sum, { value }) => sum + value, 0),
  };
}

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
