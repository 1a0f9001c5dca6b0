import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { createMetaChannel } from '#lib/channels/meta/index.ts';
import { normalizeMetaWebhook } from '#lib/channels/meta/normalize.ts';
import { parseMetaWebhook } from '#lib/channels/meta/schema.ts';
import {
  DeliveryUpdateSchema,
  type InboundEvent,
  InboundMessageSchema,
  OutboundEchoSchema,
} from '#lib/domain/message.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import {
  messagingEnvelope,
  messagingTextEvent,
  metaFixtureBody,
  metaJson,
  PAGE_ID,
  PSID,
  signedMetaRequest,
  TEST_APP_SECRET,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';

function parseError(rawBody: string): MalformedPayloadError {
  try {
    parseMetaWebhook(rawBody);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return error;
    throw error;
  }
  throw new Error('expected MalformedPayloadError');
}

describe('parseMetaWebhook', () => {
  it.each([
    ['not JSON', '{"object":"page",'],
    ['a JSON array', '[]'],
    ['a JSON string', '"page"'],
    ['null', 'null'],
    ['no entry', '{"object":"page"}'],
    ['entry not an array', '{"object":"page","entry":{}}'],
    ['no object', '{"entry":[]}'],
  ])('should throw MalformedPayloadError for %s', (_case, body) => {
    // Act
    const error = parseError(body);

    // Assess
    expect(error.code).toBe('MALFORMED_PAYLOAD');
  });

  it('should name the offending paths but never their values', () => {
    // Act
    const error = parseError(metaJson({ object: 12345678, entry: 'Ewa Kowalska +48601234567' }));

    // Assess
    expect(error.issues.join(' ')).toMatch(/object/);
    expect(error.issues.join(' ')).toMatch(/entry/);
    expect(`${error.message} ${error.issues.join(' ')}`).not.toMatch(/12345678|Kowalska|48601234567/);
  });

  it('should keep the good events around a broken one and ignore the broken one with its path', () => {
    // Prepare
    const broken = {
      sender: { id: PSID },
      recipient: { id: PAGE_ID },
      message: { text: 'no mid: Ewa +48601234567' },
    };
    const body = messagingEnvelope([
      [messagingTextEvent(1), broken, messagingTextEvent(2)],
      [messagingTextEvent(3)],
    ]);

    // Act
    const events = normalizeMetaWebhook(parseMetaWebhook(metaJson(body)));

    // Assess
    expect(events.map((event) => event.type)).toEqual(['message', 'ignored', 'message', 'message']);
    const reason = events[1]?.type === 'ignored' ? events[1].reason : '';
    expect(reason).toMatch(/^invalid-event entry\[0\]\.messaging\[1\]: message\.mid/);
    expect(reason).not.toMatch(/Ewa|48601234567/);
  });

  it('should keep the good entries around a broken entry', () => {
    // Prepare
    const body = {
      object: 'page',
      entry: [null, { id: PAGE_ID, messaging: [messagingTextEvent(1)] }, { messaging: 3 }],
    };

    // Act
    const events = normalizeMetaWebhook(parseMetaWebhook(metaJson(body)));

    // Assess
    expect(events.map((event) => event.type)).toEqual(['ignored', 'message', 'ignored']);
  });

  it('should keep the good WhatsApp messages and statuses around broken ones', () => {
    // Prepare
    const body = whatsappEnvelope({
      messages: [
        { from: '48601234567', id: 'wamid.A', timestamp: '1', type: 'text', text: { body: 'A' } },
        { from: '+48 601', id: 'wamid.B', timestamp: '1', type: 'text', text: { body: 'B' } },
      ],
      statuses: [{ id: 'wamid.C', status: 'delivered', timestamp: '1763986702' }, { status: 'read' }],
    });

    // Act
    const events = normalizeMetaWebhook(parseMetaWebhook(metaJson(body)));

    // Assess
    expect(events.map((event) => event.type)).toEqual(['message', 'ignored', 'delivery', 'ignored']);
  });

  it('should normalize every entry and every event of a batch, in order', () => {
    // Act
    const events = normalizeMetaWebhook(parseMetaWebhook(metaFixtureBody('batch')));

    // Assess
    expect(
      events.map((event) =>
        event.type === 'message' ? event.message.providerMessageId.slice(0, 9) : event.type,
      ),
    ).toEqual(['m_batch_1', 'm_batch_2', 'm_batch_3', 'ignored', 'm_batch_4']);
    expect(events[1]).toMatchObject({ type: 'message', message: { text: 'Tak' } });
    expect(events[2]).toMatchObject({
      type: 'message',
      message: { to: '104857600999999', contactKey: 'messenger:6650011223344556' },
    });
  });

  it('should verify, parse and normalize a signed 10,000-event batch quickly and without throwing', () => {
    // Prepare
    const entries = Array.from({ length: 100 }, (_, e) =>
      Array.from({ length: 100 }, (_, i) => {
        const n = e * 100 + i;
        // Every hundredth event is broken, to exercise the lenient path at scale.
        return n % 100 === 99 ? { sender: { id: PSID } } : messagingTextEvent(n);
      }),
    );
    const body = metaJson(messagingEnvelope(entries));
    const channel = createMetaChannel({ appSecret: TEST_APP_SECRET, verifyToken: 'token' });
    const started = performance.now();

    // Act
    const outcome = channel.webhook.verify(signedMetaRequest(body));
    const events = normalizeMetaWebhook(channel.webhook.parse(signedMetaRequest(body)));

    // Assess
    const elapsed = performance.now() - started;
    expect(outcome).toBe('ok');
    expect(events).toHaveLength(10_000);
    expect(events.filter((event) => event.type === 'message')).toHaveLength(9_900);
    expect(events.filter((event) => event.type === 'ignored')).toHaveLength(100);
    expect(elapsed).toBeLessThan(2000);
  });

  it('should throw nothing but MalformedPayloadError for any JSON, and never from normalize', () => {
    const id = fc.oneof(fc.constantFrom(PSID, PAGE_ID, '48601234567', ''), fc.string(), fc.integer());
    const event = fc.record(
      {
        sender: fc.oneof(fc.record({ id }), fc.anything()),
        recipient: fc.oneof(fc.record({ id }), fc.anything()),
        timestamp: fc.oneof(fc.integer(), fc.double(), fc.string()),
        message: fc.oneof(
          fc.record(
            { mid: fc.string(), text: fc.string(), is_echo: fc.boolean(), attachments: fc.anything() },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        delivery: fc.record({ mids: fc.array(fc.string()), watermark: fc.double() }, { requiredKeys: [] }),
        read: fc.anything(),
        postback: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const change = fc.record(
      {
        field: fc.oneof(fc.constant('messages'), fc.string()),
        value: fc.oneof(
          fc.record(
            {
              metadata: fc.record({ display_phone_number: fc.string(), phone_number_id: fc.string() }),
              contacts: fc.anything(),
              messages: fc.array(fc.anything()),
              statuses: fc.array(fc.anything()),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const entry = fc.record(
      {
        id,
        time: fc.anything(),
        messaging: fc.array(event),
        standby: fc.anything(),
        changes: fc.array(change),
      },
      { requiredKeys: [] },
    );
    const envelope = fc.record(
      {
        object: fc.oneof(fc.constantFrom('page', 'instagram', 'whatsapp_business_account'), fc.anything()),
        entry: fc.oneof(fc.array(entry), fc.anything()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      envelope.map((value) => JSON.stringify(value) ?? ''),
      fc.json(),
      fc.string(),
    );
    fc.assert(
      fc.property(body, (raw) => {
        // Act
        let events: unknown;
        try {
          events = normalizeMetaWebhook(parseMetaWebhook(raw));
        } catch (error) {
          // Assess
          expect(error).toBeInstanceOf(MalformedPayloadError);
          return;
        }
        // Whatever comes out still meets the domain contract the use cases rely on.
        for (const event of events as InboundEvent[]) {
          if (event.type === 'message') InboundMessageSchema.parse(event.message);
          if (event.type === 'delivery') DeliveryUpdateSchema.parse(event.update);
          if (event.type === 'echo') OutboundEchoSchema.parse(event.echo);
        }
      }),
      fuzzRuns(1000),
    );
  });
});
