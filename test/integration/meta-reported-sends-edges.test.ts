import { afterEach, describe, expect, it } from 'vitest';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { type FakeMeta, startFakeMeta, type TakenSend } from '#test/support/fake-meta.ts';
import { afterCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import { whatsappUserText } from '#test/support/meta-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

/** Meta took the message, then its edge answered 504: our send is uncertain. */
const LOST_ANSWER = { status: 504, gateway: true, taken: true } as const;
const WA_ID = '48601234567';

// Stop 32: the edges Meta's reports of our sends (stop 31) left open: a report whose conversation
// was resolved since the try; two writers meeting, an agent's retry and the report settling the
// same reply; a reply whose request died between storing and applying it, retried after a later one.
describe("Meta's report of a send whose answer was lost, at the edges: a resolve, a retry meeting it, a request that died", () => {
  let sb: TestSwitchboard;
  let meta: FakeMeta;

  afterEach(async () => {
    await sb.stop();
    await meta.close();
  });

  /** A WhatsApp customer's first message, acknowledged (with `lostAck`: one try, its answer lost). */
  async function whatsappCustomerWrites(text: string, lostAck = false): Promise<string> {
    meta = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: meta.url, ...(lostAck ? { maxReceiveCount: 1 } : {}) });
    if (lostAck) meta.failNext(1, LOST_ANSWER);
    meta.useClock(sb.clock);
    const at = Math.floor(sb.clock.now().getTime() / 1000);
    const response = await sb.postMeta(whatsappUserText(text, { number: WA_ID }, 'wamid.CUSTOMER1', at));
    expect(response.status).toBe(200);
    await sb.drain();
    return (await sb.onlyOpenConversation()).id;
  }

  /**
   * A WhatsApp customer's first message, acknowledged; ten minutes on an agent's reply (key k-1)
   * that Meta takes and whose answer is lost: the agents' tool is told 503.
   */
  async function agentReplyAnswerLost(): Promise<{ id: string; reply: TakenSend }> {
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?');
    sb.clock.advance(10 * 60_000);
    meta.failNext(1, LOST_ANSWER);
    const first = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });
    expect(first.status).toBe(503);
    return { id, reply: meta.taken.at(-1) as TakenSend };
  }

  const replySent = async () => (await sb.events()).filter((event) => event.type === 'reply.sent');

  it("should record and announce an agent's WhatsApp reply whose answer was lost when its status comes after the agent resolved the conversation, which stays resolved", async () => {
    // Prepare: the reply is taken, its answer lost (503); the agent resolves the conversation
    const { id, reply } = await agentReplyAnswerLost();
    sb.clock.advance(60_000);
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act: Meta's status of the reply (the agents' tool never retries it)
    sb.clock.advance(30_000);
    const status = await sb.postMeta(meta.webhookOf(reply));

    // Assess: on record under its wamid, announced once, the conversation still resolved
    expect(status.status).toBe(200);
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation?.status).toBe('resolved');
    expect(conversation?.uncertainReplies).toBeUndefined();
    const view = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ kind: string; providerMessageId: string | null }>;
    };
    expect(view.messages.filter((m) => m.kind === 'reply').map((m) => m.providerMessageId)).toEqual([
      reply.id,
    ]);
    expect(await replySent()).toHaveLength(1);
    const types = (await sb.events()).map((event) => event.type);
    expect(types).not.toContain('conversation.reopened');
  });

  it('should record as sent a dead-lettered WhatsApp acknowledgement whose answer was lost when its status comes after the agent resolved the conversation', async () => {
    // Prepare: one try only; Meta takes the ack, its answer is lost: failed, dead-lettered; resolved
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?', true);
    expect((await sb.onlyOpenConversation()).ack).toMatchObject({ state: 'failed' });
    const ack = meta.taken[0] as TakenSend;
    sb.clock.advance(30_000);
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act: Meta's status of the ack
    sb.clock.advance(30_000);
    const status = await sb.postMeta(meta.webhookOf(ack));

    // Assess: sent, announced after the failure it corrects, the conversation still resolved
    expect(status.status).toBe(200);
    const conversation = await sb.runtime.store.getConversation(id);
    expect(conversation).toMatchObject({ status: 'resolved', ack: { state: 'sent' } });
    const types = (await sb.events()).map((event) => event.type);
    expect(types.filter((type) => type.startsWith('ack.'))).toEqual(['ack.failed', 'ack.sent']);
    expect(types).not.toContain('conversation.reopened');
  });

  it("should announce reply.sent once when Meta's status of a reply whose answer was lost settles it at the moment the agent's retry looks for it", async () => {
    // Prepare: the reply is taken, its answer lost (503); its status is noted as Meta sends it
    const { id, reply } = await agentReplyAnswerLost();
    // The status lands while the retry runs: right after the retry found no stored reply
    let status = 0;
    const race = afterCall(
      sb.backends.dynamodb,
      { command: 'GetItemCommand', match: pkStartsWith('MSG#') },
      async () => {
        status = (await sb.postMeta(meta.webhookOf(reply))).status;
      },
    );

    // Act: the agents' tool retries after the wait it was told
    sb.clock.advance(UNCERTAIN_WAIT_MS + 1_000);
    const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });

    // Assess: sent once, recorded once, reply.sent announced once
    expect(race.fired).toBe(true);
    expect([status, retry.status]).toEqual([200, 201]);
    expect(meta.taken).toHaveLength(2); // the ack, the reply
    const sent = await replySent();
    expect(sent.map((event) => event.id)).toHaveLength(1);
    expect((await sb.onlyOpenConversation()).uncertainReplies).toBeUndefined();
  });

  it('should announce reply.sent of a reply whose request died between storing and applying it when its retry comes after a later reply was applied', async () => {
    // Prepare: the first reply goes and is stored; its conversation write fails (the request dies)
    const id = await whatsappCustomerWrites('Dzień dobry, kiedy dostawa?');
    sb.clock.advance(10 * 60_000);
    let crash: ReturnType<typeof injectFault> | undefined;
    afterCall(
      sb.backends.dynamodb,
      { command: 'UpdateItemCommand', match: pkStartsWith('PMID#meta:') },
      async () => {
        crash = injectFault(sb.backends.dynamodb, {
          command: 'PutItemCommand',
          when: 'before',
          match: pkStartsWith('CONV#'),
        });
      },
    );
    const died = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });
    expect(died.status).toBeGreaterThanOrEqual(500);
    expect(crash?.fired).toBe(1);
    // A later reply (another agent's request) is applied two minutes on
    sb.clock.advance(2 * 60_000);
    const later = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Kurier będzie o 9.' },
      { key: 'k-2' },
    );
    expect(later.status).toBe(201);

    // Act: the agents' tool retries the first request
    sb.clock.advance(60_000);
    const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' }, { key: 'k-1' });

    // Assess: nothing sent again; each reply the customer got announced once
    expect(retry.status).toBe(201);
    expect(meta.taken).toHaveLength(3); // the ack, the two replies
    const sent = await replySent();
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((event) => event.data.messageId)).size, 'one for each reply').toBe(2);
  });
});
