import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMeta, startFakeMeta } from '#test/support/fake-meta.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { IG_ACCOUNT_ID, messagingEnvelope, messagingTextEvent } from '#test/support/meta-factory.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
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
