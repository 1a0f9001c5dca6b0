import { DeleteItemCommand, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { stableId } from '#lib/domain/ids.ts';
import { TestClock } from '#test/support/clock.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import { mailgunFixture, signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

// The agents' side at its edges: the API, its OpenAPI contract and the idempotency of acting
// calls, as an agent and an agents' tool use them. Found by a review of the agents' side at
// stop 25.

type Json = Record<string, unknown>;
type ApiConversation = { id: string; status: string; replyBy: string | null };
type ApiMessage = { kind: string; text: string; createdAt: string };
type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
  components: { schemas: Record<string, Json> };
};

const MINUTE = 60_000;

/** A component schema reference made standalone for z.fromJSONSchema (test/http/openapi.test.ts). */
function standalone(schema: Json, components: Record<string, Json>): Json {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === '$ref' && typeof value === 'string'
          ? value.replace('#/components/schemas/', '#/$defs/')
          : rewrite(value),
      ]),
    );
  };
  return { ...(rewrite(schema) as Json), $defs: rewrite(components) };
}

describe("the agents' API at its edges", () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  async function conversation(
    id: string,
  ): Promise<{ conversation: ApiConversation; messages: ApiMessage[] }> {
    return (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      conversation: ApiConversation;
      messages: ApiMessage[];
    };
  }

  /** A new SMS customer, acknowledged; the conversation's id. */
  async function smsCustomer(from = '+48601234567'): Promise<string> {
    await sb.postSms({ From: from, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: ApiConversation[] };
    return items[0]?.id as string;
  }

  /** Whether `response` is an answer the OpenAPI document lists for the operation, its error code included. */
  async function documentedAnswer(method: string, template: string, response: Response) {
    const doc = (await (await sb.runtime.app.request('/api/openapi.json')).json()) as OpenApi;
    const documented = doc.paths[template]?.[method]?.responses[String(response.status)] as
      | { content?: Record<string, { schema: Json }>; 'x-error-codes'?: string[] }
      | undefined;
    const json = (await response.json()) as { error?: { code?: string } };
    const schema = documented?.content?.['application/json']?.schema;
    return {
      status: response.status,
      statusDocumented: documented !== undefined,
      bodyMatches:
        schema !== undefined &&
        z.fromJSONSchema(standalone(schema, doc.components.schemas)).safeParse(json).success,
      code: json.error?.code,
      codeDocumented:
        json.error?.code !== undefined && documented?.['x-error-codes']?.includes(json.error.code),
    };
  }

  it('should answer replyBy null once an agent has replied, as the documented Conversation says ("null when nobody waits")', async () => {
    // Prepare: the contract an agents' tool reads
    sb = await startTestSwitchboard();
    const doc = (await (await sb.runtime.app.request('/api/openapi.json')).json()) as OpenApi;
    const replyByDoc = JSON.stringify(
      (doc.components.schemas.Conversation as { properties: Json }).properties.replyBy,
    );
    const id = await smsCustomer();
    sb.clock.advance(20 * MINUTE);

    // Act: the customer is answered, and nobody waits any more
    const reply = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' });
    const waiting = (await (await sb.api('/api/conversations?awaiting=true')).json()) as { items: unknown[] };
    const shown = await conversation(id);

    // Assess: no promise pending on the answered conversation (the inbox showed "reply by …")
    expect(replyByDoc).toContain('null when nobody waits');
    expect(reply.status).toBe(201);
    expect(waiting.items).toEqual([]);
    expect(shown.conversation.replyBy).toBeNull();
  });

  it('should answer a new reply under an Idempotency-Key that outlived its 24-hour record by sending it, never with the old one', async () => {
    // Prepare: a reply under key "reply-1"; a day later the customer writes again and the tool
    // (which keeps keys per its own reply ids) sends a new reply under the same key. The
    // idempotency record is gone by then (TTL 24 h: deleted here as DynamoDB's TTL deletes it);
    // the reply's message id derived from the key alone, so the new text was taken for a retry
    // of the old one: 201 with the old message, nothing sent.
    sb = await startTestSwitchboard();
    const id = await smsCustomer();
    const first = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1' },
    );
    sb.clock.advance(25 * 60 * MINUTE);
    await sb.postSms({ From: '+48601234567', Body: 'A kiedy dojdzie?' });
    await sb.drain();
    const { Items } = await sb.backends.dynamodb.send(new ScanCommand({ TableName: sb.backends.tableName }));
    for (const item of Items ?? []) {
      const expired = Number(item.expiresAt?.N ?? Number.POSITIVE_INFINITY) * 1000 < sb.clock.now().getTime();
      if (item.pk?.S?.startsWith('IDEM#') && expired) {
        await sb.backends.dynamodb.send(
          new DeleteItemCommand({
            TableName: sb.backends.tableName,
            Key: { pk: { S: item.pk.S }, sk: { S: 'IDEM' } },
          }),
        );
      }
    }

    // Act
    const second = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Jutro do 12:00.' },
      { key: 'reply-1' },
    );

    // Assess: either refused as a reused key (422) or sent; never "sent" with nothing sent
    const texts = (await sb.outbox()).map((entry) => entry.text ?? '');
    const outcome =
      second.status === 422
        ? 'refused'
        : texts.some((text) => text.startsWith('Jutro do 12:00.'))
          ? 'sent'
          : 'dropped';
    expect(first.status).toBe(201);
    expect(second.status).toBeLessThan(500);
    expect(['refused', 'sent']).toContain(outcome);
    expect((await conversation(id)).conversation).toMatchObject({ status: 'open' });
  });

  it('should answer a body that is not JSON on an acting call with the documented 400 INVALID_REQUEST', async () => {
    // Prepare: the admin and webhook routes answered such a body 400 INVALID_REQUEST, the
    // acting calls MALFORMED_PAYLOAD, which the OpenAPI document lists nowhere.
    sb = await startTestSwitchboard();
    const id = await smsCustomer();

    // Act: a truncated body, as a client that lost the end of it sends
    const response = await sb.runtime.app.request(`/api/conversations/${id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: '{"text": "Paczka wyszła dziś rano."',
    });

    // Assess
    const answer = await documentedAnswer('post', '/api/conversations/{id}/replies', response);
    expect(answer).toMatchObject({ status: 400, statusDocumented: true, bodyMatches: true });
    expect(answer).toMatchObject({ codeDocumented: true });
  });

  it('should document the 413 an acting call answers for a body over 64 KB', async () => {
    // Prepare: the acting routes refuse bodies over MAX_ACTION_BODY_BYTES with 413
    // PAYLOAD_TOO_LARGE; the document listed 413 for the admin and webhook routes only, so a
    // generated client had no type for this answer.
    sb = await startTestSwitchboard();
    const id = await smsCustomer();

    // Act
    const response = await sb.runtime.app.request(`/api/conversations/${id}/notes`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({ text: 'x'.repeat(70_000) }),
    });

    // Assess
    const answer = await documentedAnswer('post', '/api/conversations/{id}/notes', response);
    expect(answer).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(answer).toMatchObject({ statusDocumented: true, codeDocumented: true });
  });

  it("should not send the automatic acknowledgement to a customer who answers an agent's follow-up minutes after it", async () => {
    // Prepare: a conversation answered and resolved; two hours later Anna sends a follow-up on it
    // (a resolved conversation may be answered). The customer answers two minutes later; their
    // message opens a new conversation (the old one is resolved). The quiet time after a
    // person's reply (quietMinutesAfterReply, 10) looked only at the conversation the message
    // goes to, so it was acknowledged.
    sb = await startTestSwitchboard();
    const id = await smsCustomer();
    sb.clock.advance(30 * MINUTE);
    await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' });
    await sb.act(`/conversations/${id}/resolve`, {});
    sb.clock.advance(2 * 60 * MINUTE);
    const followUp = await sb.act(`/conversations/${id}/replies`, {
      text: 'Paczka jest już w paczkomacie, kod odbioru 1234.',
    });
    const sentBefore = (await sb.outbox()).length;

    // Act: two minutes after the follow-up
    sb.clock.advance(2 * MINUTE);
    await sb.postSms({ From: '+48601234567', Body: 'Dziękuję! Czy mogę ją odebrać jutro?' });
    await sb.drain();

    // Assess: the person's words are the last the customer heard, not "we got your message"
    expect(followUp.status).toBe(201);
    const sentAfter = (await sb.outbox()).slice(sentBefore).map((entry) => entry.text);
    expect(sentAfter).toEqual([]);
  });

  it("should show an agent the subject of a customer's mail", async () => {
    // Prepare: a mail whose subject says what it is about, the body only what is attached. The
    // message item keeps `email.subject` (normalize-mail.ts) and the reply goes "Re:" it, but
    // the message view carried no field that holds it.
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    const form = mailgunFixture('reply-polish');
    form.set('Subject', 'Reklamacja zamówienia 1234: pęknięty ekran');
    form.set('subject', 'Reklamacja zamówienia 1234: pęknięty ekran');
    expect((await sb.postMailgun(signMailgun(form))).status).toBe(200);
    await sb.drain();
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: ApiConversation[] };
    const id = items[0]?.id as string;
    const stored = await sb.runtime.store.listMessages(id, { limit: 10 });

    // Act
    const shown = await conversation(id);

    // Assess
    expect(stored[0]?.email?.subject).toBe('Reklamacja zamówienia 1234: pęknięty ekran');
    const inbound = shown.messages.find((message) => message.kind === 'message');
    expect(JSON.stringify(inbound)).toContain('Reklamacja zamówienia 1234: pęknięty ekran');
    expect(inbound).toMatchObject({ subject: 'Reklamacja zamówienia 1234: pęknięty ekran' });
  });

  it("should name the contact's open conversation in details.conversationId when a reopen is refused, as a refused reply does", async () => {
    // Prepare: the customer's first conversation is resolved, and they have since opened a new
    // one. A reply on the old one answers 409 CONTACT_HAS_OPEN_CONVERSATION with the open one's
    // id in details.conversationId; a reopen answered the same code with the id only in its
    // message, which a tool must never parse ("branch on code, never on message").
    sb = await startTestSwitchboard();
    const first = await smsCustomer();
    await sb.act(`/conversations/${first}/resolve`, {});
    sb.clock.advance(5 * MINUTE);
    await sb.postSms({ From: '+48601234567', Body: 'Jednak mam jeszcze pytanie.' });
    await sb.drain();
    const second = (await sb.onlyOpenConversation()).id;

    // Act
    const reply = await sb.act(`/conversations/${first}/replies`, {
      text: 'Dzień dobry, w czym mogę pomóc?',
    });
    const reopen = await sb.act(`/conversations/${first}/reopen`);

    // Assess: one code, one shape
    const replyError = ((await reply.json()) as { error: { code: string; details?: unknown } }).error;
    const reopenError = ((await reopen.json()) as { error: { code: string; details?: unknown } }).error;
    expect([reply.status, reopen.status]).toEqual([409, 409]);
    expect(replyError).toMatchObject({
      code: 'CONTACT_HAS_OPEN_CONVERSATION',
      details: { conversationId: second },
    });
    expect(reopenError).toMatchObject({
      code: 'CONTACT_HAS_OPEN_CONVERSATION',
      details: { conversationId: second },
    });
  });

  it('should announce a note to downstream tools once (note.added), a retry of the request included', async () => {
    // Prepare: a note stored nothing but its message, so a tool never heard of another tool's
    // notes (a reviewer's suspicion, stop 25)
    sb = await startTestSwitchboard();
    const id = await smsCustomer();

    // Act: the note, and the retry of its request
    const first = await sb.act(`/conversations/${id}/notes`, { text: 'Klient VIP.' }, { key: 'note-1' });
    const retry = await sb.act(`/conversations/${id}/notes`, { text: 'Klient VIP.' }, { key: 'note-1' });

    // Assess
    const { message } = (await first.json()) as { message: { id: string } };
    expect([first.status, retry.status]).toEqual([201, 201]);
    const notes = (await sb.events()).filter((event) => event.type === 'note.added');
    expect(notes).toEqual([
      expect.objectContaining({ conversationId: id, data: { messageId: message.id, agent: null } }),
    ]);
  });
});

// Found at stop 25 (a review of this stop's own changes): a reply's id derives from the API key,
// the Idempotency-Key and the body since this stop, so the retry, after the deploy, of a request
// that stored its reply before it (under the id from the keys alone) and died with a 5xx sent
// the reply again.
describe('replies and notes retried across the deploy that changed their ids (stop 25)', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  /** A new SMS customer, acknowledged and waiting 20 minutes; the conversation's id. */
  async function waitingCustomer(): Promise<string> {
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie jest paczka?' });
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(20 * MINUTE);
    return id;
  }

  /** Moves a stored message to the id a release before stop 25 gave it (from the keys alone), as that release stored it. */
  async function storeAsBeforeStop25(
    messageId: string,
    kind: 'reply' | 'note',
    conversationId: string,
    key: string,
  ) {
    const table = sb.backends.tableName;
    const oldId = stableId('msg', `${kind}:${conversationId}:bootstrap:${key}`);
    const raw = unmarshall(
      (
        await sb.backends.dynamodb.send(
          new GetItemCommand({ TableName: table, Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }) }),
        )
      ).Item ?? {},
    );
    const rewritten = JSON.parse(JSON.stringify(raw).replaceAll(messageId, oldId)) as Record<string, unknown>;
    await sb.backends.dynamodb.send(
      new PutItemCommand({ TableName: table, Item: marshall(rewritten, { removeUndefinedValues: true }) }),
    );
    await sb.backends.dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }) }),
    );
    expect((await sb.runtime.store.getMessage(oldId))?.kind).toBe(kind);
    return oldId;
  }

  async function stored(conversationId: string, kind: 'reply' | 'note') {
    return (await sb.runtime.store.listMessages(conversationId, { limit: 100 })).filter(
      (m) => m.kind === kind,
    );
  }

  it('should not send a reply again when its retry, after a 5xx, comes after the deploy that changed reply ids (stored under the key-only id)', async () => {
    // Prepare: a reply is sent and stored, then its request dies (500) before it answers; it was
    // stored by the release before stop 25, under the id it derived from the keys alone
    const id = await waitingCustomer();
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('PMID#'),
    });
    const died = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła wczoraj.' },
      { key: 'k-deploy' },
    );
    crash.remove();
    expect(died.status).toBe(500);
    const replies = await stored(id, 'reply');
    expect(replies).toHaveLength(1);
    await storeAsBeforeStop25(replies[0]?.id as string, 'reply', id, 'k-deploy');

    // Act: after the deploy, the tool retries the same request under the same key
    sb.clock.advance(MINUTE);
    const retried = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła wczoraj.' },
      { key: 'k-deploy' },
    );

    // Assess: the customer got the reply once
    expect(retried.status).toBe(201);
    const sent = (await sb.outbox()).filter((entry) =>
      (entry.text ?? '').startsWith('Paczka wyszła wczoraj.'),
    );
    expect(sent).toHaveLength(1);
    expect(await stored(id, 'reply')).toHaveLength(1);
  });

  it('should not add a note twice when its retry, after a 5xx, comes after the deploy that changed note ids', async () => {
    // Prepare: the note is stored, then its request dies before announcing it
    const id = await waitingCustomer();
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });
    const died = await sb.act(`/conversations/${id}/notes`, { text: 'Klient VIP.' }, { key: 'n-deploy' });
    crash.remove();
    expect(died.status).toBe(500);
    const notes = await stored(id, 'note');
    expect(notes).toHaveLength(1);
    const oldId = await storeAsBeforeStop25(notes[0]?.id as string, 'note', id, 'n-deploy');

    // Act
    const retried = await sb.act(`/conversations/${id}/notes`, { text: 'Klient VIP.' }, { key: 'n-deploy' });

    // Assess: one note, the one stored, announced
    expect(retried.status).toBe(201);
    expect((await stored(id, 'note')).map((note) => note.id)).toEqual([oldId]);
    const announced = (await sb.events()).filter((event) => event.type === 'note.added');
    expect(announced.map((event) => event.data.messageId)).toEqual([oldId]);
  });

  it('should send a new reply under a key whose 24-hour record expired but is not deleted yet, though a reply under its key-only id exists', async () => {
    // Prepare: a reply under "reply-1", stored as the release before stop 25 stored it; a day
    // later the customer writes again. DynamoDB's TTL has not deleted the expired record yet
    // (it takes up to days).
    const id = await waitingCustomer();
    const first = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Paczka wyszła dziś rano.' },
      { key: 'reply-1' },
    );
    expect(first.status).toBe(201);
    await storeAsBeforeStop25((await stored(id, 'reply'))[0]?.id as string, 'reply', id, 'reply-1');
    sb.clock.advance(25 * 60 * MINUTE);
    await sb.postSms({ From: '+48601234567', Body: 'A kiedy dojdzie?' });
    await sb.drain();

    // Act: a new reply under the same key
    const second = await sb.act(
      `/conversations/${id}/replies`,
      { text: 'Jutro do 12:00.' },
      { key: 'reply-1' },
    );

    // Assess: a new request, sent (never taken for the old reply, nor refused as a reused key)
    expect(second.status).toBe(201);
    const texts = (await sb.outbox()).map((entry) => entry.text ?? '');
    expect(texts.filter((text) => text.startsWith('Jutro do 12:00.'))).toHaveLength(1);
    expect(await stored(id, 'reply')).toHaveLength(2);
  });
});

// Found at stop 25 (a review of this stop's own changes): a message the worker recorded late
// sits among the messages by when it was received, maybe past the page a tool read, and a tool
// that sent the newest createdAt it had (the contract before stop 25) or could not reach the
// late one was refused 409 CUSTOMER_WROTE on every try, with nothing to tell it what to read.
describe('resolving a conversation with a message recorded late past the page read', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should name in the 409 the seenUntil that would pass, the time the late message was recorded', async () => {
    // Prepare: the customer's first message is queued for the worker (the store refused it);
    // six more follow a minute apart; the worker records the first ten minutes after it came
    sb = await startTestSwitchboard();
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });
    await sb.postSms({
      MessageSid: twilioSid('SM'),
      From: '+48601234567',
      Body: 'Zamówienie 4411: gdzie jest?',
    });
    fault.remove();
    for (let minute = 1; minute <= 6; minute++) {
      sb.clock.advance(MINUTE);
      await sb.postSms({ MessageSid: twilioSid('SM'), From: '+48601234567', Body: `Jeszcze ${minute}` });
    }
    sb.clock.advance(4 * MINUTE);
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    const page = (await (await sb.api(`/api/conversations/${id}?limit=5`)).json()) as {
      messages: Array<{ direction: string; text: string; createdAt: string; recordedAt?: string }>;
    };
    // The newest of the customer's messages on the page (our ack went when the late one was recorded)
    const seenUntil = page.messages
      .filter((m) => m.direction === 'inbound')
      .map((m) => m.recordedAt ?? m.createdAt)
      .sort()
      .at(-1) as string;

    // Act: resolve with what the page showed, then with what the 409 names
    const refused = await sb.act(`/conversations/${id}/resolve`, { seenUntil });
    const { error } = (await refused.json()) as { error: { code: string; details?: { seenUntil?: string } } };
    const late = (await sb.runtime.store.listMessages(id, { limit: 100 })).find((m) => m.recordedAt);
    const resolved = await sb.act(`/conversations/${id}/resolve`, { seenUntil: error.details?.seenUntil });

    // Assess: the late message was not on the page; the 409 names when it became readable
    expect(page.messages.map((m) => m.text)).not.toContain('Zamówienie 4411: gdzie jest?');
    expect(refused.status).toBe(409);
    expect(error.code).toBe('CUSTOMER_WROTE');
    expect(late?.text).toBe('Zamówienie 4411: gdzie jest?');
    expect(error.details?.seenUntil).toBe(late?.recordedAt);
    expect(resolved.status).toBe(200);
  });
});
