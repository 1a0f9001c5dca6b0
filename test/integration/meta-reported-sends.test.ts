import { afterEach, describe, expect, it } from 'vitest';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import {
  IG_ACCOUNT_ID,
  messagingEnvelope,
  messagingTextEvent,
  whatsappUserText,
} from '#test/support/meta-factory.ts';
import { startTestSwitchboard, TEST_META_APP_ID, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiMessage = {
  id: string;
  kind: string;
  text: string;
  providerMessageId: string | null;
  delivery?: { status: string };
};

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

/** Meta took the message, then its edge answered 504: our send is uncertain. */
const LOST_ANSWER = { status: 504, gateway: true, taken: true } as const;
const WA_ID = '48601234567';
const IGSID = '1029384756100001';

// Meta cannot be asked for a message whose answer was lost (Twilio's Messages list can), so an
// uncertain Meta send was sent again after the wait and the customer could get it twice. Meta
// tells us of our own sends by webhook: Messenger's and Instagram's echoes carry the `metadata`
// the send set, WhatsApp's statuses its `biz_opaque_callback_data`. Stop 26.
describe('Meta sends whose answer was lost, reported by their echo or status', () => {
  let sb: TestSwitchboard;
  let meta: FakeMeta;

  afterEach(async () => {
    await sb.stop();
    await meta.close();
  });

  /** Meta's fake and the app sending to it (with `options`, e.g. one try per job). */
  async function start(options: { maxReceiveCount?: number } = {}) {
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, ...options });
    meta.useClock(sb.clock);
  }

  const sendsTo = (path: RegExp) => meta.requests.filter((r) => r.method === 'POST' && path.test(r.path));

  async function whatsappCustomerWrites(text: string): Promise<string> {
    const at = Math.floor(sb.clock.now().getTime() / 1000);
    const response = await sb.postMeta(whatsappUserText(text, { number: WA_ID }, 'wamid.CUSTOMER1', at));
    expect(response.status).toBe(200);
    await sb.drain();
    return (await sb.onlyOpenConversation()).id;
  }

  it('should send a Messenger acknowledgement once and record it once when Meta took it, its answer was lost and its echo came after the try was marked uncertain', async () => {
    // Prepare: Meta takes the ack; its edge answers 504
    await start();
    meta.failNext(1, LOST_ANSWER);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    const waiting = await sb.onlyOpenConversation();
    expect(waiting.ack).toMatchObject({ state: 'pending', reason: 'SEND_UNCERTAIN' });
    const [ack] = meta.taken;

    // Act: Meta's echo of the ack (our app's, with the metadata the send set); the wait passes
    const echo = await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID }));
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: one ack sent, on record under Meta's id, announced once
    expect(echo.status).toBe(200);
    expect(sendsTo(/\/me\/messages$/), 'acks sent to the customer').toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    const acks = (await messagesOf(sb, waiting.id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toEqual([ack?.id]);
    const sent = (await sb.events()).filter((event) => event.type === 'ack.sent');
    expect(sent).toHaveLength(1);
  });

  it('should send an Instagram acknowledgement once when Meta took it, its answer was lost and its echo came without our tag, before Meta delivered that echo again', async () => {
    // Prepare: Meta takes the Instagram ack; its edge answers 504
    await start();
    meta.failNext(1, LOST_ANSWER);
    await sb.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(1, { sender: IGSID, recipient: IG_ACCOUNT_ID, text: 'Czy kurtka jest w M?' })]],
        'instagram',
      ),
    );
    await sb.drain();
    const waiting = await sb.onlyOpenConversation();
    expect(waiting.ack).toMatchObject({ state: 'pending', reason: 'SEND_UNCERTAIN' });
    const ack = meta.taken[0];
    if (!ack) throw new Error('Meta took no ack');
    const text = String((ack.body as { message: { text: string } }).message.text);
    // Instagram's echo of it: no app id, and the metadata our send set left out
    const echo = messagingEnvelope(
      [
        [
          {
            sender: { id: IG_ACCOUNT_ID },
            recipient: { id: IGSID },
            timestamp: sb.clock.now().getTime(),
            message: { mid: ack.id, is_echo: true, text },
          },
        ],
      ],
      'instagram',
    );

    // Act: the echo; the uncertain try's wait passes and the ack's next try runs; Meta delivers
    // the echo again (a 5xx is retried, not at once)
    const first = await sb.postMeta(echo);
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const again = await sb.postMeta(echo);

    // Assess: Meta took the ack once; it is on record under Meta's id; nobody's reply recorded
    expect(meta.taken).toHaveLength(1);
    const messages = await messagesOf(sb, waiting.id);
    expect(messages.map((m) => `${m.kind}:${m.providerMessageId}`)).toEqual([
      expect.stringMatching(/^message:/),
      `ack:${ack.id}`,
    ]);
    expect((await sb.onlyOpenConversation()).firstReplyAt).toBeUndefined();
    expect([first.status, again.status]).toEqual([200, 200]);
  });

  it('should record a Messenger acknowledgement Meta took whose answer was lost as sent, not skipped, when an agent answered before its next try', async () => {
    // Prepare: the ack is taken, its answer lost; its echo comes; an agent answers in the wait
    await start();
    meta.failNext(1, LOST_ANSWER);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const [ack] = meta.taken;
    expect((await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID }))).status).toBe(200);
    sb.clock.advance(60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' })).status).toBe(201);

    // Act: the wait passes; the worker's lookup-only try of the ended episode's ack
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the ack the customer got is on record and announced sent, never skipped
    const acks = (await messagesOf(sb, id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toEqual([ack?.id]);
    const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
    expect(types).toContain('ack.sent');
    expect(types).not.toContain('ack.skipped');
    expect(sendsTo(/\/me\/messages$/)).toHaveLength(2); // the ack, the agent's reply
  });

  it("should send an agent's Instagram reply once and record it once when Meta took it, its answer was lost (503 SEND_UNCERTAIN) and its echo came before the retry", async () => {
    // Prepare: an Instagram customer, acknowledged
    await start();
    await sb.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(1, { sender: IGSID, recipient: IG_ACCOUNT_ID, text: 'Czy kurtka jest w M?' })]],
        'instagram',
      ),
    );
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.advance(10 * 60_000);
    meta.failNext(1, LOST_ANSWER);
    const first = await sb.act(`/conversations/${id}/replies`, { text: 'Tak, jest w M.' }, { key: 'k-1' });
    expect(first.status).toBe(503);
    const reply = meta.taken.at(-1);

    // Act: Meta's echo of the reply (Instagram: no app id, the metadata the send set); the
    // agents' tool retries after the wait it was told
    const echo = await sb.postMeta(meta.webhookOf(reply as never));
    sb.clock.advance(UNCERTAIN_WAIT_MS + 1_000);
    const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Tak, jest w M.' }, { key: 'k-1' });

    // Assess: one reply sent, recorded once under Meta's id, announced once
    expect(echo.status).toBe(200);
    expect(retry.status).toBe(201);
    const replies = sendsTo(/\/me\/messages$/).filter((r) =>
      String((r.body as { message: { text: string } }).message.text).startsWith('Tak, jest w M.'),
    );
    expect(replies, 'replies sent to the customer').toHaveLength(1);
    const stored = (await messagesOf(sb, id)).filter((m) => m.kind === 'reply');
    expect(stored.map((m) => m.providerMessageId)).toEqual([reply?.id]);
    expect((await sb.events()).filter((event) => event.type === 'reply.sent')).toHaveLength(1);
  });

  it('should record a WhatsApp Cloud acknowledgement Meta took whose answer was lost as sent at once when its status came while our request waited, and not send it again', async () => {
    // Prepare: Meta takes the ack and reports it sent and delivered before its answer is lost
    await start();
    meta.failNext(1, LOST_ANSWER);
    meta.onLostAnswer = async (send) => {
      expect((await sb.postMeta(meta.webhookOf(send))).status).toBe(200);
      expect((await sb.postMeta(meta.webhookOf(send, { status: 'delivered' }))).status).toBe(200);
    };

    // Act: the customer writes; the worker sends the ack; later the wait passes
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?');
    const atOnce = (await sb.onlyOpenConversation()).ack;
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: one ack, on record under its wamid with its delivery, announced once
    expect(atOnce, 'recorded by the try itself, no wait').toMatchObject({ state: 'sent' });
    expect(sendsTo(/\/messages$/), 'acks sent to the customer').toHaveLength(1);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'sent' });
    const acks = (await messagesOf(sb, id)).filter((m) => m.kind === 'ack');
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({
      providerMessageId: meta.taken[0]?.id,
      delivery: { status: 'delivered' },
    });
    expect((await sb.events()).filter((event) => event.type === 'ack.sent')).toHaveLength(1);
  });

  it("should send an agent's WhatsApp Cloud reply once when Meta took it, its answer was lost and its statuses came after the 503, and record it with its delivery", async () => {
    // Prepare
    await start();
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?');
    sb.clock.advance(10 * 60_000);
    meta.failNext(1, LOST_ANSWER);
    const first = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });
    expect(first.status).toBe(503);
    const reply = meta.taken.at(-1);

    // Act: its statuses arrive; the agents' tool retries after the wait
    const statuses = [
      await sb.postMeta(meta.webhookOf(reply as never)),
      await sb.postMeta(meta.webhookOf(reply as never, { status: 'read' })),
    ];
    sb.clock.advance(UNCERTAIN_WAIT_MS + 1_000);
    const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });

    // Assess
    expect(statuses.map((s) => s.status)).toEqual([200, 200]);
    expect(retry.status).toBe(201);
    const replies = sendsTo(/\/messages$/).filter((r) =>
      String((r.body as { text?: { body?: string } }).text?.body).startsWith('Jutro rano.'),
    );
    expect(replies, 'replies sent to the customer').toHaveLength(1);
    const stored = (await messagesOf(sb, id)).filter((m) => m.kind === 'reply');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ providerMessageId: reply?.id, delivery: { status: 'read' } });
    expect((await sb.events()).filter((event) => event.type === 'reply.sent')).toHaveLength(1);
  });

  it("should record an agent's Messenger reply whose answer was lost as sent when its echo arrives, though the agent never retries", async () => {
    // Prepare: a Messenger customer, acknowledged; the agent's reply is taken, its answer lost
    await start();
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.advance(10 * 60_000);
    meta.failNext(1, LOST_ANSWER);
    const first = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś.' },
      { key: 'k-1' },
    );
    expect(first.status).toBe(503);
    const reply = meta.taken.at(-1);

    // Act: Meta's echo of it (our app's, with the metadata the send set), delivered twice
    const echoes = [
      await sb.postMeta(meta.webhookOf(reply as never, { appId: TEST_META_APP_ID })),
      await sb.postMeta(meta.webhookOf(reply as never, { appId: TEST_META_APP_ID })),
    ];

    // Assess: on record as sent under Meta's id at once, the episode answered, announced once
    expect(echoes.map((r) => r.status)).toEqual([200, 200]);
    const stored = (await messagesOf(sb, id)).filter((m) => m.kind === 'reply');
    expect(stored.map((m) => m.providerMessageId)).toEqual([reply?.id]);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.awaitingSince).toBeNull();
    expect(conversation.uncertainReplies).toBeUndefined();
    const sent = (await sb.events()).filter((event) => event.type === 'reply.sent');
    expect(sent).toHaveLength(1);
    // The agents' tool retries later after all: finished, never sent again
    sb.clock.advance(UNCERTAIN_WAIT_MS + 1_000);
    const retry = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś.' },
      { key: 'k-1' },
    );
    expect(retry.status).toBe(201);
    expect(meta.taken).toHaveLength(2); // the ack, the reply
    expect((await sb.events()).filter((event) => event.type === 'reply.sent')).toHaveLength(1);
  });

  it('should record a WhatsApp Cloud acknowledgement whose answer was lost as sent when its status arrives, before its next try, and never send it again', async () => {
    // Prepare: Meta takes the ack; its answer is lost; the try is marked uncertain
    await start();
    meta.failNext(1, LOST_ANSWER);
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?');
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({
      state: 'pending',
      reason: 'SEND_UNCERTAIN',
    });
    const [ack] = meta.taken;

    // Act: its status comes a minute later (and again: Meta retries a webhook)
    sb.clock.advance(60_000);
    const statuses = [
      await sb.postMeta(meta.webhookOf(ack as never)),
      await sb.postMeta(meta.webhookOf(ack as never)),
    ];
    const atOnce = (await sb.onlyOpenConversation()).ack;
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: sent with Meta's id when the status came, once, announced once
    expect(statuses.map((r) => r.status)).toEqual([200, 200]);
    expect(atOnce).toMatchObject({ state: 'sent' });
    expect(meta.taken).toHaveLength(1);
    const acks = (await messagesOf(sb, id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toEqual([ack?.id]);
    expect((await sb.events()).filter((event) => event.type === 'ack.sent')).toHaveLength(1);
  });

  it('should record as sent an ended episode’s acknowledgement whose last try lost its answer when its echo comes after its lookup fell due, not skip it', async () => {
    // Prepare: one try only (it goes to the DLQ); Meta takes the ack, its answer is lost
    await start({ maxReceiveCount: 1 });
    meta.failNext(1, LOST_ANSWER);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    const [ack] = meta.taken;
    // An agent answers; the customer writes again: the next episode's ack takes the slot, the
    // first one's lookup is owed, due at once
    sb.clock.advance(60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś.' })).status).toBe(201);
    sb.clock.advance(60_000);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(2, { text: 'A kiedy dojdzie?' })]]));
    await sb.drain();

    // Act: the owed lookup runs before Meta's echo of the first ack comes; then the echo
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const echo = await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID }));
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: the ack the customer got is on record and announced sent, never skipped
    expect(echo.status).toBe(200);
    const acks = (await messagesOf(sb, id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toContain(ack?.id);
    const first = (await sb.events()).filter(
      (event) => event.type.startsWith('ack.') && event.data.episode === 1 && event.type !== 'ack.failed',
    );
    expect(first.map((event) => event.type)).toEqual(['ack.sent']);
  });
  it('should record as sent an acknowledgement whose last try lost its answer and went to the DLQ when its echo comes after', async () => {
    // Prepare: one try only; Meta takes the ack, its answer is lost: failed, dead-lettered
    await start({ maxReceiveCount: 1 });
    meta.failNext(1, LOST_ANSWER);
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { text: 'Gdzie jest moja paczka?' })]]));
    await sb.drain();
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    const [ack] = meta.taken;

    // Act: its echo
    sb.clock.advance(30_000);
    const echo = await sb.postMeta(meta.webhookOf(ack as never, { appId: TEST_META_APP_ID }));

    // Assess: on record as sent under Meta's id, announced sent after the failure it corrects
    expect(echo.status).toBe(200);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'sent' });
    const acks = (await messagesOf(sb, conversation.id)).filter((m) => m.kind === 'ack');
    expect(acks.map((m) => m.providerMessageId)).toEqual([ack?.id]);
    const types = (await sb.events()).map((event) => event.type).filter((type) => type.startsWith('ack.'));
    expect(types).toEqual(['ack.failed', 'ack.sent']);
  });
});
