import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMetaChannel } from '#lib/channels/meta/index.ts';
import { verifyMetaSignature } from '#lib/channels/meta/verify.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import {
  metaFixtureBody,
  metaJson,
  signedMetaRequest,
  signMeta,
  TEST_APP_SECRET,
  TEST_WEBHOOK_URL,
} from '#test/support/meta-factory.ts';

describe('verifyMetaSignature', () => {
  it.each(['messenger-text', 'instagram-text', 'whatsapp-statuses', 'batch'] as const)(
    'should accept the %s fixture signed over its raw bytes',
    (fixture) => {
      // Prepare
      const request = signedMetaRequest(metaFixtureBody(fixture));

      // Act
      const outcome = verifyMetaSignature(request, TEST_APP_SECRET);

      // Assess
      expect(outcome).toBe('ok');
    },
  );

  it('should reject a body re-serialized after signing (escaped unicode turned into UTF-8)', () => {
    // Prepare
    const raw = metaFixtureBody('messenger-text');
    const request = signedMetaRequest(raw);
    const reserialized = JSON.stringify(JSON.parse(raw));

    // Act
    const outcome = verifyMetaSignature({ ...request, rawBody: reserialized }, TEST_APP_SECRET);

    // Assess
    expect(raw).toContain('\\u0144');
    expect(outcome).toBe('invalid');
  });

  it('should check the bytes as received, so a body that is not valid UTF-8 is judged on its signature', () => {
    // Prepare: bytes no UTF-8 decoder gives back (0xff), signed as sent
    const bytes = Buffer.concat([
      Buffer.from('{"object":"page","entry":["'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"]}'),
    ]);
    const signature = `sha256=${createHmac('sha256', TEST_APP_SECRET).update(bytes).digest('hex')}`;
    const request = {
      url: TEST_WEBHOOK_URL,
      headers: new Headers({ 'x-hub-signature-256': signature }),
      rawBody: new TextDecoder().decode(bytes),
      rawBytes: new Uint8Array(bytes),
    };

    // Act
    const genuine = verifyMetaSignature(request, TEST_APP_SECRET);
    const decoded = verifyMetaSignature({ ...request, rawBytes: undefined }, TEST_APP_SECRET);

    // Assess: the decoded text no longer matches what was signed; the bytes do
    expect(genuine).toBe('ok');
    expect(decoded).toBe('invalid');
  });

  it('should reject a tampered body', () => {
    // Prepare
    const raw = metaFixtureBody('messenger-text');
    const request = signedMetaRequest(raw);

    // Act
    const outcome = verifyMetaSignature(
      { ...request, rawBody: raw.replace('7214568801234567', '7214568801234568') },
      TEST_APP_SECRET,
    );

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should answer missing when no signature header is present', () => {
    // Prepare
    const request = {
      url: TEST_WEBHOOK_URL,
      headers: new Headers(),
      rawBody: metaFixtureBody('messenger-text'),
    };

    // Act
    const outcome = verifyMetaSignature(request, TEST_APP_SECRET);

    // Assess
    expect(outcome).toBe('missing');
  });

  it('should reject a request signed with another app secret', () => {
    // Prepare
    const request = signedMetaRequest(metaFixtureBody('messenger-text'), { appSecret: 'another-app-secret' });

    // Act
    const outcome = verifyMetaSignature(request, TEST_APP_SECRET);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should refuse a request that carries only the legacy SHA-1 signature, even a correct one', () => {
    // Prepare
    const body = metaFixtureBody('messenger-text');
    const sha1 = createHmac('sha1', TEST_APP_SECRET).update(body, 'utf8').digest('hex');
    const request = {
      url: TEST_WEBHOOK_URL,
      headers: new Headers({ 'x-hub-signature': `sha1=${sha1}` }),
      rawBody: body,
    };

    // Act
    const outcome = verifyMetaSignature(request, TEST_APP_SECRET);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it.each([
    ['no prefix', (hex: string) => hex],
    ['the sha1 prefix', (hex: string) => `sha1=${hex}`],
    ['a truncated digest', (hex: string) => `sha256=${hex.slice(0, 63)}`],
    ['a non-hex digest', (hex: string) => `sha256=${hex.slice(0, 63)}g`],
    ['a longer digest', (hex: string) => `sha256=${hex}00`],
    ['an empty digest', () => 'sha256='],
  ])('should reject a malformed header with %s without throwing', (_case, shape) => {
    // Prepare
    const body = metaFixtureBody('messenger-text');
    const hex = signMeta(body).slice('sha256='.length);
    const request = signedMetaRequest(body, { headers: { 'x-hub-signature-256': shape(hex) } });

    // Act
    const outcome = verifyMetaSignature(request, TEST_APP_SECRET);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should refuse to verify with an empty app secret, and the channel should refuse to start', () => {
    // Prepare
    const request = signedMetaRequest(metaFixtureBody('messenger-text'), { appSecret: '' });

    // Act
    const verify = () => verifyMetaSignature(request, '');
    const create = () => createMetaChannel({ appSecret: '', verifyToken: 'token' });

    // Assess
    expect(verify).toThrow(/app secret/);
    expect(create).toThrow(/appSecret/);
  });

  it('should accept any signed body and reject it once a character changes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.nat(), (text, pick) => {
        // Prepare
        const body = metaJson({ object: 'page', entry: [{ id: '1', messaging: [{ text }] }] });
        const at = pick % body.length;
        const changed = `${body.slice(0, at)}${body[at] === 'x' ? 'y' : 'x'}${body.slice(at + 1)}`;

        // Act
        const genuine = verifyMetaSignature(signedMetaRequest(body), TEST_APP_SECRET);
        const forged = verifyMetaSignature({ ...signedMetaRequest(body), rawBody: changed }, TEST_APP_SECRET);

        // Assess
        expect(genuine).toBe('ok');
        expect(forged).toBe('invalid');
      }),
      fuzzRuns(200),
    );
  });
});
