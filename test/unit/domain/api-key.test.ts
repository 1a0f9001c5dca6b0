import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ApiKeySchema,
  authenticateKey,
  BOOTSTRAP_PRINCIPAL,
  hashSecret,
  hasScope,
  isLastUseStale,
  issueApiKey,
  matchesHash,
  parseToken,
  publicKey,
  secretsMatch,
} from '#lib/domain/api-key.ts';

const NOW = new Date('2026-11-25T09:00:00.000Z');

function issue(scopes: Array<'read' | 'reply' | 'admin'> = ['read', 'reply']) {
  return issueApiKey({ name: 'Helpdesk', scopes, agentName: 'Anna Kowalska', agentId: 'anna' }, NOW);
}

describe('API keys', () => {
  it('should issue a token sbk_<id>_<43 base64url chars> whose id is the key id', () => {
    // Act
    const { key, token } = issue();

    // Assess
    expect(token).toMatch(/^sbk_key_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`sbk_${key.id}_`)).toBe(true);
    expect(Buffer.from(token.slice(-43), 'base64url')).toHaveLength(32);
    expect(key).toMatchObject({
      name: 'Helpdesk',
      scopes: ['read', 'reply'],
      agentName: 'Anna Kowalska',
      agentId: 'anna',
      createdAt: NOW.toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    });
  });

  it('should store the SHA-256 of the secret and never the secret or the token', () => {
    // Act
    const { key, token } = issue();
    const secret = token.slice(-43);

    // Assess
    expect(key.secretHash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hashSecret(secret)).toBe(key.secretHash);
    expect(JSON.stringify(key)).not.toContain(secret);
  });

  it('should issue a different secret and id every time', () => {
    // Act
    const tokens = new Set(Array.from({ length: 50 }, () => issue().token));
    const ids = new Set([...tokens].map((token) => parseToken(token)?.id));

    // Assess
    expect(tokens.size).toBe(50);
    expect(ids.size).toBe(50);
  });

  it('should parse a token back into its id and secret, also when the secret holds underscores', () => {
    // Prepare
    const id = 'key_01jq0000000000000000000000';
    const secret = `${'_'.repeat(20)}${'a-'.repeat(11)}b`;

    // Act
    const parsed = parseToken(`sbk_${id}_${secret}`);

    // Assess
    expect(secret).toHaveLength(43);
    expect(parsed).toEqual({ id, secret });
  });

  it.each([
    ['empty', ''],
    ['another prefix', `ghp_key_${'0'.repeat(26)}_${'A'.repeat(43)}`],
    ['no secret', `sbk_key_${'0'.repeat(26)}_`],
    ['a short secret', `sbk_key_${'0'.repeat(26)}_${'A'.repeat(42)}`],
    ['a long secret', `sbk_key_${'0'.repeat(26)}_${'A'.repeat(44)}`],
    ['padding', `sbk_key_${'0'.repeat(26)}_${'A'.repeat(42)}=`],
    ['an upper-case id', `sbk_key_${'A'.repeat(26)}_${'A'.repeat(43)}`],
    ['a short id', `sbk_key_${'0'.repeat(25)}_${'A'.repeat(43)}`],
    ['a space inside', `sbk_key_${'0'.repeat(26)}_${'A'.repeat(21)} ${'A'.repeat(21)}`],
    ['a trailing newline', `sbk_key_${'0'.repeat(26)}_${'A'.repeat(43)}\n`],
  ])('should refuse a malformed token (%s)', (_name, token) => {
    // Act + Assess
    expect(parseToken(token)).toBeNull();
  });

  it('should accept the right secret and refuse a wrong, unknown or revoked one', () => {
    // Prepare
    const { key, token } = issue();
    const secret = token.slice(-43);
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;

    // Act
    const ok = authenticateKey(key, secret);

    // Assess
    expect(ok).toEqual({
      kind: 'ok',
      principal: { keyId: key.id, scopes: ['read', 'reply'], agentName: 'Anna Kowalska', agentId: 'anna' },
    });
    expect(authenticateKey(key, wrong)).toEqual({ kind: 'mismatch' });
    expect(authenticateKey(null, secret)).toEqual({ kind: 'unknown' });
    expect(authenticateKey({ ...key, revokedAt: NOW.toISOString() }, secret)).toEqual({ kind: 'revoked' });
    expect(matchesHash(secret, 'not-hex')).toBe(false);
  });

  it('should compare the bootstrap token exactly and never match an empty one', () => {
    // Act + Assess
    expect(secretsMatch('dev_abc', 'dev_abc')).toBe(true);
    expect(secretsMatch('dev_abd', 'dev_abc')).toBe(false);
    expect(secretsMatch('dev_ab', 'dev_abc')).toBe(false);
    expect(secretsMatch('', '')).toBe(false);
  });

  it('should check scopes one by one, with all of them for the bootstrap key', () => {
    // Prepare
    const { key, token } = issue(['read']);
    const outcome = authenticateKey(key, token.slice(-43));
    if (outcome.kind !== 'ok') throw new Error('expected a valid key');

    // Act + Assess
    expect(hasScope(outcome.principal, 'read')).toBe(true);
    expect(hasScope(outcome.principal, 'reply')).toBe(false);
    expect(hasScope(outcome.principal, 'admin')).toBe(false);
    expect(['read', 'reply', 'admin'].every((s) => hasScope(BOOTSTRAP_PRINCIPAL, s as 'read'))).toBe(true);
    expect(BOOTSTRAP_PRINCIPAL).toEqual({
      keyId: 'bootstrap',
      scopes: ['read', 'reply', 'admin'],
      agentName: null,
      agentId: null,
    });
  });

  it('should keep scopes in a canonical order without duplicates', () => {
    // Act
    const { key } = issue(['admin', 'read', 'admin']);

    // Assess
    expect(key.scopes).toEqual(['read', 'admin']);
  });

  it('should write lastUsedAt when it is unset or at least a minute old', () => {
    // Act + Assess
    expect(isLastUseStale(null, NOW)).toBe(true);
    expect(isLastUseStale('2026-11-25T08:59:00.001Z', NOW)).toBe(false);
    expect(isLastUseStale('2026-11-25T08:59:00.000Z', NOW)).toBe(true);
  });

  it('should list a key with its public fields only', () => {
    // Act
    const listed = publicKey(issue().key);

    // Assess
    expect(Object.keys(listed).sort()).toEqual(
      ['agentId', 'agentName', 'createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes'].sort(),
    );
    expect(ApiKeySchema.safeParse(listed).success).toBe(true);
  });
});
