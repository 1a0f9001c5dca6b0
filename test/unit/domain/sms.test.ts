import { describe, expect, it } from 'vitest';
import { smsSegments, transliteratePolish } from '#lib/domain/sms.ts';

describe('smsSegments', () => {
  it.each([
    ['an empty text', '', { encoding: 'GSM-7', segments: 1, units: 0 }],
    ['plain ASCII', 'Hello', { encoding: 'GSM-7', segments: 1, units: 5 }],
    ['GSM-7 letters beyond ASCII', 'é ü Ñ £ @ §', { encoding: 'GSM-7', segments: 1, units: 11 }],
    ['a newline', 'a\nb', { encoding: 'GSM-7', segments: 1, units: 3 }],
    ['160 GSM-7 characters', 'a'.repeat(160), { encoding: 'GSM-7', segments: 1, units: 160 }],
    ['161 GSM-7 characters', 'a'.repeat(161), { encoding: 'GSM-7', segments: 2, units: 161 }],
    ['306 GSM-7 characters', 'a'.repeat(306), { encoding: 'GSM-7', segments: 2, units: 306 }],
    ['307 GSM-7 characters', 'a'.repeat(307), { encoding: 'GSM-7', segments: 3, units: 307 }],
    ['extension characters at two units', '€[]{}^~|\\', { encoding: 'GSM-7', segments: 1, units: 18 }],
    ['80 euro signs', '€'.repeat(80), { encoding: 'GSM-7', segments: 1, units: 160 }],
    [
      'an escape pair that would straddle two parts',
      `${'a'.repeat(152)}€${'a'.repeat(152)}`,
      { encoding: 'GSM-7', segments: 3, units: 306 },
    ],
    ['a Polish letter', 'ą', { encoding: 'UCS-2', segments: 1, units: 1 }],
    ['ó, which GSM-7 lacks', 'ó', { encoding: 'UCS-2', segments: 1, units: 1 }],
    ['70 UCS-2 characters', 'ż'.repeat(70), { encoding: 'UCS-2', segments: 1, units: 70 }],
    ['71 UCS-2 characters', 'ż'.repeat(71), { encoding: 'UCS-2', segments: 2, units: 71 }],
    ['134 UCS-2 characters', 'ż'.repeat(134), { encoding: 'UCS-2', segments: 2, units: 134 }],
    ['135 UCS-2 characters', 'ż'.repeat(135), { encoding: 'UCS-2', segments: 3, units: 135 }],
    ['an emoji as a surrogate pair', '😀', { encoding: 'UCS-2', segments: 1, units: 2 }],
    ['35 emoji', '😀'.repeat(35), { encoding: 'UCS-2', segments: 1, units: 70 }],
    ['36 emoji', '😀'.repeat(36), { encoding: 'UCS-2', segments: 2, units: 72 }],
    [
      'a surrogate pair that would straddle two parts',
      `${'ą'.repeat(66)}😀${'ą'.repeat(66)}`,
      { encoding: 'UCS-2', segments: 3, units: 134 },
    ],
  ])('should count %s', (_name, text, expected) => {
    // Act
    const result = smsSegments(text);

    // Assess
    expect(result).toEqual(expected);
  });
});

describe('transliteratePolish', () => {
  it.each([
    ['Zażółć gęślą jaźń', 'Zazolc gesla jazn'],
    ['ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż', 'ACELNOSZZ acelnoszz'],
    ['Café 10:00 €', 'Café 10:00 €'],
  ])('should turn %j into %j', (input, expected) => {
    // Act
    const result = transliteratePolish(input);

    // Assess
    expect(result).toBe(expected);
  });

  it('should make a Polish acknowledgement fit GSM-7', () => {
    // Prepare
    const text = 'Dzień dobry, dostaliśmy Twoją wiadomość. Odpiszę najpóźniej w środę do 10:00.';

    // Act
    const result = smsSegments(transliteratePolish(text));

    // Assess
    expect(result.encoding).toBe('GSM-7');
    expect(result.segments).toBe(1);
  });
});
