import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalAddress, sendableAddress } from '#lib/channels/email/address.ts';

const PUNYCODE = domainToASCII('żółw.example');

// Found at stop 23 by a review of contact identity: a quoted local part was refused (400, the
// mail lost), and one person with an internationalized domain became two contacts.
describe('canonicalAddress', () => {
  it.each([
    ['a plain address, lower-cased', 'Zofia.Wojcik@Poczta.Example.PL', 'zofia.wojcik@poczta.example.pl'],
    [
      'a quoted local part as postal-mime keeps it',
      '"Jan Kowalski"@firma.example',
      '"jan kowalski"@firma.example',
    ],
    [
      'a quoted local part as postal-mime unquotes it',
      'jan kowalski@firma.example',
      '"jan kowalski"@firma.example',
    ],
    ['quotes that are not needed', '"jan.kowalski"@firma.example', 'jan.kowalski@firma.example'],
    ['an escaped quote', '"jan\\"k"@firma.example', '"jan\\"k"@firma.example'],
    ['an @ inside the local part', 'a@b@firma.example', '"a@b"@firma.example'],
    ['a Unicode domain', 'zofia@żółw.example', `zofia@${PUNYCODE}`],
    ['a Punycode domain in capitals', `zofia@${PUNYCODE.toUpperCase()}`, `zofia@${PUNYCODE}`],
    ['a Unicode local part (RFC 6532)', 'żaneta@poczta.example.pl', 'żaneta@poczta.example.pl'],
    ['a domain literal', 'jan@[192.0.2.1]', 'jan@[192.0.2.1]'],
  ])('should give %s one form', (_, address, expected) => {
    // Act
    const canonical = canonicalAddress(address);

    // Assess
    expect(canonical).toBe(expected);
  });

  it.each([
    ['no @', 'jan.kowalski'],
    ['no local part', '@firma.example'],
    ['no domain', 'jan@'],
    ['a space in the domain', 'jan@fir ma.example'],
    ['a quote in the domain', 'jan@fir"ma.example'],
    ['a line break in the local part', '"jan\r\nBcc: x@y.example"@firma.example'],
  ])('should refuse %s', (_, address) => {
    // Act
    const canonical = canonicalAddress(address);

    // Assess
    expect(canonical).toBeUndefined();
  });
});

describe('sendableAddress', () => {
  it('should give SES the domain in Punycode and keep the local part as written', () => {
    // Act
    const addresses = [
      sendableAddress('Zofia@żółw.example'),
      sendableAddress('jan kowalski@firma.example'),
      sendableAddress('żaneta@poczta.example.pl'),
    ];

    // Assess: SES has no SMTPUTF8, so a non-ASCII local part cannot be sent at all
    expect(addresses).toEqual([`Zofia@${PUNYCODE}`, '"jan kowalski"@firma.example', undefined]);
  });
});
