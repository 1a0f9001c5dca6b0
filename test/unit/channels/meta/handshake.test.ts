import { describe, expect, it } from 'vitest';
import { metaHandshake } from '#lib/channels/meta/handshake.ts';
import { createMetaChannel } from '#lib/channels/meta/index.ts';

const VERIFY_TOKEN = 'switchboard-verify-8f2c1d';

describe('metaHandshake', () => {
  it('should answer the challenge for subscribe with the configured token', () => {
    // Prepare
    const channel = createMetaChannel({ appSecret: 'secret', verifyToken: VERIFY_TOKEN });

    // Act
    const result = channel.handshake({ mode: 'subscribe', token: VERIFY_TOKEN, challenge: '1158201444' });

    // Assess
    expect(result).toEqual({ ok: true, challenge: '1158201444' });
  });

  it.each([
    ['a wrong token', { mode: 'subscribe', token: 'switchboard-verify-8f2c1e', challenge: '1158201444' }],
    ['a longer token', { mode: 'subscribe', token: `${VERIFY_TOKEN}x`, challenge: '1158201444' }],
    ['no token', { mode: 'subscribe', challenge: '1158201444' }],
    ['another mode', { mode: 'unsubscribe', token: VERIFY_TOKEN, challenge: '1158201444' }],
    ['no mode', { token: VERIFY_TOKEN, challenge: '1158201444' }],
    ['no challenge', { mode: 'subscribe', token: VERIFY_TOKEN }],
  ])('should refuse %s', (_case, query) => {
    // Act
    const result = metaHandshake(query, VERIFY_TOKEN);

    // Assess
    expect(result).toEqual({ ok: false });
  });

  it('should refuse everything when the configured token is empty', () => {
    // Act
    const result = metaHandshake({ mode: 'subscribe', token: '', challenge: '1158201444' }, '');

    // Assess
    expect(result).toEqual({ ok: false });
  });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['spaces', '115 8201444'],
    ['an empty string', ''],
    ['65 characters', '1'.repeat(65)],
    ['a newline', '1158201444\n'],
  ])('should refuse a challenge with %s', (_case, challenge) => {
    // Act
    const result = metaHandshake({ mode: 'subscribe', token: VERIFY_TOKEN, challenge }, VERIFY_TOKEN);

    // Assess
    expect(result).toEqual({ ok: false });
  });

  it('should accept a 64-character token-like challenge', () => {
    // Prepare
    const challenge = `${'a'.repeat(32)}_-${'9'.repeat(30)}`;

    // Act
    const result = metaHandshake({ mode: 'subscribe', token: VERIFY_TOKEN, challenge }, VERIFY_TOKEN);

    // Assess
    expect(result).toEqual({ ok: true, challenge });
  });
});
