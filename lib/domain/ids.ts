import { hash, randomFillSync } from 'node:crypto';

// Crockford base32: ids sort by time as strings and read well in logs and URLs.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0 && out.length < length) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// Random bytes drawn from the CSPRNG a page at a time: one syscall per ~400 ids, not one each.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomSlice(length: number): Uint8Array {
  if (poolOffset + length > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const slice = POOL.subarray(poolOffset, poolOffset + length);
  poolOffset += length;
  return slice;
}

/**
 * A new time-ordered id (48-bit millisecond time + 80 random bits, ULID-like), so that ids
 * created later sort later. Written here rather than pulled from a package: it is twelve
 * lines and node:crypto is all it needs.
 */
export function newId(prefix: string, now: Date): string {
  const time = Buffer.alloc(6);
  time.writeUIntBE(now.getTime(), 0, 6);
  return `${prefix}_${base32(time, 10)}${base32(randomSlice(10), 16)}`;
}

/**
 * A deterministic id derived from a natural key (provider + provider message id, or
 * conversation + episode for an ack): the same delivery always maps to the same item, which
 * is what makes every write idempotent.
 */
export function stableId(prefix: string, naturalKey: string): string {
  // The one-shot hash: the same SHA-256 of the same UTF-8 bytes as createHash().update().digest(),
  // without the Hash object (about half the time; a webhook makes three of these ids).
  return `${prefix}_${base32(hash('sha256', naturalKey, 'buffer'), 26)}`;
}
