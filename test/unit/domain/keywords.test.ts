import { describe, expect, it } from 'vitest';
import { type Keyword, keywordOf, markKeyword, withoutKeyword } from '#lib/domain/keywords.ts';
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
    ['STOP', 'sms', { word: 'STOP', consent: 'opt-out' }],
    [' optout ', 'sms', { word: 'OPTOUT', consent: 'opt-out' }],
    ['unstop', 'sms', { word: 'UNSTOP', consent: 'opt-in' }],
    ['START', 'sms', { word: 'START', consent: 'opt-in' }],
    ['yes', 'sms', { word: 'YES', consent: 'opt-in', onlyIfOptedOut: true }],
    ['HELP', 'sms', { word: 'HELP', consent: undefined }],
    ['Cancel', 'sms', { word: 'CANCEL', consent: 'opt-out' }],
    ['HELP', 'whatsapp', undefined],
    ['stop please', 'sms', undefined],
    // Found at stop 33: the words that cannot be an ordinary answer are ours to read on SMS too.
    ['Wypisz mnie', 'sms', { word: 'WYPISZ-MNIE', consent: 'opt-out' }],
    ['Stop.', 'sms', { word: 'STOP', consent: 'opt-out' }],
    ['Cancel.', 'sms', undefined],
    ['Stop?', 'sms', undefined],
    // Every question mark is one: full-width (an East Asian keyboard), Arabic, opening Spanish.
    ['Stop？', 'sms', undefined],
    ['¿Stop', 'sms', undefined],
    // Found at stop 33: a Polish customer who wrote "Wypisz mnie" could opt back in only in
    // English. Polish opt-in words (and START / YES as people type them) count on SMS too, but
    // only from a number that opted out (Twilio neither reads nor answers them): from anyone else
    // "Zapisz mnie" is a message, acknowledged.
    ['Zapisz mnie', 'sms', { word: 'ZAPISZ-MNIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['zapisuję się.', 'sms', { word: 'ZAPISUJE-SIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Subskrybuj', 'sms', { word: 'SUBSKRYBUJ', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Wznów!', 'sms', { word: 'WZNOW', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Start.', 'sms', { word: 'START', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Zapisz mnie?', 'sms', undefined],
    ['Wznów？', 'sms', undefined],
    ['Tak', 'sms', undefined],
    ['Zapisz mnie na wizytę', 'sms', undefined],
  ] as const)('should read %j (%s) as %j', (body, channel, expected) => {
    // Act
    const keyword = keywordOf(body, channel);

    // Assess
    expect(keyword).toEqual(expected);
  });

  // Found at stop 25: WhatsApp read Twilio's SMS list, so an order's "Cancel", "End" or "Quit"
  // opted the number out of every phone channel (no ack, no promise) though nobody confirms an
  // opt-out there, and a Polish customer's own words were not understood at all.
  it.each([
    ['Cancel', undefined],
    ['end', undefined],
    [' QUIT ', undefined],
    ['Anuluj', undefined],
    ['Rezygnuję', undefined],
    ['Nie', undefined],
    ['help', undefined],
    ['Stop', { word: 'STOP', consent: 'opt-out' }],
    ['Unsubscribe', { word: 'UNSUBSCRIBE', consent: 'opt-out' }],
    ['odsubskrybuj', { word: 'ODSUBSKRYBUJ', consent: 'opt-out' }],
    ['Wypisz mnie', { word: 'WYPISZ-MNIE', consent: 'opt-out' }],
    ['wypisuję  się', { word: 'WYPISUJE-SIE', consent: 'opt-out' }],
    ['wypisuje sie', { word: 'WYPISUJE-SIE', consent: 'opt-out' }],
    // Found at stop 33: punctuation around the word, as people type it.
    ['Stop.', { word: 'STOP', consent: 'opt-out' }],
    ['"STOP!!!" ', { word: 'STOP', consent: 'opt-out' }],
    ['Wypisz mnie!', { word: 'WYPISZ-MNIE', consent: 'opt-out' }],
    ['Stop?', undefined],
    ['Stop？', undefined],
    ['¿Stop', undefined],
    ['Stop؟', undefined],
    ['Wypisz mnie﹖', undefined],
    ['Anuluj.', undefined],
    ['Start!', { word: 'START', consent: 'opt-in', onlyIfOptedOut: true }],
    // Found at stop 25 as well: nobody answers START on WhatsApp, so from one who never opted out
    // it is a question (a click-to-chat greeting), like YES.
    ['Start', { word: 'START', consent: 'opt-in', onlyIfOptedOut: true }],
    ['unstop', { word: 'UNSTOP', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Yes', { word: 'YES', consent: 'opt-in', onlyIfOptedOut: true }],
    // Found at stop 33: opting back in in Polish, as opting out ("Wypisz mnie"), only from a
    // number that opted out; never "Tak" ("yes"), which answers an agent's question.
    ['Zapisz mnie', { word: 'ZAPISZ-MNIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['zapisz mnie!', { word: 'ZAPISZ-MNIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Zapisuję się', { word: 'ZAPISUJE-SIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['zapisuje sie', { word: 'ZAPISUJE-SIE', consent: 'opt-in', onlyIfOptedOut: true }],
    ['subskrybuj', { word: 'SUBSKRYBUJ', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Wznów', { word: 'WZNOW', consent: 'opt-in', onlyIfOptedOut: true }],
    ['wznow.', { word: 'WZNOW', consent: 'opt-in', onlyIfOptedOut: true }],
    ['Zapisz mnie?', undefined],
    ['¿Wznów', undefined],
    ['Tak', undefined],
    ['Tak!', undefined],
  ] as const)('should read %j on WhatsApp as %j', (body, expected) => {
    // Act
    const keyword = keywordOf(body, 'whatsapp');

    // Assess
    expect(keyword).toEqual(expected);
  });

  it("should drop a YES's keyword marks from one who never opted out and keep the channel's own reason", () => {
    // Prepare
    const yes = { ...MESSAGE };
    markKeyword(yes, keywordOf('Yes', 'whatsapp') as Keyword);
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
