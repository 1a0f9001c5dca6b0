import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derInteger, selfSignedCertificate } from '#lib/local/self-signed-certificate.ts';

const hex = (bytes: number[]) => Buffer.from(derInteger(Buffer.from(bytes))).toString('hex');

describe('derInteger', () => {
  it('should encode minimally: no leading zero byte unless the next has its high bit set', () => {
    // A serial of random bytes starting 0x00 0x05 was encoded as 02 02 00 05, which OpenSSL
    // refuses: one certificate in 512 of npm start's SES stand-in and of the tests did not parse.
    expect(hex([0x00, 0x05])).toBe('020105');
    expect(hex([0x00, 0x00, 0x7f])).toBe('02017f');
    expect(hex([0x00, 0x00])).toBe('020100');
    expect(hex([0x80])).toBe('02020080');
    expect(hex([0x00, 0x80])).toBe('02020080');
    expect(hex([0x01, 0x00])).toBe('02020100');
  });

  it('should keep the value and stay positive for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (bytes) => {
        // Act
        const encoded = derInteger(Buffer.from(bytes));

        // Assess: tag, short length, then a minimal non-negative two's complement number.
        const content = encoded.subarray(2);
        expect(encoded[0]).toBe(0x02);
        expect(encoded[1]).toBe(content.length);
        expect(content[0] ?? 0).toBeLessThan(0x80);
        if (content.length > 1) expect(content[0] === 0 && (content[1] ?? 0) < 0x80).toBe(false);
        const value = (buffer: Uint8Array) => BigInt(`0x${Buffer.from(buffer).toString('hex') || '0'}`);
        expect(value(content)).toBe(value(bytes));
      }),
    );
  });
});

describe('selfSignedCertificate', () => {
  it('should make certificates node:crypto parses, for its key, with the name asked for', () => {
    // Prepare
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

    // Act: enough serials that a leading zero byte turns up (one in 256).
    const certificates = Array.from({ length: 1500 }, () =>
      selfSignedCertificate(publicKey, privateKey, { commonName: 'sns.amazonaws.com', validDays: 365 }),
    );

    // Assess
    const parsed = certificates.map((pem) => new X509Certificate(pem));
    expect(parsed.every((certificate) => certificate.checkPrivateKey(privateKey))).toBe(true);
    expect(parsed[0]?.subject).toBe('CN=sns.amazonaws.com');
    expect(new Date(parsed[0]?.validTo ?? 0).getTime()).toBeGreaterThan(Date.now() + 364 * 86_400_000);
  });
});
