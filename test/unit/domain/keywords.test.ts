import { describe, expect, it } from 'vitest';
import { keywordOf, markKeyword, withoutKeyword } from '#lib/domain/keywords.ts';
import type { InboundMessage } from '#lib/domain/message.ts';

const MESSAGE: InboundMessage = {
  provider: 'meta',
  providerMessageId: 'wamid.1',
  channel: 'whatsapp',
  kind: 'message',
  contactKey: 'phone:+48601234567',
  from: '+48601234567',
  to: '+48221234567',
  text: 'Yes',
  media: [],
};

// The keywords shared by Twilio's and WhatsApp Cloud's normalizers (found at stop 24: WhatsApp
// Cloud read none).
describe('keywords', () => {
  it.each([
    ['STOP', { help: false }, { word: 'STOP', consent: 'opt-out' }],
    [' optout ', { help: false }, { word: 'OPTOUT', consent: 'opt-out' }],
    ['unstop', { help: false }, { word: 'UNSTOP', consent: 'opt-in' }],
    ['HELP', { help: true }, { word: 'HELP', consent: undefined }],
    ['HELP', { help: false }, undefined],
    ['stop please', { help: true }, undefined],
  ])('should read %j (%j) as %j', (body, options, expected) => {
    // Act
    const keyword = keywordOf(body, options);

    // Assess
    expect(keyword).toEqual(expected);
  });

  it("should drop a YES's keyword marks from one who never opted out and keep the channel's own reason", () => {
    // Prepare
    const yes = { ...MESSAGE };
    markKeyword(yes, { word: 'YES', consent: 'opt-in' });
    const toAnotherNumber = { ...yes, noAckReason: 'other-number' };

    // Act
    const plain = withoutKeyword(yes);
    const other = withoutKeyword(toAnotherNumber);

    // Assess
    expect(yes).toMatchObject({ noAckReason: 'keyword:yes', consent: 'opt-in', optInOnlyIfOptedOut: true });
    expect(plain).toEqual(MESSAGE);
    expect(other).toEqual({ ...MESSAGE, noAckReason: 'other-number' });
  });
});
