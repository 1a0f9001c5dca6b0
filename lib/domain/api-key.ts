import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { newId } from './ids.ts';

/** What an API key may do: read conversations, reply to customers, manage keys. */
export const API_KEY_SCOPES = ['read', 'reply', 'admin'] as const;
export const ScopeSchema = z.enum(API_KEY_SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

export const ApiKeyIdSchema = z.string().regex(/^key_[0-9a-z]{26}$/);

/** An agent tool's key as listed: never the token, never its hash. */
export const ApiKeySchema = z.object({
  id: ApiKeyIdSchema,
  name: z.string().min(1).max(100),
  /**
   * At least one when created; as read, only the scopes this release knows (a key whose every
   * scope only a newer release knows, read after a rollback, lists none and grants nothing).
   */
  scopes: z.array(ScopeSchema).meta({
    description:
      'What the key may do (at least one when created); a scope only a newer release of Switchboard knows is not listed and grants nothing here',
  }),
  /** The person replies sent with this key are signed by; null for tools that do not reply. */
  agentName: z.string().min(1).max(100).nullable(),
  /**
   * That person's id in the business configuration, which signs the key's replies: a rename
   * there keeps signing as them. Null for a key without an agent, and for one created before
   * keys kept it (stop 26), whose replies find their person by `agentName`.
   */
  agentId: z.string().min(1).max(100).nullable().meta({
    description:
      "The id, in the business configuration, of the person who signs the key's replies (a rename there keeps signing as them); null for a key without an agent, or one created before keys kept it, whose replies find their person by agentName",
  }),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** The stored form: the key plus the SHA-256 of its secret (hex). */
export const StoredApiKeySchema = ApiKeySchema.extend({ secretHash: z.string().regex(/^[0-9a-f]{64}$/) });
export type StoredApiKey = z.infer<typeof StoredApiKeySchema>;

/** Who is calling the agents' API: a stored key, or the bootstrap AGENT_API_TOKEN. */
export type Principal = {
  keyId: string | 'bootstrap';
  scopes: readonly Scope[];
  agentName: string | null;
  agentId: string | null;
};

export const BOOTSTRAP_PRINCIPAL: Principal = {
  keyId: 'bootstrap',
  scopes: API_KEY_SCOPES,
  agentName: null,
  agentId: null,
};

const TOKEN_PREFIX = 'sbk_';
const SECRET_BYTES = 32;
// 32 bytes are 43 base64url characters (no padding); the id has a fixed shape, so the
// underscores a secret may contain never make the split ambiguous.
const TOKEN = /^sbk_(key_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

/**
 * What an `Authorization: Bearer` header carries: visible ASCII (no space, nothing a header
 * would have to encode), 512 characters at most. The API reads tokens with it, and the
 * configuration refuses an AGENT_API_TOKEN outside it: no request could ever present it.
 */
export const BEARER_TOKEN = /^[\x21-\x7e]{1,512}$/;

/**
 * The shortest AGENT_API_TOKEN production accepts: the bootstrap key is an admin key to every
 * conversation. 32 characters is what `openssl rand -hex 16` gives; the stack generates 48.
 * Length is no measure of randomness, but it refuses "changeme" and a test value.
 */
export const MIN_PRODUCTION_TOKEN_LENGTH = 32;

/** lastUsedAt is written at most this often per key: one write a minute instead of one per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * SHA-256, not bcrypt/scrypt/argon2: the secret is 256 random bits, so guessing it from the
 * hash is infeasible however fast the hash is. Slow hashes exist to stretch low-entropy
 * passwords; here they would only add ~100 ms of CPU to every API request (and make each
 * bad request an amplified cost) without adding any security.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export function secretsMatch(presented: string, expected: string): boolean {
  if (expected.length === 0) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Whether a presented secret is the one whose hash was stored. */
export function matchesHash(secret: string, secretHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(secretHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Splits `sbk_<id>_<secret>`; null for anything else (no hint which part was wrong). */
export function parseToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN.exec(token);
  if (!match?.[1] || !match[2]) return null;
  return { id: match[1], secret: match[2] };
}

export type NewApiKey = {
  name: string;
  scopes: readonly Scope[];
  agentName: string | null;
  agentId: string | null;
};

/** A fresh key: the record to store (hash only) and the token to show once. */
export function issueApiKey(input: NewApiKey, now: Date): { key: StoredApiKey; token: string } {
  const id = newId('key', now);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const scopes = API_KEY_SCOPES.filter((scope) => input.scopes.includes(scope));
  const key: StoredApiKey = {
    id,
    name: input.name,
    scopes,
    agentName: input.agentName,
    agentId: input.agentId,
    createdAt: now.toISOString(),
    lastUsedAt: null,
    revokedAt: null,
    secretHash: hashSecret(secret),
  };
  return { key, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** The principal a valid token stands for, or why it does not stand for one. */
export function authenticateKey(
  key: StoredApiKey | null,
  secret: string,
): { kind: 'ok'; principal: Principal } | { kind: 'unknown' | 'revoked' | 'mismatch' } {
  if (!key) return { kind: 'unknown' };
  if (!matchesHash(secret, key.secretHash)) return { kind: 'mismatch' };
  if (key.revokedAt !== null) return { kind: 'revoked' };
  return {
    kind: 'ok',
    principal: { keyId: key.id, scopes: key.scopes, agentName: key.agentName, agentId: key.agentId },
  };
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope);
}

/** Whether this use should be written as lastUsedAt (it was never used, or not within the last minute). */
export function isLastUseStale(lastUsedAt: string | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - Date.parse(lastUsedAt) >= LAST_USED_RESOLUTION_MS;
}

/** A key as the API lists it: only the listed fields, whatever else the stored item holds. */
export function publicKey(key: ApiKey): ApiKey {
  const { id, name, scopes, agentName, agentId, createdAt, lastUsedAt, revokedAt } = key;
  return { id, name, scopes, agentName, agentId, createdAt, lastUsedAt, revokedAt };
}
