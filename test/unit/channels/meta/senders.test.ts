import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetaChannel } from '#lib/channels/meta/index.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { PAGE_ID, PSID } from '#test/support/meta-factory.ts';

// Several Pages on one app: a conversation stored before Messenger's routes named our Page id
// (ReplyRoute.businessId) asks the registry for the channel's sender without one. It must still
// go with the token of the Page the customer wrote to (the send's `from`), never another Page's.

const SECOND_PAGE = '104857600654321';
const TOKEN_A = 'EAAfakePageTokenA0123456789abcdZZ';
const TOKEN_B = 'EAAfakePageTokenB0123456789abcdZZ';

const MESSAGE: OutboundText = {
  channel: 'messenger',
  provider: 'meta',
  to: PSID,
  from: SECOND_PAGE,
  text: 'Dzień dobry! Odpowiemy do jutra, 10:00.',
  idempotencyKey: 'msg_01',
};

let meta: FakeMeta;

beforeEach(async () => {
  meta = await startFakeMeta({ tokens: { [TOKEN_A]: 'messenger', [TOKEN_B]: 'messenger' } });
});

afterEach(async () => {
  await meta.close();
});

function channelWith(tokens: Record<string, string>, single?: string) {
  return createMetaChannel({
    appSecret: 'secret',
    verifyToken: 'verify',
    graphBaseUrl: meta.url,
    pageAccessTokens: tokens,
    ...(single ? { pageAccessToken: single } : {}),
  });
}

const tokensUsed = () => meta.requests.map((request) => request.headers.authorization);

describe("Messenger's senders by Page", () => {
  it('should send a route without our id with the token of the Page it came to', async () => {
    // Prepare
    const channel = channelWith({ [PAGE_ID]: TOKEN_A, [SECOND_PAGE]: TOKEN_B });

    // Act
    await channel.senders.messenger?.send(MESSAGE);
    await channel.senders.messenger?.send({ ...MESSAGE, from: PAGE_ID, idempotencyKey: 'msg_02' });

    // Assess
    expect(tokensUsed()).toEqual([`Bearer ${TOKEN_B}`, `Bearer ${TOKEN_A}`]);
  });

  it('should refuse for good, asking nobody, a Page with no token and no single token to fall back on', async () => {
    // Prepare
    const channel = channelWith({ [PAGE_ID]: TOKEN_A });

    // Act
    const refused = await channel.senders.messenger?.send(MESSAGE).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(SendError);
    expect((refused as SendError).permanent).toBe(true);
    expect(meta.requests).toEqual([]);
    expect(channel.sendsFrom('messenger', SECOND_PAGE)).toBe(false);
    expect(channel.sendsFrom('messenger', PAGE_ID)).toBe(true);
  });

  it('should answer a Page the map does not name with the single token', async () => {
    // Prepare
    const channel = channelWith({ [PAGE_ID]: TOKEN_A }, TOKEN_B);

    // Act
    await channel.senders.messenger?.send(MESSAGE);
    await channel
      .senderFor('messenger', PAGE_ID)
      ?.send({ ...MESSAGE, from: PAGE_ID, idempotencyKey: 'msg_02' });

    // Assess
    expect(tokensUsed()).toEqual([`Bearer ${TOKEN_B}`, `Bearer ${TOKEN_A}`]);
    expect(channel.sendsFrom('messenger', SECOND_PAGE)).toBe(true);
  });
});
