import { afterEach, describe, expect, it } from 'vitest';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import {
  FAKE_ACCOUNT_SID,
  FAKE_AUTH_TOKEN,
  type FakeTwilio,
  startFakeTwilio,
} from '#test/support/fake-twilio.ts';
import { IG_ACCOUNT_ID, messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
  replyFailure?: { messageId: string; status: string; errorCode?: string };
  awaitingSince?: string | null;
  ack: { state: string; reason?: string } | null;
};
type ApiMessage = {
  id: string;
  direction: string;
  kind: string;
  text: string;
  providerMessageId: string | null;
  delivery?: { status: string; errorCode?: string };
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

// Everything Switchboard sends (acks, late notices, agents' replies) and what the providers tell
// us about it afterwards. Found by a review of what we send at stop 25.

describe('what we send, and what providers tell us about it', () => {
  let sb: TestSwitchboard;
  let graph: FakeMeta | undefined;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb.stop();
    await graph?.close();
    await twilio?.close();
    graph = undefined;
    twilio = undefined;
  });

  it("should refuse an agent's Instagram reply too long with its signature (422 naming the limit and the signature), and send a fitting one signed, stored as the customer got it", async () => {
    // Prepare: an Instagram customer, acknowledged through the Graph API
    graph = await startFakeMeta();
    sb = await startTestSwitchboard({ graphBaseUrl: graph.url });
    const igsid = '1029384756100001';
    await sb.postMeta(
      messagingEnvelope(
        [[messagingTextEvent(1, { sender: igsid, recipient: IG_ACCOUNT_ID, text: 'Czy kurtka jest w M?' })]],
        'instagram',
      ),
    );
    await sb.drain();
    const [conversation] = await conversations(sb);
    const id = conversation?.id as string;
    sb.clock.advance(20 * 60_000);
    const sentBefore = graph.requests.length;
    // A careful answer of 1,200 characters: the API takes up to 4,000, Instagram 1,000 bytes
    const answer = `${'Sprawdziłam dostępność w naszych sklepach i w magazynie. '.repeat(21)}Pozdrawiam!`;
    expect(answer.length).toBeGreaterThan(1_100);
    expect(answer.length).toBeLessThan(4_000);

    // Act
    const refused = await sb.act(`/conversations/${id}/replies`, { text: answer });
    const error = (
      (await refused.json()) as {
        error: {
          code: string;
          message: string;
          details: { unit: string; limit: number; signature: number; maxText: number };
        };
      }
    ).error;
    // The agent shortens it to what the answer says is left for the text
    let shortened = answer;
    while (new TextEncoder().encode(shortened).length > error.details.maxText)
      shortened = shortened.slice(0, -1);
    const response = await sb.act(`/conversations/${id}/replies`, { text: shortened });

    // Assess: nothing cut, nothing sent for the refused one; whatever goes out is signed by a
    // named person (the API's contract), and the conversation shows what the customer received
    expect(refused.status).toBe(422);
    expect(error).toMatchObject({ code: 'TEXT_TOO_LONG', details: { unit: 'bytes', limit: 1000 } });
    expect(error.details.signature).toBeGreaterThan(10);
    expect(error.message).toContain('1000');
    expect(response.status).toBe(201);
    expect(graph.requests).toHaveLength(sentBefore + 1);
    const sent = graph.requests.at(-1)?.body as { message: { text: string } };
    const stored = (await messagesOf(sb, id)).find((m) => m.kind === 'reply');
    expect(sent.message.text).toContain('Anna Kowalska');
    expect(stored?.text).toBe(sent.message.text);
    expect(new TextEncoder().encode(sent.message.text).length).toBeLessThanOrEqual(1000);
  });

  it("should refuse an agent's SMS reply over Twilio's 1,600 characters with its signature before calling Twilio (it would answer 21617)", async () => {
    // Prepare
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const [conversation] = await conversations(sb);
    const sentBefore = twilio.requests.length;

    // Act: 1,590 characters fit the API's 4,000, not 1,600 with a signature
    const response = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'a'.repeat(1590) });

    // Assess
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      error: { code: 'TEXT_TOO_LONG', details: { unit: 'chars', limit: 1600 } },
    });
    expect(twilio.requests).toHaveLength(sentBefore);
  });

  // Stop 29: the provider's refusal was told only inside the English message, so a tool (the
  // inbox, in Polish) could not say why in its own words.
  it("should name the provider and its code in the details of an agent's reply the provider refused (422 PROVIDER_REJECTED)", async () => {
    // Prepare: the customer has since unsubscribed at Twilio (21610)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const [conversation] = await conversations(sb);
    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    // Act
    const response = await sb.act(`/conversations/${conversation?.id}/replies`, { text: 'Dzień dobry' });

    // Assess
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      error: {
        code: 'PROVIDER_REJECTED',
        details: { provider: 'twilio', reason: 'SEND_REJECTED:21610' },
      },
    });
  });

  it('should not text the acknowledgement twice when Twilio took it but its answer did not arrive in time (the send is looked up, not repeated)', async () => {
    // Prepare: Twilio accepts the first send (the customer's phone gets it), but its answer is
    // lost on the way back: the attempt ends as a timeout, as a slow or dropped answer does
    twilio = await startFakeTwilio();
    let lostAnswers = 1;
    const slowAnswer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/Messages.json') && lostAnswers > 0) {
        lostAnswers--;
        await response.text();
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      return response;
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: slowAnswer });

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess: docs/store.md says the only double-send window is a worker dying in the
    // milliseconds between Twilio's answer and one DynamoDB write; one ack per episode
    const toCustomer = twilio.requests.filter((request) => request.form.To === '+48601234567');
    expect(toCustomer.map((request) => request.form.Body)).toHaveLength(1);
  });

  it('should text the acknowledgement once, after the wait, when the try whose answer was lost never reached Twilio', async () => {
    // Prepare: the first try ends in a timeout before Twilio took anything
    twilio = await startFakeTwilio();
    let lost = 1;
    const lostOnTheWay: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/Messages.json') && init?.method === 'POST' && lost-- > 0) {
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      return fetch(input, init);
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: lostOnTheWay });
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const waiting = (await conversations(sb))[0];

    // Act: the wait passes; the sweeper queues the ack again
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: Twilio was asked twice (right after the lost try, and before the next) and had
    // nothing, so the ack went once
    expect(waiting?.ack).toMatchObject({ state: 'pending', reason: 'SEND_UNCERTAIN' });
    const lookups = twilio.requests.filter((request) => request.method === 'GET');
    const toCustomer = twilio.requests.filter((request) => request.form.To === '+48601234567');
    expect(lookups).toHaveLength(2);
    expect(toCustomer).toHaveLength(1);
    expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'sent' });
  });

  it('should adopt the acknowledgement Twilio took, after the wait, when Twilio could not be asked right after the lost answer', async () => {
    // Prepare: Twilio takes the first try, its answer is lost, and the lookup right after fails
    twilio = await startFakeTwilio();
    let lostAnswers = 1;
    let failedLookups = 1;
    const flaky: typeof fetch = async (input, init) => {
      const lookup = String(input).includes('/Messages.json?');
      if (lookup && failedLookups-- > 0)
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      const response = await fetch(input, init);
      if (!lookup && String(input).endsWith('/Messages.json') && lostAnswers-- > 0) {
        await response.text();
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      return response;
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: flaky });
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Act
    sb.clock.advance(UNCERTAIN_WAIT_MS + 60_000);
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();

    // Assess: one text, recorded under the SID Twilio gave it, so its status callbacks find it
    const posts = twilio.requests.filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(1);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'sent' });
    const ack = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'ack');
    expect(ack?.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(ack?.text).toBe(posts[0]?.form.Body);
    const listed = (await (
      await fetch(`${twilio.url}/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages.json`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${FAKE_ACCOUNT_SID}:${FAKE_AUTH_TOKEN}`).toString('base64')}`,
        },
      })
    ).json()) as { messages: Array<{ sid: string }> };
    expect(listed.messages.map((message) => message.sid)).toEqual([ack?.providerMessageId]);
  });

  it("should not send an agent's reply twice when Twilio's answer is lost: adopted when Twilio has it, else 503 SEND_UNCERTAIN and sent by the same key's retry only after the wait", async () => {
    // Prepare: an acknowledged SMS customer; the reply's first try is lost before Twilio, the
    // second try (another reply) is taken by Twilio with its answer lost
    twilio = await startFakeTwilio();
    let mode: 'normal' | 'lost-before' | 'lost-after' = 'normal';
    const flaky: typeof fetch = async (input, init) => {
      const post = String(input).endsWith('/Messages.json') && init?.method === 'POST';
      const current = mode;
      if (post && current !== 'normal') mode = 'normal';
      if (post && current === 'lost-before')
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      const response = await fetch(input, init);
      if (post && current === 'lost-after') {
        await response.text();
        throw new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } });
      }
      return response;
    };
    sb = await startTestSwitchboardThroughTwilio(twilio, { fetch: flaky });
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const id = (await conversations(sb))[0]?.id as string;
    sb.clock.advance(30 * 60_000);
    const posts = () => twilio?.requests.filter((request) => request.method === 'POST').length ?? 0;
    const afterAck = posts();

    // Act: the lost try (it never reached Twilio), its early retry, its retry after the wait
    mode = 'lost-before';
    const first = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1' },
    );
    const early = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1' },
    );
    const sentEarly = posts();
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    const late = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1' },
    );
    // Act: a reply Twilio takes, its answer lost
    mode = 'lost-after';
    const taken = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Kurier będzie jutro.' },
      { key: 'reply-2' },
    );

    // Assess
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe(String(UNCERTAIN_WAIT_MS / 1000));
    expect(await first.json()).toMatchObject({ error: { code: 'SEND_UNCERTAIN' } });
    expect(early.status).toBe(503);
    expect(sentEarly).toBe(afterAck);
    expect(late.status).toBe(201);
    expect(taken.status).toBe(201);
    expect(posts()).toBe(afterAck + 2);
    const replies = (await messagesOf(sb, id)).filter((m) => m.kind === 'reply');
    expect(replies).toHaveLength(2);
    for (const reply of replies) expect(reply.providerMessageId).toMatch(/^SM/);
  });

  it("should tell the agents' tool when Twilio reports an agent's reply undelivered", async () => {
    // Prepare: a customer's SMS, acknowledged; an agent answers through the API
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const [conversation] = await conversations(sb);
    const id = conversation?.id as string;
    sb.clock.advance(30 * 60_000);
    const replied = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' });
    expect(replied.status).toBe(201);
    const reply = (await messagesOf(sb, id)).find((m) => m.kind === 'reply');

    // Act: the carrier could not deliver it (30003: unreachable handset)
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: reply?.providerMessageId as string,
      ErrorCode: '30003',
    });

    // Assess: the reply never reached the customer, whose conversation now reads as answered
    // (no late notice, the promise counted as kept). An undelivered ack is announced
    // (ack.failed); the reply the customer waited for is announced by nothing
    expect(status.status).toBe(200);
    expect((await messagesOf(sb, id)).find((m) => m.kind === 'reply')?.delivery).toMatchObject({
      status: 'undelivered',
      errorCode: '30003',
    });
    const afterReply = (await sb.events()).filter(
      (event) => event.data.messageId === reply?.id && event.type !== 'reply.sent',
    );
    expect(
      afterReply.map((event) => event.type),
      'events that tell the agents tool the reply did not reach the customer',
    ).not.toEqual([]);
    expect(afterReply.map((event) => event.type)).toEqual(['reply.failed']);
    expect(afterReply[0]?.data).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    const [after] = await conversations(sb);
    expect(after).toMatchObject({
      replyFailure: { messageId: reply?.id, status: 'undelivered', errorCode: '30003' },
    });
    // Twilio's retry of the same callback announces nothing more
    await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: reply?.providerMessageId as string,
      ErrorCode: '30003',
    });
    expect((await sb.events()).filter((event) => event.type === 'reply.failed')).toHaveLength(1);
  });

  it("should keep replyFailure on the latest failed reply when an older reply's undelivered status arrives after it", async () => {
    // Prepare: a review of stop 25's reply failures. An acknowledged SMS customer; an agent
    // sends two replies
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const id = (await conversations(sb))[0]?.id as string;
    sb.clock.advance(30 * 60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' })).status).toBe(
      201,
    );
    sb.clock.advance(60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Kurier będzie jutro.' })).status).toBe(201);
    const replies = (await messagesOf(sb, id)).filter((m) => m.kind === 'reply');
    const first = replies.find((m) => m.text.startsWith('Paczka'));
    const second = replies.find((m) => m.text.startsWith('Kurier'));

    // Act: the later reply is reported failed; then the carrier's late report on the earlier one
    await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: second?.providerMessageId as string,
      ErrorCode: '30003',
    });
    sb.clock.advance(60_000);
    await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: first?.providerMessageId as string,
      ErrorCode: '30005',
    });

    // Assess: docs: replyFailure is "the latest agent's reply the provider reported undelivered
    // or failed"; an older reply's report does not replace it, but is announced
    expect((await conversations(sb))[0]?.replyFailure).toMatchObject({
      messageId: second?.id,
      errorCode: '30003',
    });
    const failed = (await sb.events()).filter((event) => event.type === 'reply.failed');
    expect(failed.map((event) => event.data.messageId)).toEqual([second?.id, first?.id]);
  });

  it("should not show an older reply's failure reported after a later reply was recorded", async () => {
    // Prepare: a review of stop 25's reply failures. Two replies, both taken by Twilio
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const id = (await conversations(sb))[0]?.id as string;
    sb.clock.advance(30 * 60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' })).status).toBe(
      201,
    );
    sb.clock.advance(60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Kurier będzie jutro.' })).status).toBe(201);
    const first = (await messagesOf(sb, id)).find((m) => m.text.startsWith('Paczka'));

    // Act: the carrier's late report on the earlier one
    await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: first?.providerMessageId as string,
      ErrorCode: '30005',
    });

    // Assess: the later reply went where the earlier did not: nothing for a person to act on
    expect((await conversations(sb))[0]?.replyFailure).toBeUndefined();
    expect((await sb.events()).filter((event) => event.type === 'reply.failed')).toHaveLength(1);
  });

  it('should keep an ack Twilio refused for our Geo Permissions (error 21408) retryable, not failed for good as if the customer were unreachable', async () => {
    // Prepare: a German customer writes to a Polish business whose Twilio account has not
    // enabled Germany in Messaging Geo Permissions yet (Twilio: "resolved entirely in Console")
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    twilio.failNext(1, {
      status: 400,
      code: 21408,
      message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    });

    // Act
    await sb.postSms({ From: '+4915112345678', Body: 'Guten Tag, wo ist meine Bestellung?' });
    await sb.drain();

    // Assess: docs/channels.md, "A refused acknowledgement": refused for our own permissions or
    // account it is never failed for good (retried, then kept in the ack DLQ for a redrive once
    // fixed); only a refusal about the customer fails at once
    const [conversation] = await conversations(sb);
    expect(conversation?.ack?.reason).not.toBe('SEND_REJECTED:21408');
    expect(conversation?.ack?.state).not.toBe('failed');
  });

  it('should skip, not fail, a Twilio WhatsApp ack that Twilio reports outside the 24-hour window (63016)', async () => {
    // Prepare: a WhatsApp customer through Twilio, acknowledged (Twilio took the send)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: 'whatsapp:+48601234567',
      To: 'whatsapp:+48221234567',
    });
    await sb.drain();
    const [conversation] = await conversations(sb);
    const ack = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'ack');
    expect(ack?.providerMessageId).toMatch(/^SM/);

    // Act: WhatsApp refused it afterwards: the window had closed (63016, Twilio's 131047)
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId as string,
      SmsSid: ack?.providerMessageId as string,
      MessageStatus: 'failed',
      SmsStatus: 'failed',
      ErrorCode: '63016',
      To: 'whatsapp:+48601234567',
      From: 'whatsapp:+48221234567',
    });

    // Assess: docs/channels.md, "24-hour window" (WhatsApp via Twilio among them): an ack the
    // provider refuses for the closed window is skipped, outside-window, never failed; the
    // WhatsApp Cloud API's 131047 in a failed status is treated so
    expect(status.status).toBe(200);
    expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'skipped', reason: 'outside-window' });
  });
});
