import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { createTwilioChannel } from '#lib/channels/twilio/index.ts';
import { parseTwilioForm, parseTwilioMessaging, twilioFormOf } from '#lib/channels/twilio/schema.ts';
import {
  signedTwilioRequest,
  TEST_AUTH_TOKEN,
  twilioFixture,
  twilioForm,
} from '#test/support/twilio-factory.ts';

function malformedIssues(rawBody: string): string[] {
  try {
    parseTwilioMessaging(rawBody);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return error.issues;
    throw error;
  }
  throw new Error('expected MalformedPayloadError');
}

describe('parseTwilioForm', () => {
  it('should decode + as space and percent-encoded UTF-8', () => {
    // Prepare
    const raw = 'Body=Dzie%C5%84+dobry&From=%2B48601234567';

    // Act
    const params = parseTwilioForm(raw);

    // Assess
    expect({ ...params }).toEqual({ Body: 'Dzień dobry', From: '+48601234567' });
  });

  it('should turn a repeated param into an array in the order received', () => {
    // Prepare
    const raw = 'Tag=b&Tag=a&Tag=b&Body=x';

    // Act
    const params = parseTwilioForm(raw);

    // Assess
    expect(params.Tag).toEqual(['b', 'a', 'b']);
    expect(params.Body).toBe('x');
  });

  it('should keep __proto__ and constructor as ordinary params', () => {
    // Prepare
    const raw = '__proto__=x&constructor=y';

    // Act
    const params = parseTwilioForm(raw);

    // Assess
    expect(Object.keys(params).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(params)).toBeNull();
  });
});

describe('twilioFormOf', () => {
  const request = (rawBody: string) => ({
    url: 'https://hooks.switchboard.example/webhooks/twilio/messaging',
    headers: new Headers(),
    rawBody,
    rawBytes: new TextEncoder().encode(rawBody),
  });

  it('should give the signature check and the schema one form, and each request its own however they interleave', () => {
    // Prepare
    const first = request('Body=first&From=%2B48601234567');
    const second = request('Body=second&From=%2B48601234568');
    const sameBody = request('Body=first&From=%2B48601234567');

    // Act
    const asked = [first, first, second, first, second, sameBody].map((r) => twilioFormOf(r));

    // Assess
    expect(asked[1]).toBe(asked[0]);
    expect(asked.map((form) => form.Body)).toEqual(['first', 'first', 'second', 'first', 'second', 'first']);
    expect(asked[5]).not.toBe(asked[3]);
    expect({ ...asked[4] }).toEqual({ ...parseTwilioForm(second.rawBody) });
  });
});

describe('parseTwilioMessaging', () => {
  it('should parse the Polish SMS fixture and keep every param Twilio sent', () => {
    // Prepare
    const raw = twilioFixture('sms-polish').toString();

    // Act
    const payload = parseTwilioMessaging(raw);

    // Assess
    expect(payload.MessageSid).toBe('SM0a1b2c3d4e5f60718293a4b5c6d7e8f9');
    expect(payload.Body).toBe('Dzień dobry, czy mogę prosić o fakturę za wrzesień?');
    expect(payload.media).toEqual([]);
    expect(payload.FromCountry).toBe('PL');
    expect(payload.ToState).toBe('');
    expect(payload.ApiVersion).toBe('2010-04-01');
  });

  it('should collect the MMS media pairs in index order', () => {
    // Prepare
    const raw = twilioFixture('mms-two-media').toString();

    // Act
    const payload = parseTwilioMessaging(raw);

    // Assess
    expect(payload.NumMedia).toBe('2');
    expect(payload.media.map((media) => media.contentType)).toEqual(['image/jpeg', 'application/pdf']);
    expect(payload.media[0]?.url).toMatch(/\/Media\/ME11a2b3/);
  });

  it('should parse the WhatsApp fixture with ProfileName and WaId', () => {
    // Prepare
    const raw = twilioFixture('whatsapp-profile').toString();

    // Act
    const payload = parseTwilioMessaging(raw);

    // Assess
    expect(payload.ProfileName).toBe('Zofia Wójcik');
    expect(payload.WaId).toBe('48601234567');
    expect(payload.Body).toBe('Cześć! Kiedy otwieracie sklep w sobotę? 😊');
  });

  it('should default an absent Body to an empty string and NumMedia to 0', () => {
    // Prepare
    const raw = twilioForm('sms-polish', { Body: undefined, NumMedia: undefined }).toString();

    // Act
    const payload = parseTwilioMessaging(raw);

    // Assess
    expect(payload.Body).toBe('');
    expect(payload.NumMedia).toBe('0');
    expect(payload.media).toEqual([]);
  });

  it('should accept an empty Body (media-only message)', () => {
    // Prepare
    const raw = twilioForm('mms-two-media', { Body: '' }).toString();

    // Act
    const payload = parseTwilioMessaging(raw);

    // Assess
    expect(payload.Body).toBe('');
    expect(payload.media).toHaveLength(2);
  });

  it('should name every missing required param', () => {
    // Prepare
    const raw = twilioForm('sms-polish', {
      MessageSid: undefined,
      AccountSid: undefined,
      From: undefined,
      To: undefined,
    }).toString();

    // Act
    const issues = malformedIssues(raw);

    // Assess
    expect(issues.map((issue) => issue.split(':')[0])).toEqual(['MessageSid', 'AccountSid', 'From', 'To']);
  });

  it.each([
    ['33 hex digits', 'SM0a1b2c3d4e5f60718293a4b5c6d7e8f90'],
    ['31 hex digits', 'SM0a1b2c3d4e5f60718293a4b5c6d7e8f'],
    ['a call SID', 'CA0a1b2c3d4e5f60718293a4b5c6d7e8f9'],
    ['a non-hex digit', 'SM0a1b2c3d4e5f60718293a4b5c6d7e8fz'],
    ['a lower-case prefix', 'sm0a1b2c3d4e5f60718293a4b5c6d7e8f9'],
  ])('should reject a MessageSid with %s', (_case, sid) => {
    // Prepare
    const raw = twilioForm('sms-polish', { MessageSid: sid }).toString();

    // Act
    const issues = malformedIssues(raw);

    // Assess
    expect(issues).toEqual(['MessageSid: invalid_format']);
  });

  it('should reject a repeated From', () => {
    // Prepare
    const raw = twilioForm('sms-polish', { From: ['+48601234567', '+48601234568'] }).toString();

    // Act
    const issues = malformedIssues(raw);

    // Assess
    expect(issues).toEqual(['From: invalid_type']);
  });

  it('should reject a media pair announced by NumMedia but missing', () => {
    // Prepare
    const raw = twilioForm('mms-two-media', {
      MediaUrl1: undefined,
      MediaContentType1: undefined,
    }).toString();

    // Act
    const issues = malformedIssues(raw);

    // Assess
    expect(issues).toEqual(['MediaUrl1: custom', 'MediaContentType1: custom']);
  });

  it('should reject a NumMedia that is not a small count', () => {
    // Prepare
    const bodies = ['two', '-1', '1000', '101'].map((n) =>
      twilioForm('sms-polish', { NumMedia: n }).toString(),
    );

    // Act
    const issues = bodies.map(malformedIssues);

    // Assess
    expect(issues).toEqual([
      ['NumMedia: invalid_format'],
      ['NumMedia: invalid_format'],
      ['NumMedia: invalid_format'],
      ['NumMedia: custom'],
    ]);
  });
});

describe('createTwilioChannel messaging.parse', () => {
  it('should throw MalformedPayloadError with paths and never the values', () => {
    // Prepare
    const channel = createTwilioChannel({
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: TEST_AUTH_TOKEN,
    });
    const request = signedTwilioRequest(
      twilioForm('sms-polish', { MessageSid: 'SM-secret-value', To: undefined }),
    );

    // Act
    const act = () => channel.messaging.parse(request);

    // Assess
    expect(act).toThrow(MalformedPayloadError);
    try {
      act();
    } catch (error) {
      const { message, issues, code } = error as MalformedPayloadError;
      expect(code).toBe('MALFORMED_PAYLOAD');
      expect(issues).toEqual(['MessageSid: invalid_format', 'To: invalid_type']);
      expect(JSON.stringify({ message, issues })).not.toMatch(/secret|\+48601234567|Dzień/);
    }
  });

  it('should refuse to start without credentials', () => {
    // Prepare
    const options = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: '' };

    // Act
    const act = () => createTwilioChannel(options);

    // Assess
    expect(act).toThrow(/required/);
  });
});
