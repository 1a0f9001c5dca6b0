import { describe, expect, it } from 'vitest';
import { verifyMailgunSignature } from '#lib/channels/mailgun/verify.ts';
import {
  fixtureFiles,
  mailgunFixture,
  mailgunMultipartRequest,
  mailgunRequest,
  signMailgun,
  TEST_NOW,
  TEST_SIGNING_KEY,
} from '#test/support/mailgun-factory.ts';

const NOW_S = Math.floor(TEST_NOW.getTime() / 1000);

function verify(form: URLSearchParams, now = TEST_NOW) {
  return verifyMailgunSignature(mailgunRequest(form), TEST_SIGNING_KEY, now);
}

describe('verifyMailgunSignature', () => {
  it('should accept a route POST signed with the signing key', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));

    // Act
    const outcome = verify(form);

    // Assess
    expect(outcome).toBe('ok');
  });

  it('should accept a signed multipart POST with attachments', async () => {
    // Prepare
    const request = await mailgunMultipartRequest(
      signMailgun(mailgunFixture('two-attachments')),
      fixtureFiles(),
    );

    // Act
    const outcome = verifyMailgunSignature(request, TEST_SIGNING_KEY, TEST_NOW);

    // Assess
    expect(outcome).toBe('ok');
  });

  it('should reject a tampered token or timestamp', () => {
    // Prepare
    const tokenChanged = signMailgun(mailgunFixture('reply-polish'));
    tokenChanged.set('token', `${tokenChanged.get('token')}x`);
    const timestampChanged = signMailgun(mailgunFixture('reply-polish'));
    timestampChanged.set('timestamp', String(NOW_S + 1));

    // Act
    const outcomes = [verify(tokenChanged), verify(timestampChanged)];

    // Assess
    expect(outcomes).toEqual(['invalid', 'invalid']);
  });

  it('should reject a signature made with another key', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'), { key: 'key-another-account-0000000000000' });

    // Act
    const outcome = verify(form);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it.each([
    ['older than nine hours (past the retries of Mailgun)', NOW_S - 9 * 3600 - 1, 'expired'],
    ['exactly nine hours old', NOW_S - 9 * 3600, 'ok'],
    ["four hours old (Mailgun's last retry)", NOW_S - 4 * 3600, 'ok'],
    ['more than five minutes in the future', NOW_S + 301, 'invalid'],
    ['a little in the future (clock skew)', NOW_S + 60, 'ok'],
  ])('should judge a timestamp %s', (_case, timestamp, expected) => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'), { timestamp });

    // Act
    const outcome = verify(form);

    // Assess
    expect(outcome).toBe(expected);
  });

  it('should answer missing without a signature and invalid for a malformed one', () => {
    // Prepare
    const unsigned = signMailgun(mailgunFixture('reply-polish'));
    unsigned.delete('signature');
    const short = signMailgun(mailgunFixture('reply-polish'));
    short.set('signature', 'abc');
    const notHex = signMailgun(mailgunFixture('reply-polish'));
    notHex.set('signature', 'z'.repeat(64));

    // Act
    const outcomes = [verify(unsigned), verify(short), verify(notHex)];

    // Assess
    expect(outcomes).toEqual(['missing', 'invalid', 'invalid']);
  });

  it('should reject a form that repeats a signed field', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    form.append('token', 'second-token');

    // Act
    const outcome = verify(form);

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should accept an upper-case hex signature', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    form.set('signature', form.get('signature')?.toUpperCase() ?? '');

    // Act
    const outcome = verify(form);

    // Assess
    expect(outcome).toBe('ok');
  });

  it('should refuse to verify with an empty signing key', () => {
    // Act
    const act = () => verifyMailgunSignature(mailgunRequest(new URLSearchParams()), '', TEST_NOW);

    // Assess
    expect(act).toThrow(/signing key/);
  });
});
