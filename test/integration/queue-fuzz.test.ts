import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '#lib/domain/events.ts';
import { MAX_INBOUND_JOB_EVENTS } from '#lib/ports/ack-queue.ts';
import { NotYetError } from '#lib/ports/errors.ts';
import { countEventRecords } from '#lib/runtime/stats-records.ts';
import { handleWorkRecord, UnreadableJobError } from '#lib/runtime/work-records.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { messagingEnvelope, messagingTextEvent, PAGE_ID } from '#test/support/meta-factory.ts';
import { STACK_TRACE } from '#test/support/silent-log.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';
import { scanItems } from '#test/support/table.ts';

// The queue consumers under records that are not what they expect (a hand-sent message, a
// redrive of something else, a bug upstream, a newer release's job): a work-queue job this
// release cannot read fails with UnreadableJobError alone (the queue gives it again, then the DLQ
// keeps it; since stop 25, when it was dropped and a rolling deploy lost a newer release's job),
// a stats record is dropped; never another error, never a stack trace.

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    'conv_06gwk0wg90h3ggnh41h2xv7x5n',
    'not-a-date',
    '2026-02-30T25:61:00Z',
    'x'.repeat(5_000),
  ),
);

/** A customer a deferred event may name: ones the store knows, and new ones. */
const KNOWN_PSID = '7214568800009901';
const contact = fc.constantFrom(
  { channel: 'sms', key: 'phone:+48601234567', address: '+48601234567' },
  { channel: 'whatsapp', key: 'phone:+48601234567', address: '+48601234567' },
  { channel: 'whatsapp', key: 'whatsapp:PL.13491208655302741918', address: 'PL.13491208655302741918' },
  { channel: 'voice', key: 'phone:+48602345678', address: '+48602345678' },
  { channel: 'messenger', key: `messenger:${KNOWN_PSID}`, address: KNOWN_PSID },
  { channel: 'instagram', key: 'instagram:1029384756109901', address: '1029384756109901' },
  { channel: 'email', key: 'email:ewa@example.com', address: 'ewa@example.com' },
);
const providerId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._=-]{1,40}$/),
  fc.constantFrom('x'.repeat(256), 'SM00000000000000000000000000000001', 'm_test_00000001'),
);
const when = fc.oneof(
  fc
    .date({
      min: new Date('2026-11-20T00:00:00Z'),
      max: new Date('2026-11-30T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((date) => date.toISOString()),
  text,
);
/** What a newer release may add to anything it writes. */
const newerFields = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'priority', 'trace')),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 3 },
);
const message = fc
  .record({
    who: contact,
    providerMessageId: providerId,
    kind: fc.constantFrom('message', 'message', 'call', 'voicemail'),
    text: fc.oneof(
      text,
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.constantFrom('STOP', 'START', 'HELP'),
    ),
    sentAt: fc.option(when, { nil: undefined }),
    noAckReason: fc.option(fc.constantFrom('auto-reply', 'bulk', 'other-number', 'standby'), {
      nil: undefined,
    }),
    contactName: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
    extra: newerFields,
  })
  .map(({ who, extra, ...fields }) => ({
    type: 'message',
    message: {
      ...extra,
      provider:
        who.channel === 'email'
          ? 'mailgun'
          : ['messenger', 'instagram'].includes(who.channel)
            ? 'meta'
            : 'twilio',
      providerMessageId: fields.providerMessageId,
      channel: who.channel,
      kind: who.channel === 'voice' ? fields.kind : 'message',
      contactKey: who.key,
      from: who.address,
      to:
        who.channel === 'email'
          ? 'pomoc@firma.example.pl'
          : who.channel === 'messenger'
            ? PAGE_ID
            : '+48221234567',
      text: fields.text,
      media: [],
      ...(who.channel === 'email'
        ? {
            email: {
              subject: fields.text.slice(0, 998),
              references: [],
              messageId: `${fields.providerMessageId}@x`,
            },
          }
        : {}),
      ...(fields.sentAt === undefined ? {} : { sentAt: fields.sentAt }),
      ...(fields.noAckReason === undefined ? {} : { noAckReason: fields.noAckReason }),
      ...(fields.contactName === undefined ? {} : { contactName: fields.contactName }),
    },
  }));
const echo = fc
  .record({ who: contact, providerMessageId: providerId, text, sentAt: fc.option(when, { nil: undefined }) })
  .filter(({ who }) => who.channel === 'messenger' || who.channel === 'instagram')
  .map(({ who, providerMessageId, text: body, sentAt }) => ({
    type: 'echo',
    echo: {
      provider: 'meta',
      providerMessageId,
      channel: who.channel,
      contactKey: who.key,
      from: PAGE_ID,
      to: who.address,
      text: body,
      media: [],
      ...(sentAt === undefined ? {} : { sentAt }),
    },
  }));
const otherEvent = fc.oneof(
  fc.record({
    type: fc.constant('delivery'),
    update: fc.record({
      provider: fc.constantFrom('meta', 'twilio'),
      providerMessageId: providerId,
      status: fc.constantFrom('queued', 'sent', 'delivered', 'read', 'undelivered', 'failed'),
      at: when,
    }),
  }),
  fc.record({
    type: fc.constant('transcription'),
    transcription: fc.record({ provider: fc.constant('twilio'), providerMessageId: providerId, text }),
  }),
  fc.record({ type: fc.constant('ignored'), reason: text }),
);
const inboundEvent = fc.oneof({ weight: 4, arbitrary: message }, { weight: 2, arbitrary: echo }, otherEvent);
const inboundJob = (maxEvents: number) =>
  fc
    .record({
      extra: newerFields,
      provider: fc.oneof(fc.constantFrom('meta', 'twilio'), fc.string({ minLength: 1, maxLength: 64 })),
      receivedAt: fc
        .date({
          min: new Date('2026-11-24T00:00:00Z'),
          max: new Date('2026-11-25T09:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString()),
      events: fc.array(inboundEvent, { minLength: 1, maxLength: maxEvents }),
    })
    .map(({ extra, ...job }) => ({ ...extra, kind: 'inbound', ...job }));

describe('the queue consumers under hostile records', { timeout: fuzzTimeout(120_000) }, () => {
  let sb: TestSwitchboard;
  let realId: string;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601234567' });
    const { items } = (await (await sb.api('/api/conversations')).json()) as { items: Array<{ id: string }> };
    realId = items[0]?.id as string;
    await sb.postMeta(messagingEnvelope([[messagingTextEvent(1, { sender: KNOWN_PSID })]]));
  });

  /**
   * One receive of a work-queue record; a job that failed to be tried again (NotYetError: what it
   * waits for is not recorded yet) is received again, its last receive letting go of what waits.
   */
  async function receive(body: string, receiveCount: number): Promise<void> {
    const maxAttempts = sb.runtime.workDeps.sendAck.ack.maxAttempts;
    for (let count = receiveCount; ; count = maxAttempts) {
      try {
        await handleWorkRecord(sb.runtime.workDeps, { body, receiveCount: count, messageId: 'fuzz' });
        return;
      } catch (error) {
        if (error instanceof UnreadableJobError) return;
        if (!(error instanceof NotYetError) || count >= maxAttempts) throw error;
      }
    }
  }

  afterAll(async () => {
    await sb?.stop();
  });

  it('should handle any ack job body, or fail it as unreadable, never with another error', async () => {
    const job = fc.record(
      {
        conversationId: fc.oneof(text, fc.constant('REAL')),
        episode: fc.oneof(fc.integer(), fc.constantFrom(1, 2, 1e9), fc.double()),
        kind: fc.oneof(fc.constantFrom('ack', 'notice'), text),
        delivered: fc.array(text, { maxLength: 5 }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.json({ maxDepth: 3 }),
      job.map((value) => JSON.stringify(value).replace('"REAL"', JSON.stringify(realId))),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 1, max: 10 }), async (raw, receiveCount) => {
        // Act + Assess: resolves, or fails as unreadable (a retryable send failure would throw
        // too; nothing here is one)
        await handleWorkRecord(sb.runtime.workDeps, { body: raw, receiveCount, messageId: 'fuzz' }).catch(
          (error: unknown) => {
            if (!(error instanceof UnreadableJobError)) throw error;
          },
        );
      }),
      fuzzRuns(400),
    );
    for (const line of sb.log.lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
  });

  it('should count, skip or drop any stats record without throwing', async () => {
    const event = fc.record(
      {
        id: text,
        type: fc.oneof(fc.constantFrom(...EVENT_TYPES), text),
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          text,
        ),
        conversationId: fc.oneof(text, fc.constant('REAL')),
        data: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
          fc.record({ channel: text, episode: fc.integer(), replyBy: text, awaitingSince: text }),
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.json({ maxDepth: 3 }),
      event.map((value) => JSON.stringify(value).replace('"REAL"', JSON.stringify(realId))),
      event.map((value) =>
        JSON.stringify({ source: 'switchboard', 'detail-type': value.type, detail: value }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 5 }), async (bodies) => {
        // Act + Assess
        await countEventRecords(
          sb.runtime.statsDeps,
          bodies.map((raw, i) => ({ body: raw, messageId: `fuzz-${i}` })),
        );
      }),
      fuzzRuns(400),
    );
    for (const line of sb.log.lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
    // The service level still reads.
    const report = await sb.api('/api/service-level?from=2026-11-01&to=2026-11-30');
    expect(report.status).toBe(200);
    expect(await report.text()).not.toMatch(/NaN|Infinity/);
  });
  it('should record any deferred webhook job (a newer release’s, a truncated one, an echo job) or fail it as unreadable, never another error', async () => {
    const body = fc.oneof(
      { weight: 4, arbitrary: inboundJob(6).map((job) => JSON.stringify(job)) },
      // A newer release's event type, or a job cut short (a bug, a hand-sent message)
      inboundJob(4).map((job) =>
        JSON.stringify({ ...job, events: [...job.events, { type: 'reaction', reaction: { emoji: '👍' } }] }),
      ),
      fc.tuple(inboundJob(4), fc.double({ min: 0, max: 1, noNaN: true })).map(([job, at]) => {
        const json = JSON.stringify(job);
        return json.slice(0, Math.floor(json.length * at));
      }),
      fc.json({ maxDepth: 3 }).map((json) => `{"kind":"inbound","events":${json}}`),
    );
    const before = sb.log.lines.length;
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 1, max: 5 }), async (raw, receiveCount) => {
        // Act + Assess: recorded, or failed as unreadable (the DLQ keeps it); a job waiting for
        // what is not recorded yet is received again, as the queue does, until its last receive
        await receive(raw, receiveCount);
      }),
      fuzzRuns(150),
    );
    const lines = sb.log.lines.slice(before);
    for (const line of lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
    // The runs recorded messages, and refused jobs as unreadable
    expect(
      lines.some((line) => line.message === 'deferred webhook recorded' && Number(line.fields?.messages) > 0),
    ).toBe(true);
    expect(lines.some((line) => line.message.startsWith('work queue job this release cannot read'))).toBe(
      true,
    );
  });

  it('should record a job of the most events one holds, one customer’s and many customers’', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(inboundEvent, { minLength: MAX_INBOUND_JOB_EVENTS, maxLength: MAX_INBOUND_JOB_EVENTS }),
        async (events) => {
          // Act + Assess
          const job = { kind: 'inbound', provider: 'meta', receivedAt: '2026-11-25T08:00:00.000Z', events };
          await receive(JSON.stringify(job), 1);
        },
      ),
      fuzzRuns(4),
    );
  });

  it('should have written nothing half and polluted no prototype', async () => {
    // Assess: every stored message belongs to a stored conversation; nothing a job carried under
    // __proto__ or constructor reached a prototype
    const items = await scanItems(sb);
    const conversations = new Set(items.filter((item) => item.sk === 'CONV').map((item) => item.id));
    for (const stored of items.filter((item) => item.sk === 'MSG')) {
      expect(conversations).toContain(stored.conversationId);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
