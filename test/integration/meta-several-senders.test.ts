import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_PAGE_TOKEN,
  FAKE_PHONE_NUMBER_ID,
  type FakeMeta,
  graphSends,
  startFakeMeta,
} from '#test/support/fake-meta.ts';
import {
  IG_ACCOUNT_ID,
  messagingEnvelope,
  messagingTextEvent,
  PAGE_ID,
  whatsappTo,
} from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_META_APP_ID, type TestSwitchboard } from '#test/support/switchboard.ts';

// Several WhatsApp numbers, Pages and Instagram accounts on one Meta app, all reaching our one
// /webhooks/meta. Until now one of each was answered: a message to the account's second number
// was recorded and never acknowledged (`other-number`), its agent's reply refused (NO_ROUTE);
// one to a second Page was acknowledged with the first Page's token, which Meta refuses. Now
// each customer is answered from the number, Page or account they wrote to, with its token.

const SECOND_NUMBER = '207651463353033';
const UNKNOWN_NUMBER = '308762574464144';
const SECOND_PAGE = '104857600654321';
const UNKNOWN_PAGE = '104857600999999';
const SECOND_IG = '17841400987654321';
const UNKNOWN_IG = '17841400555555555';
const TOKENS = {
  pageA: 'EAAfakePageTokenA0123456789abcdZZ',
  pageB: 'EAAfakePageTokenB0123456789abcdZZ',
  igA: 'EAAfakeIgTokenA0123456789abcdefZZ',
  igB: 'EAAfakeIgTokenB0123456789abcdefZZ',
};

type ApiConversation = {
  id: string;
  ack: { state: string; reason?: string } | null;
  contact: { key: string };
  firstReplyAt?: string;
};
type ApiMessage = { kind: string; delivery?: { status: string } | null };

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

/** Meta's echo of a send, as the Page (Instagram account) `ours` sent it. */
function echoFrom(ours: string, echo: Record<string, unknown>): Record<string, unknown> {
  const body = echo as { entry: Array<{ id: string; messaging: Array<{ sender: { id: string } }> }> };
  for (const entry of body.entry) {
    entry.id = ours;
    for (const event of entry.messaging) event.sender.id = ours;
  }
  return body;
}

async function conversationOf(sb: TestSwitchboard, contactKey: string): Promise<ApiConversation> {
  const { items } = (await (await sb.api('/api/conversations?limit=100')).json()) as {
    items: ApiConversation[];
  };
  const found = items.find((conversation) => conversation.contact.key === contactKey);
  if (!found) throw new Error(`no conversation of ${contactKey}`);
  return found;
}

async function replyCode(response: Response): Promise<[number, string | undefined]> {
  const body = (await response.json()) as { error?: { code: string } };
  return [response.status, body.error?.code];
}

describe('several Meta senders on one deployment', () => {
  let sb: TestSwitchboard | undefined;
  let graph: FakeMeta | undefined;

  afterEach(async () => {
    await sb?.stop();
    await graph?.close();
    sb = undefined;
    graph = undefined;
  });

  it('should acknowledge and reply to each WhatsApp customer from the number they wrote to, and from none to an unknown number', async () => {
    // Prepare: two numbers of the account (one token); a third of it that is not ours to answer
    graph = await startFakeMeta({ phoneNumberIds: [SECOND_NUMBER] });
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: { WHATSAPP_PHONE_NUMBER_IDS: SECOND_NUMBER },
    });

    // Act: one customer writes to each number; an agent answers the second number's customer
    // and the unknown number's
    for (const [number, from, id] of [
      [FAKE_PHONE_NUMBER_ID, '48601234567', 'wamid.first0001'],
      [SECOND_NUMBER, '48602345678', 'wamid.second0001'],
      [UNKNOWN_NUMBER, '48603456789', 'wamid.unknown0001'],
    ] as const) {
      expect((await sb.postMeta(whatsappTo(number, from, id))).status).toBe(200);
      await sb.drain();
    }
    const second = await conversationOf(sb, 'phone:+48602345678');
    const unknown = await conversationOf(sb, 'phone:+48603456789');
    const reply = await sb.act(`/conversations/${second.id}/replies`, { text: 'Tak, wyszła dziś.' });
    const refused = await sb.act(`/conversations/${unknown.id}/replies`, { text: 'Tak, wyszła dziś.' });

    // Assess: each ack and the reply from the customer's number; nothing from the unknown one
    expect(reply.status).toBe(201);
    expect(await replyCode(refused)).toEqual([409, 'NO_ROUTE']);
    expect(unknown.ack).toMatchObject({ state: 'skipped', reason: 'other-number' });
    expect(graphSends(graph).map(({ path, to }) => ({ path, to }))).toEqual([
      { path: `${FAKE_PHONE_NUMBER_ID}/messages`, to: '48601234567' },
      { path: `${SECOND_NUMBER}/messages`, to: '48602345678' },
      { path: `${SECOND_NUMBER}/messages`, to: '48602345678' },
    ]);
  });

  it.each([
    {
      channel: 'messenger',
      object: 'page',
      ours: [PAGE_ID, SECOND_PAGE],
      unknown: UNKNOWN_PAGE,
      env: {
        META_PAGE_ACCESS_TOKEN: '',
        META_PAGE_ACCESS_TOKENS: JSON.stringify({ [PAGE_ID]: TOKENS.pageA, [SECOND_PAGE]: TOKENS.pageB }),
      } as Record<string, string>,
      tokens: [TOKENS.pageA, TOKENS.pageB],
    },
    {
      channel: 'instagram',
      object: 'instagram',
      ours: [IG_ACCOUNT_ID, SECOND_IG],
      unknown: UNKNOWN_IG,
      env: {
        INSTAGRAM_ACCESS_TOKEN: '',
        INSTAGRAM_ACCESS_TOKENS: JSON.stringify({ [IG_ACCOUNT_ID]: TOKENS.igA, [SECOND_IG]: TOKENS.igB }),
      } as Record<string, string>,
      tokens: [TOKENS.igA, TOKENS.igB],
    },
  ] as const)(
    'should answer each $channel customer with the token of the id they wrote to, and not answer one we have no token for',
    async ({ channel, object, ours, unknown, env, tokens }) => {
      // Prepare: a token per Page (Instagram account), and a third one subscribed without a token
      graph = await startFakeMeta({
        tokens: { [tokens[0]]: channel, [tokens[1]]: channel },
      });
      sb = await startTestSwitchboard({ graphBaseUrl: graph.url, env });

      // Act: a customer writes to each; an agent answers the second's and the unknown one's
      const customers = ['7214568800000001', '7214568800000002', '7214568800000003'];
      for (const [i, recipient] of [...ours, unknown].entries()) {
        const event = messagingTextEvent(i, { sender: customers[i], recipient });
        expect((await sb.postMeta(messagingEnvelope([[event]], object, recipient))).status).toBe(200);
        await sb.drain();
      }
      const second = await conversationOf(sb, `${channel}:${customers[1]}`);
      const third = await conversationOf(sb, `${channel}:${customers[2]}`);
      const reply = await sb.act(`/conversations/${second.id}/replies`, { text: 'Już sprawdzam.' });
      const refused = await sb.act(`/conversations/${third.id}/replies`, { text: 'Już sprawdzam.' });

      // Assess: each with its own token; the unknown one recorded, not acknowledged, not replied
      expect(reply.status).toBe(201);
      expect(await replyCode(refused)).toEqual([409, 'NO_ROUTE']);
      expect(third.ack).toMatchObject({ state: 'skipped', reason: 'other-page' });
      expect(graphSends(graph).map(({ token, to }) => ({ token, to }))).toEqual([
        { token: tokens[0], to: customers[0] },
        { token: tokens[1], to: customers[1] },
        { token: tokens[1], to: customers[1] },
      ]);
    },
  );

  it('should still answer every Page not in the map with META_PAGE_ACCESS_TOKEN, as before the map', async () => {
    // Prepare: the one Page token of an existing deployment, and a map naming a second Page
    graph = await startFakeMeta({ tokens: { [TOKENS.pageB]: 'messenger' } });
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: { META_PAGE_ACCESS_TOKENS: JSON.stringify({ [SECOND_PAGE]: TOKENS.pageB }) },
    });

    // Act
    const customers = ['7214568800000011', '7214568800000012'];
    for (const [i, recipient] of [PAGE_ID, SECOND_PAGE].entries()) {
      const event = messagingTextEvent(10 + i, { sender: customers[i], recipient });
      await sb.postMeta(messagingEnvelope([[event]], 'page', recipient));
      await sb.drain();
    }

    // Assess
    expect(graphSends(graph).map(({ token, to }) => ({ token, to }))).toEqual([
      { token: FAKE_PAGE_TOKEN, to: customers[0] },
      { token: TOKENS.pageB, to: customers[1] },
    ]);
  });

  it("should know each Page's echo of our ack and each number's status of it as ours, and a person's inbox reply on the second Page as a reply", async () => {
    // Prepare: two Pages with their tokens and two WhatsApp numbers; a customer of each acknowledged
    graph = await startFakeMeta({
      tokens: { [TOKENS.pageA]: 'messenger', [TOKENS.pageB]: 'messenger' },
      phoneNumberIds: [SECOND_NUMBER],
    });
    sb = await startTestSwitchboard({
      graphBaseUrl: graph.url,
      env: {
        META_PAGE_ACCESS_TOKEN: '',
        META_PAGE_ACCESS_TOKENS: JSON.stringify({ [PAGE_ID]: TOKENS.pageA, [SECOND_PAGE]: TOKENS.pageB }),
        WHATSAPP_PHONE_NUMBER_IDS: SECOND_NUMBER,
      },
    });
    const customers = ['7214568800000021', '7214568800000022'];
    for (const [i, recipient] of [PAGE_ID, SECOND_PAGE].entries()) {
      const event = messagingTextEvent(20 + i, { sender: customers[i], recipient });
      await sb.postMeta(messagingEnvelope([[event]], 'page', recipient));
    }
    await sb.postMeta(whatsappTo(SECOND_NUMBER, '48602345678', 'wamid.second0021'));
    await sb.drain();
    const [pageAck, secondPageAck, numberAck] = graph.taken;
    if (!pageAck || !secondPageAck || !numberAck) throw new Error('Meta took fewer than three acks');

    // Act: Meta's echoes of the Page acks (our app's), the second number's delivered status, then
    // a person's reply typed in the second Page's inbox (no app of ours)
    const echoes = [
      echoFrom(PAGE_ID, graph.webhookOf(pageAck, { appId: TEST_META_APP_ID })),
      echoFrom(SECOND_PAGE, graph.webhookOf(secondPageAck, { appId: TEST_META_APP_ID })),
      graph.webhookOf(numberAck, { status: 'delivered' }),
    ];
    for (const echo of echoes) expect((await sb.postMeta(echo)).status).toBe(200);
    const before = await conversationOf(sb, `messenger:${customers[1]}`);
    const inbox = {
      sender: { id: SECOND_PAGE },
      recipient: { id: customers[1] },
      timestamp: 1763985700000,
      message: { mid: 'm_inbox_0001', is_echo: true, text: 'Dzień dobry, już sprawdzam.' },
    };
    await sb.postMeta(messagingEnvelope([[inbox]], 'page', SECOND_PAGE));

    // Assess: our own sends are no person's reply; the status lands on the ack; the inbox reply counts
    expect(before.firstReplyAt).toBeUndefined();
    expect((await conversationOf(sb, `messenger:${customers[0]}`)).firstReplyAt).toBeUndefined();
    expect((await conversationOf(sb, `messenger:${customers[1]}`)).firstReplyAt).toBeDefined();
    const whatsapp = await conversationOf(sb, 'phone:+48602345678');
    const acks = (await messagesOf(sb, whatsapp.id)).filter((message) => message.kind === 'ack');
    expect(acks.map((message) => message.delivery?.status)).toEqual(['delivered']);
    expect(graph.taken).toHaveLength(3);
  });
});
