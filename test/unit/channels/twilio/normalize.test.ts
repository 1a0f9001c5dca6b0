import { describe, expect, it } from 'vitest';
import { normalizeTwilioMessage } from '#lib/channels/twilio/normalize.ts';
import { parseTwilioMessaging } from '#lib/channels/twilio/schema.ts';
import { InboundMessageSchema } from '#lib/domain/message.ts';
import { type TwilioFixture, twilioFixture, twilioForm } from '#test/support/twilio-factory.ts';

function normalizeFixture(name: TwilioFixture, overrides?: Record<string, string | string[] | undefined>) {
  const form = overrides ? twilioForm(name, overrides) : twilioFixture(name);
  const events = normalizeTwilioMessage(parseTwilioMessaging(form.toString()));
  const [event] = events;
  if (events.length !== 1 || event?.type !== 'message') throw new Error('expected one message event');
  return event.message;
}

describe('normalizeTwilioMessage', () => {
  it('should turn the Polish SMS into one sms message keyed by the E.164 number', () => {
    // Prepare
    const payload = parseTwilioMessaging(twilioFixture('sms-polish').toString());

    // Act
    const events = normalizeTwilioMessage(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'twilio',
          providerMessageId: 'SM0a1b2c3d4e5f60718293a4b5c6d7e8f9',
          channel: 'sms',
          kind: 'message',
          contactKey: 'phone:+48601234567',
          from: '+48601234567',
          to: '+48221234567',
          text: 'Dzień dobry, czy mogę prosić o fakturę za wrzesień?',
          media: [],
        },
      },
    ]);
  });

  it('should turn an MMS into an mms message with every media item', () => {
    // Prepare
    const base = 'https://api.twilio.com/2010-04-01/Accounts/AC7f3c2a9b1e4d5f60718293a4b5c6d7e8/Messages';

    // Act
    const message = normalizeFixture('mms-two-media');

    // Assess
    expect(message.channel).toBe('mms');
    expect(message.providerMessageId).toBe('MM9f8e7d6c5b4a39281706f5e4d3c2b1a0');
    expect(message.contactKey).toBe('phone:+14155550123');
    expect(message.media).toEqual([
      {
        url: `${base}/MM9f8e7d6c5b4a39281706f5e4d3c2b1a0/Media/ME11a2b3c4d5e6f708192a3b4c5d6e7f80`,
        contentType: 'image/jpeg',
      },
      {
        url: `${base}/MM9f8e7d6c5b4a39281706f5e4d3c2b1a0/Media/ME22b3c4d5e6f708192a3b4c5d6e7f8091`,
        contentType: 'application/pdf',
      },
    ]);
  });

  it('should turn a WhatsApp message into a whatsapp message with the profile name', () => {
    // Prepare, Act
    const message = normalizeFixture('whatsapp-profile');

    // Assess
    expect(message).toMatchObject({
      channel: 'whatsapp',
      contactKey: 'phone:+48601234567',
      contactName: 'Zofia Wójcik',
      from: 'whatsapp:+48601234567',
      to: 'whatsapp:+48221234567',
      text: 'Cześć! Kiedy otwieracie sklep w sobotę? 😊',
    });
  });

  it('should share the contact key of one person across SMS and WhatsApp', () => {
    // Prepare, Act
    const keys = [normalizeFixture('sms-polish'), normalizeFixture('whatsapp-profile')].map(
      (m) => m.contactKey,
    );

    // Assess
    expect(new Set(keys).size).toBe(1);
  });

  it('should keep channel whatsapp when a WhatsApp message carries media', () => {
    // Prepare
    const overrides = {
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC7f/Messages/MM1/Media/ME1',
      MediaContentType0: 'image/jpeg',
      Body: '',
    };

    // Act
    const message = normalizeFixture('whatsapp-profile', overrides);

    // Assess
    expect(message.channel).toBe('whatsapp');
    expect(message.media).toHaveLength(1);
    expect(message.text).toBe('');
  });

  it('should give an empty text when Body is absent and no contactName without ProfileName', () => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body: undefined });

    // Assess
    expect(message.text).toBe('');
    expect(message).not.toHaveProperty('contactName');
    expect(message).not.toHaveProperty('noAckReason');
  });

  it('should keep a short code or alphanumeric sender as a raw contact key, never to be acknowledged', () => {
    // Prepare, Act
    const messages = ['72345', 'MyBank'].map((From) => normalizeFixture('sms-polish', { From }));

    // Assess
    expect(messages.map((message) => message.contactKey)).toEqual(['phone:72345', 'phone:MyBank']);
    expect(messages.map((message) => message.noAckReason)).toEqual(['automated-sender', 'automated-sender']);
  });

  it('should acknowledge a long code, a toll-free number and a WhatsApp number', () => {
    // Prepare, Act
    const senders = ['+48601234567', '+18005550123', 'whatsapp:+48601234567'];
    const messages = senders.map((From) => normalizeFixture('sms-polish', { From }));

    // Assess
    for (const message of messages) expect(message.noAckReason).toBeUndefined();
  });

  it.each(['STOP', ' stop ', 'Unsubscribe', 'START', 'help'])(
    'should record %j but mark it as never to be acknowledged',
    (Body) => {
      // Prepare, Act
      const message = normalizeFixture('sms-polish', { Body });

      // Assess
      expect(message.noAckReason).toBe(`keyword:${Body.trim().toLowerCase()}`);
    },
  );

  it('should take YES for an opt-in only from a number that opted out, and our own number for no customer', () => {
    // Prepare, Act
    const yes = normalizeFixture('sms-polish', { Body: 'Yes' });
    const own = normalizeFixture('sms-polish', { From: '+48221234567', To: '+48221234567' });

    // Assess
    expect(yes).toMatchObject({ consent: 'opt-in', noAckReason: 'keyword:yes', optInOnlyIfOptedOut: true });
    expect(own.noAckReason).toBe('own-number');
  });

  it('should not treat a sentence that starts with a keyword as a keyword', () => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body: 'stop sending me the invoice twice' });

    // Assess
    expect(message).not.toHaveProperty('noAckReason');
  });

  it('should mark a message Twilio flagged with OptOutType (Advanced Opt-Out keywords)', () => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body: 'NIE', OptOutType: 'STOP' });

    // Assess
    expect(message.noAckReason).toBe('keyword:stop');
  });

  it('should turn the WhatsApp STOP into an opt-out that is never acknowledged', () => {
    // Prepare
    const payload = parseTwilioMessaging(twilioFixture('whatsapp-stop').toString());

    // Act
    const events = normalizeTwilioMessage(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'twilio',
          providerMessageId: 'SM7a8b9c0d1e2f30415263748596a7b8c9',
          channel: 'whatsapp',
          kind: 'message',
          contactKey: 'phone:+48601234567',
          contactName: 'Zofia Wójcik',
          from: 'whatsapp:+48601234567',
          to: 'whatsapp:+48221234567',
          text: 'STOP',
          media: [],
          noAckReason: 'keyword:stop',
          consent: 'opt-out',
        },
      },
    ]);
  });

  it('should turn the SMS "Start" into an opt-in that is never acknowledged', () => {
    // Prepare
    const payload = parseTwilioMessaging(twilioFixture('sms-start').toString());

    // Act
    const events = normalizeTwilioMessage(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'twilio',
          providerMessageId: 'SM8b9c0d1e2f30415263748596a7b8c9d0',
          channel: 'sms',
          kind: 'message',
          contactKey: 'phone:+48601234567',
          from: '+48601234567',
          to: '+48221234567',
          text: 'Start',
          media: [],
          noAckReason: 'keyword:start',
          consent: 'opt-in',
        },
      },
    ]);
  });

  it.each([
    ['STOP', 'opt-out'],
    ['stopall', 'opt-out'],
    ['Unsubscribe', 'opt-out'],
    ['cancel', 'opt-out'],
    [' END ', 'opt-out'],
    ['quit', 'opt-out'],
    ['REVOKE', 'opt-out'],
    ['optout', 'opt-out'],
    ['start', 'opt-in'],
    ['UNSTOP', 'opt-in'],
  ])('should record the consent of %j as %s', (Body, consent) => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body });

    // Assess
    expect(message.consent).toBe(consent);
    expect(message.noAckReason).toBe(`keyword:${Body.trim().toLowerCase()}`);
  });

  it.each(['HELP', 'info'])('should mark %j as a keyword with no consent', (Body) => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body });

    // Assess
    expect(message.noAckReason).toBe(`keyword:${Body.toLowerCase()}`);
    expect(message).not.toHaveProperty('consent');
  });

  it.each([
    ['STOP', 'NIE', 'opt-out'],
    ['START', 'TAK', 'opt-in'],
    ['HELP', 'POMOC', undefined],
  ])('should take the consent from OptOutType %s whatever the body (%s)', (OptOutType, Body, consent) => {
    // Prepare, Act
    const message = normalizeFixture('sms-polish', { Body, OptOutType });

    // Assess
    expect(message.noAckReason).toBe(`keyword:${OptOutType.toLowerCase()}`);
    expect(message.consent).toBe(consent);
  });

  it('should express no consent in an ordinary message or a sentence that starts with STOP', () => {
    // Prepare, Act
    const messages = [
      normalizeFixture('sms-polish'),
      normalizeFixture('sms-polish', { Body: 'stop please' }),
      normalizeFixture('sms-polish', { Body: 'nie' }),
    ];

    // Assess
    for (const message of messages) expect(message).not.toHaveProperty('consent');
  });

  it('should produce messages that satisfy the canonical InboundMessageSchema', () => {
    // Prepare
    const longName = `${'Ż'.repeat(199)}😊`;
    const messages = [
      normalizeFixture('sms-polish'),
      normalizeFixture('mms-two-media'),
      normalizeFixture('whatsapp-profile', { ProfileName: longName }),
      normalizeFixture('whatsapp-stop'),
      normalizeFixture('sms-start'),
    ];

    // Act
    const results = messages.map((message) => InboundMessageSchema.safeParse(message).success);

    // Assess
    expect(results).toEqual([true, true, true, true, true]);
    expect(messages[2]?.contactName).toBe('Ż'.repeat(199));
  });
});
