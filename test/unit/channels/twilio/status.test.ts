import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { normalizeTwilioStatus, parseTwilioStatus } from '#lib/channels/twilio/status.ts';
import { ourIdOf, statusCallbackOf } from '#lib/channels/twilio/status-url.ts';
import { DeliveryUpdateSchema, type InboundEvent } from '#lib/domain/message.ts';
import { type TwilioFixture, twilioFixture, twilioForm } from '#test/support/twilio-factory.ts';

const NOW = new Date('2026-11-17T09:15:30.000Z');

function normalizeStatus(
  name: TwilioFixture,
  overrides?: Record<string, string | undefined>,
): InboundEvent[] {
  const form = overrides ? twilioForm(name, overrides) : twilioFixture(name);
  return normalizeTwilioStatus(parseTwilioStatus(form.toString()), NOW);
}

function statusOf(MessageStatus: string, extra: Record<string, string | undefined> = {}) {
  const [event] = normalizeStatus('status-delivered', { MessageStatus, SmsStatus: MessageStatus, ...extra });
  return event;
}

describe('normalizeTwilioStatus', () => {
  it('should turn the delivered callback into one delivery update stamped now', () => {
    // Prepare
    const payload = parseTwilioStatus(twilioFixture('status-delivered').toString());

    // Act
    const events = normalizeTwilioStatus(payload, NOW);

    // Assess
    expect(events).toEqual([
      {
        type: 'delivery',
        update: {
          provider: 'twilio',
          providerMessageId: 'SM4e5f60718293a4b5c6d7e8f9a0b1c2d3',
          status: 'delivered',
          at: '2026-11-17T09:15:30.000Z',
        },
      },
    ]);
  });

  it('should carry the error code of an undelivered message (30007, carrier filtering)', () => {
    // Prepare, Act
    const events = normalizeStatus('status-undelivered-30007');

    // Assess
    expect(events).toEqual([
      {
        type: 'delivery',
        update: {
          provider: 'twilio',
          providerMessageId: 'SM5f60718293a4b5c6d7e8f9a0b1c2d3e4',
          status: 'undelivered',
          errorCode: '30007',
          at: '2026-11-17T09:15:30.000Z',
        },
      },
    ]);
  });

  it('should turn a WhatsApp read receipt into read', () => {
    // Prepare, Act
    const events = normalizeStatus('status-whatsapp-read');

    // Assess
    expect(events).toEqual([
      {
        type: 'delivery',
        update: {
          provider: 'twilio',
          providerMessageId: 'SM60718293a4b5c6d7e8f9a0b1c2d3e4f5',
          status: 'read',
          at: '2026-11-17T09:15:30.000Z',
        },
      },
    ]);
  });

  it.each([
    ['queued', 'queued'],
    ['accepted', 'queued'],
    ['scheduled', 'queued'],
    ['sending', 'queued'],
    ['sent', 'sent'],
    ['partially_delivered', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['undelivered', 'undelivered'],
    ['failed', 'failed'],
    ['canceled', 'failed'],
  ])('should map MessageStatus %s to %s', (reported, status) => {
    // Prepare, Act
    const event = statusOf(reported);

    // Assess
    expect(event).toMatchObject({ type: 'delivery', update: { status } });
  });

  it.each(['receiving', 'received'])('should ignore the inbound status %s', (reported) => {
    // Prepare, Act
    const event = statusOf(reported);

    // Assess
    expect(event).toEqual({ type: 'ignored', reason: `status:inbound:${reported}` });
  });

  it('should ignore a status Twilio may add later', () => {
    // Prepare, Act
    const event = statusOf('expired');

    // Assess
    expect(event).toEqual({ type: 'ignored', reason: 'status:unknown:expired' });
  });

  it('should not let a prototype key pass for a status', () => {
    // Prepare, Act
    const events = ['constructor', 'tostring'].map((reported) => statusOf(reported));

    // Assess
    expect(events.map((event) => event?.type)).toEqual(['ignored', 'ignored']);
  });

  it('should treat EventType READ as read but never upgrade a failure', () => {
    // Prepare, Act
    const delivered = statusOf('delivered', { EventType: 'READ' });
    const failed = statusOf('failed', { EventType: 'READ', ErrorCode: '63016' });

    // Assess
    expect(delivered).toMatchObject({ update: { status: 'read' } });
    expect(failed).toMatchObject({ update: { status: 'failed', errorCode: '63016' } });
  });

  it('should mark a failure for the WhatsApp window (63016) windowClosed, and no other', () => {
    // Prepare, Act: found at stop 25, a Twilio WhatsApp ack so refused was failed and alarmed
    const closed = ['failed', 'undelivered'].map((status) => statusOf(status, { ErrorCode: '63016' }));
    const other = statusOf('undelivered', { ErrorCode: '30003' });
    const delivered = statusOf('delivered', { ErrorCode: '63016' });

    // Assess
    for (const event of closed)
      expect(event).toMatchObject({ update: { errorCode: '63016', windowClosed: true } });
    expect(other).not.toHaveProperty('update.windowClosed');
    expect(delivered).not.toHaveProperty('update.windowClosed');
  });

  it('should mark a failure to a number that takes no SMS (30006, a landline) noSms, and no other', () => {
    // Prepare, Act
    const landline = ['failed', 'undelivered'].map((status) => statusOf(status, { ErrorCode: '30006' }));
    const other = statusOf('undelivered', { ErrorCode: '30007' });
    const delivered = statusOf('delivered', { ErrorCode: '30006' });

    // Assess
    for (const event of landline)
      expect(event).toMatchObject({ update: { errorCode: '30006', noSms: true } });
    expect(other).not.toHaveProperty('update.noSms');
    expect(delivered).not.toHaveProperty('update.noSms');
  });

  it("should mark a failure to a number on Twilio's STOP list (21610) optedOut, and no other", () => {
    // Prepare, Act
    const unsubscribed = ['failed', 'undelivered'].map((status) => statusOf(status, { ErrorCode: '21610' }));
    const other = statusOf('failed', { ErrorCode: '30006' });
    const delivered = statusOf('delivered', { ErrorCode: '21610' });

    // Assess
    for (const event of unsubscribed)
      expect(event).toMatchObject({ update: { errorCode: '21610', optedOut: true } });
    expect(other).not.toHaveProperty('update.optedOut');
    expect(delivered).not.toHaveProperty('update.optedOut');
  });

  it('should mark a failure to a number that is no mobile (21635 a landline, 21614) notMobile, not noSms, and no other', () => {
    // Prepare, Act
    const notMobile = ['21635', '21614'].flatMap((code) =>
      ['failed', 'undelivered'].map((status) => statusOf(status, { ErrorCode: code })),
    );
    const other = statusOf('failed', { ErrorCode: '30006' });
    const delivered = statusOf('delivered', { ErrorCode: '21614' });

    // Assess
    for (const event of notMobile) {
      expect(event).toMatchObject({ update: { notMobile: true } });
      expect(event).not.toHaveProperty('update.noSms');
    }
    expect(other).not.toHaveProperty('update.notMobile');
    expect(delivered).not.toHaveProperty('update.notMobile');
  });

  it('should drop an ErrorCode of 0 or empty, which is no error', () => {
    // Prepare, Act
    const events = ['0', ''].map((ErrorCode) => statusOf('delivered', { ErrorCode }));

    // Assess
    for (const event of events) expect(event).toMatchObject({ type: 'delivery' });
    for (const event of events) expect(event).not.toHaveProperty('update.errorCode');
  });

  it('should accept a callback without To, as in Twilio own example', () => {
    // Prepare, Act
    const event = statusOf('sent', { To: undefined, MessagingServiceSid: undefined });

    // Assess
    expect(event).toMatchObject({ type: 'delivery', update: { status: 'sent' } });
  });

  it('should produce updates that satisfy DeliveryUpdateSchema', () => {
    // Prepare
    const fixtures: TwilioFixture[] = [
      'status-delivered',
      'status-undelivered-30007',
      'status-whatsapp-read',
    ];

    // Act
    const results = fixtures
      .flatMap((name) => normalizeStatus(name))
      .map((event) => event.type === 'delivery' && DeliveryUpdateSchema.safeParse(event.update).success);

    // Assess
    expect(results).toEqual([true, true, true]);
  });
});

describe('parseTwilioStatus', () => {
  it('should name the broken params and never echo their values', () => {
    // Prepare
    const form = twilioForm('status-delivered', {
      MessageSid: 'SM-not-a-sid',
      MessageStatus: 'Delivered to +48601234567',
      ErrorCode: 'x',
    });

    // Act
    let error: unknown;
    try {
      parseTwilioStatus(form.toString());
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(MalformedPayloadError);
    const { message, issues } = error as MalformedPayloadError;
    expect(issues).toEqual([
      'MessageSid: invalid_format',
      'MessageStatus: invalid_format',
      'ErrorCode: invalid_format',
    ]);
    expect(message).toMatch(/status callback/);
    expect(JSON.stringify({ message, issues })).not.toMatch(/not-a-sid|\+48601234567/);
  });
});

// Stop 34: our StatusCallback URL names our message (?m=<id>); a callback for a message sent
// before (no param) is read as ever.
describe('our message id in the status callback URL', () => {
  it('should read our message id from the URL the callback came to, and only a well-formed one', () => {
    // Prepare
    const base = 'https://switchboard.example.com/webhooks/twilio/status';
    const url = statusCallbackOf(base, 'msg_kpe12mrk37jfppsr580wrgxsqw');

    // Act + Assess
    expect(url).toBe(`${base}?m=msg_kpe12mrk37jfppsr580wrgxsqw`);
    expect(ourIdOf(url)).toBe('msg_kpe12mrk37jfppsr580wrgxsqw');
    expect(ourIdOf(base)).toBeUndefined();
    expect(ourIdOf(`${base}?m=a%20b`)).toBeUndefined();
    expect(ourIdOf(`${base}?m=${'x'.repeat(65)}`)).toBeUndefined();
    expect(statusCallbackOf(base, 'not an id')).toBe(base);
  });

  it('should carry our message id on the delivery update, and none for a callback without it', () => {
    // Prepare
    const form = twilioFixture('status-delivered').toString();

    // Act
    const [tagged] = normalizeTwilioStatus(parseTwilioStatus(form, 'msg_01'), NOW);
    const [untagged] = normalizeTwilioStatus(parseTwilioStatus(form), NOW);

    // Assess
    expect(tagged?.type === 'delivery' && tagged.update.ourMessageId).toBe('msg_01');
    expect(untagged?.type === 'delivery' && 'ourMessageId' in untagged.update).toBe(false);
  });

  it('should name the customer of a callback that names our message (its To number, WhatsApp too), and no one for one without our id or a number', () => {
    // Prepare
    const sms = twilioFixture('status-delivered');
    const whatsapp = twilioFixture('status-delivered');
    whatsapp.set('To', 'whatsapp:+48601234567');
    const noNumber = twilioFixture('status-delivered');
    noNumber.delete('To');

    // Act
    const keys = [
      normalizeTwilioStatus(parseTwilioStatus(sms.toString(), 'msg_01'), NOW),
      normalizeTwilioStatus(parseTwilioStatus(whatsapp.toString(), 'msg_01'), NOW),
      normalizeTwilioStatus(parseTwilioStatus(sms.toString()), NOW),
      normalizeTwilioStatus(parseTwilioStatus(noNumber.toString(), 'msg_01'), NOW),
    ].map(([event]) => (event?.type === 'delivery' ? event.update.contactKey : 'none'));

    // Assess
    expect(keys).toEqual(['phone:+48601234567', 'phone:+48601234567', undefined, undefined]);
  });
});
