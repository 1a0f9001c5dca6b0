import { type AttributeValue, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckSchema, ConversationSchema, ReplyRouteSchema } from '#lib/domain/conversation.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { STACK_TRACE } from '#test/support/silent-log.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

// Stop 26 made the stored schemas loose: a field a newer release wrote on a conversation is read
// with the item and written back with it (rolling deploys, rollbacks). Such a field may hold
// anything: prototype keys, deep nesting, a large value. Every use case reads and writes it back;
// none may pollute a prototype, fail, show it in the API's contract, or copy it so that the item
// grows with each write towards DynamoDB's 400 KB (after which every write of it fails).

/** An object with exactly these own keys (no prototype whose members they could shadow). */
function own(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of entries) object[key] = value;
  return object;
}

/** DynamoDB's form of a value, written by hand (the SDK's marshall takes no null-prototype object). */
function attributeValue(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(attributeValue) };
  const map = Object.create(null) as Record<string, AttributeValue>;
  for (const [key, inner] of Object.entries(value as object)) map[key] = attributeValue(inner);
  return { M: map };
}

/** Marks every value a "newer release" stored, to find copies of it anywhere. */
const MARK = 'FUTURE_FIELD_MARK';

// No `__proto__`: the AWS SDK cannot write a map key of that name (its serializer assigns keys to
// plain objects, and the request carries an empty value), so no release of ours can store one.
const name = fc.oneof(
  fc.constantFrom('constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'then'),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(name, tie('tree'), { maxKeys: 3 }),
  ),
}));
/** What a newer release may store in a field: anything, deeply nested or large included. */
const stored = fc
  .oneof(
    { weight: 6, arbitrary: tree },
    fc.constant(
      Array.from({ length: 25 }).reduce<unknown>(
        (inner) =>
          own([
            ['next', inner],
            ['constructor', { prototype: { polluted: true } }],
            ['toString', 'x'],
          ]),
        'leaf',
      ),
    ),
    fc.constant('x'.repeat(30_000)),
    fc.constant(Object.fromEntries(Array.from({ length: 300 }, (_, n) => [`k${n}`, n]))),
  )
  .map((value) => [MARK, value]);

/** Names this release gives meaning to (on the item, its ack or its route): not a newer release's. */
const KNOWN = new Set([
  ...Object.keys(ConversationSchema.shape),
  ...Object.keys(AckSchema.shape),
  ...Object.keys(ReplyRouteSchema.shape),
  'pk',
  'sk',
  'type',
]);
const fields = fc.uniqueArray(
  fc.record({
    at: fc.constantFrom('', 'ack.', 'route.', 'contact.'),
    name: name.filter((n) => !KNOWN.has(n) && !/^gsi\d/.test(n)),
    value: stored,
  }),
  { minLength: 1, maxLength: 4, selector: (field) => `${field.at}${field.name}` },
);

describe('a conversation holding fields only a newer release knows, hostile ones', {
  timeout: fuzzTimeout(120_000),
}, () => {
  let sb: TestSwitchboard;
  let customers = 0;

  beforeAll(async () => {
    sb = await startTestSwitchboard({ env: { API_REQUESTS_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  const rawConversation = async (id: string) => {
    const { Item } = await sb.backends.dynamodb.send(
      new GetItemCommand({
        TableName: sb.backends.tableName,
        Key: marshall({ pk: `CONV#${id}`, sk: 'CONV' }),
      }),
    );
    return Item;
  };
  const marks = (text: string) => text.split(MARK).length - 1;

  it('should read, answer, resolve and sweep it, keeping the fields once, polluting nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fields, async (extra) => {
        // Prepare: a new customer writes; a newer release stores its fields on the conversation
        const from = `+4860${String(1_000_000 + ++customers)}`;
        await sb.postSms({ From: from, MessageSid: twilioSid('SM'), Body: 'Dzień dobry' });
        const { items } = await sb.runtime.store.listConversations({ status: 'open', limit: 100 });
        const id = items.find((c) => c.route.customer === from)?.id as string;
        const names: Record<string, string> = {};
        const values: Record<string, AttributeValue> = {};
        const paths = extra.map((field, n) => {
          names[`#f${n}`] = field.name;
          values[`:v${n}`] = attributeValue(field.value);
          return field.at ? `${field.at.slice(0, -1)}.#f${n}` : `#f${n}`;
        });
        await sb.backends.dynamodb.send(
          new UpdateItemCommand({
            TableName: sb.backends.tableName,
            Key: marshall({ pk: `CONV#${id}`, sk: 'CONV' }),
            UpdateExpression: `SET ${paths.map((path, n) => `${path} = :v${n}`).join(', ')}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        // ...and on the customer's contact and their message (top-level fields only: this release
        // updates those items field by field, reading them through closed schemas)
        const topLevel = extra.filter((field) => field.at === '');
        const [message] = await sb.runtime.store.listMessages(id, { limit: 1 });
        for (const pk of topLevel.length > 0 ? [`CONTACT#phone:${from}`, `MSG#${message?.id}`] : []) {
          await sb.backends.dynamodb.send(
            new UpdateItemCommand({
              TableName: sb.backends.tableName,
              Key: marshall({ pk, sk: pk.slice(0, pk.indexOf('#')) }),
              UpdateExpression: `SET ${topLevel.map((_, n) => `#f${n} = :v${n}`).join(', ')}`,
              ExpressionAttributeNames: Object.fromEntries(
                topLevel.map((field, n) => [`#f${n}`, field.name]),
              ),
              ExpressionAttributeValues: Object.fromEntries(
                topLevel.map((field, n) => [`:v${n}`, attributeValue(field.value)]),
              ),
            }),
          );
        }
        const before = sb.log.lines.length;
        const setSize = JSON.stringify(await rawConversation(id)).length;

        // Act: every use case on it: the ack, reads, a note, an assignment, a reply, the
        // customer again, a resolve, a reopen, the sweeper
        const statuses: number[] = [];
        await sb.drain();
        const read = await sb.api(`/api/conversations/${id}`);
        const listed = await sb.api('/api/conversations?limit=100');
        statuses.push(read.status, listed.status);
        const shown = (await read.text()) + (await listed.text());
        for (const [path, body] of [
          ['notes', { text: 'Klientka pyta o fakturę' }],
          ['assign', { assignee: 'anna' }],
          ['replies', { text: 'Już sprawdzam.' }],
        ] as const) {
          statuses.push((await sb.act(`/conversations/${id}/${path}`, body)).status);
        }
        await sb.postSms({ From: from, MessageSid: twilioSid('SM'), Body: 'Dziękuję' });
        await sb.drain();
        statuses.push((await sb.act(`/conversations/${id}/resolve`)).status);
        statuses.push((await sb.act(`/conversations/${id}/reopen`)).status);
        sb.clock.advance(60_000);
        await sweep(sb.runtime.sweepDeps);
        const after = await rawConversation(id);

        // Assess: nothing failed; the fields are kept, each once; the API's contract shows none
        expect(statuses.filter((status) => status >= 500)).toEqual([]);
        const failed = sb.log.lines.slice(before).filter((line) => line.level === 'error');
        expect(failed).toEqual([]);
        for (const line of sb.log.lines.slice(before)) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
        expect(marks(shown)).toBe(0);
        const text = JSON.stringify(after);
        expect(marks(text)).toBeLessThanOrEqual(extra.length);
        expect(text.length).toBeLessThan(setSize + 20_000);
        const item = unmarshall(after ?? {});
        for (const field of extra.filter((f) => f.at === '')) {
          expect(Object.hasOwn(item, field.name) ? item[field.name] : undefined).toEqual(field.value);
        }
        expect(Object.keys(Object.prototype)).toEqual([]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      fuzzRuns(40),
    );
  });
});
