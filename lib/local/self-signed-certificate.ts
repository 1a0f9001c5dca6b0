import { type KeyObject, randomBytes, sign } from 'node:crypto';

// A minimal DER encoder, just what a self-signed X.509 v1 certificate needs: node:crypto
// verifies certificates but cannot make them, and neither npm start nor a test should need
// openssl or a network.
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}
const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));

/**
 * A DER INTEGER of a non-negative big-endian number: minimal (no leading zero bytes, which
 * OpenSSL refuses) and positive (a zero byte before a set high bit).
 */
export function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = value.subarray(start);
  return der(0x02, (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}
const utcTime = (date: Date) =>
  der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let value = part >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
const nameOf = (commonName: string) =>
  sequence(set(sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
const DAY_MS = 86_400_000;

/**
 * A self-signed RSA certificate (PEM) for the key pair, like the one SNS publishes: valid from
 * a day ago for `validDays`, with a random 8-byte serial (RFC 5280: positive, at most 20 bytes).
 */
export function selfSignedCertificate(
  publicKey: KeyObject,
  privateKey: KeyObject,
  options: { commonName: string; validDays: number },
): string {
  const now = Date.now();
  const name = nameOf(options.commonName);
  const tbs = sequence(
    derInteger(randomBytes(8)),
    SHA256_WITH_RSA,
    name,
    sequence(utcTime(new Date(now - DAY_MS)), utcTime(new Date(now + options.validDays * DAY_MS))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
