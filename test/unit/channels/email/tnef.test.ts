import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tnefMayHoldFiles } from '#lib/channels/email/tnef.ts';

/** The winmail.dat of a fixture, decoded. */
function winmail(fixture: string): Uint8Array {
  const raw = readFileSync(new URL(`../../../fixtures/email/${fixture}.eml`, import.meta.url), 'utf8');
  const part = raw.split('filename="winmail.dat"')[1]?.split('\r\n\r\n')[1]?.split('\r\n\r\n')[0] ?? '';
  return new Uint8Array(Buffer.from(part, 'base64'));
}

describe('tnefMayHoldFiles', () => {
  it('should read a winmail.dat of message attributes alone as formatting', () => {
    expect(tnefMayHoldFiles(winmail('outlook-winmail'))).toBe(false);
  });

  it('should read a winmail.dat with an attachment-level attribute as holding files', () => {
    expect(tnefMayHoldFiles(winmail('outlook-winmail-invoice'))).toBe(true);
  });

  it.each([
    ['empty', new Uint8Array()],
    ['not TNEF', new TextEncoder().encode('%PDF-1.4 not a bundle at all')],
    ['cut short inside an attribute', winmail('outlook-winmail').slice(0, 45)],
    ['cut short inside an attribute head', winmail('outlook-winmail').slice(0, 10)],
  ])('should take a winmail.dat it cannot read (%s) as one that may hold files', (_case, bytes) => {
    expect(tnefMayHoldFiles(bytes)).toBe(true);
  });
});
