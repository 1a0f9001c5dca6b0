import { createHash, timingSafeEqual } from 'node:crypto';

export type HandshakeQuery = { mode?: string; token?: string; challenge?: string };
export type HandshakeResult = { ok: true; challenge: string } | { ok: false };

// Meta sends a number; anything else echoed back verbatim would be a reflection vector.
const CHALLENGE = /^[A-Za-z0-9_-]{1,64}$/;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Answers Meta's subscription check (`hub.mode`, `hub.verify_token`, `hub.challenge`):
 * ok with the challenge to echo only for `subscribe` with our verify token, compared in
 * constant time. An empty configured token never matches.
 */
export function metaHandshake(query: HandshakeQuery, verifyToken: string): HandshakeResult {
  const { mode, token, challenge } = query;
  if (verifyToken === '' || mode !== 'subscribe' || token === undefined || challenge === undefined) {
    return { ok: false };
  }
  // Digests have equal lengths, so the comparison leaks neither content nor length.
  const matches = timingSafeEqual(digest(token), digest(verifyToken));
  return matches && CHALLENGE.test(challenge) ? { ok: true, challenge } : { ok: false };
}
