import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateUnavailableError, createSnsVerifier, isSnsCertUrl } from '#lib/channels/ses/verify.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import {
  type SnsKeys,
  sesFixture,
  signSns,
  snsKeys,
  snsNotification,
  snsRequest,
  TEST_CERT_URL,
  TEST_TOPIC_ARN,
} from '#test/support/sns-signer.ts';

let keys: SnsKeys;
let otherKeys: SnsKeys;

beforeAll(() => {
  keys = snsKeys();
  otherKeys = snsKeys();
});

/** A few minutes after the fixtures' signed Timestamp (2026-11-10T08:14:06Z). */
const SIGNED_NOW = new Date('2026-11-10T08:20:00Z');

function verifier(options: { topicArns?: string[]; pem?: () => string; now?: Date } = {}) {
  const fetched: string[] = [];
  const verify = createSnsVerifier({
    topicArns: options.topicArns ?? [TEST_TOPIC_ARN],
    fetchCertificate: async (url) => {
      fetched.push(url);
      return options.pem ? options.pem() : keys.certificatePem;
    },
    now: () => options.now ?? SIGNED_NOW,
  });
  return { verify, fetched };
}

const received = () => snsNotification(sesFixture('received-inline'));

describe('createSnsVerifier', () => {
  it.each(['1', '2'] as const)(
    'should accept a Notification signed with SignatureVersion %s',
    async (version) => {
      // Prepare
      const { verify } = verifier();
      const request = snsRequest(signSns(received(), keys, { version }));

      // Act
      const outcome = await verify(request);

      // Assess
      expect(outcome).toBe('ok');
    },
  );

  it('should accept a Notification without a Subject (the field is then not signed)', async () => {
    // Prepare
    const { verify } = verifier();
    const { Subject: _subject, ...message } = received();

    // Act
    const outcome = await verify(snsRequest(signSns(message, keys)));

    // Assess
    expect(outcome).toBe('ok');
  });

  it.each(['1', '2'] as const)(
    'should accept a SubscriptionConfirmation signed with v%s',
    async (version) => {
      // Prepare
      const { verify } = verifier();
      const confirmation = sesFixture('subscription-confirmation') as Record<string, string>;

      // Act
      const outcome = await verify(snsRequest(signSns(confirmation, keys, { version })));

      // Assess
      expect(outcome).toBe('ok');
    },
  );

  it('should reject a Notification whose Message was changed after signing', async () => {
    // Prepare
    const { verify } = verifier();
    const signed = signSns(received(), keys);
    signed.Message = signed.Message?.replace('kontakt@sklep.example', 'attacker@evil.example') ?? '';

    // Act
    const outcome = await verify(snsRequest(signed));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a confirmation whose SubscribeURL was changed after signing', async () => {
    // Prepare
    const { verify } = verifier();
    const signed = signSns(sesFixture('subscription-confirmation') as Record<string, string>, keys);
    signed.SubscribeURL = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=other';

    // Act
    const outcome = await verify(snsRequest(signed));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a signature made with another key', async () => {
    // Prepare
    const { verify } = verifier();

    // Act
    const outcome = await verify(snsRequest(signSns(received(), otherKeys)));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a v1 signature presented as v2', async () => {
    // Prepare
    const { verify } = verifier();
    const signed = signSns(received(), keys, { version: '1' });
    signed.SignatureVersion = '2';

    // Act
    const outcome = await verify(snsRequest(signed));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should reject a genuine message from a topic not in the allow-list without fetching', async () => {
    // Prepare
    const { verify, fetched } = verifier();
    const message = received();
    message.TopicArn = 'arn:aws:sns:eu-west-1:999999999999:someone-elses-topic';

    // Act
    const outcome = await verify(snsRequest(signSns(message, keys)));

    // Assess: refused as a mismatch (403 SIGNATURE_INVALID); logged as "unknown topic" (stop 26)
    expect(outcome).toBe('unknown-source');
    expect(fetched).toEqual([]);
  });

  it.each([
    ['http', 'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem'],
    ['another host', 'https://sns.evil.com/SimpleNotificationService-abc.pem'],
    ['a lookalike suffix', 'https://sns.eu-west-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem'],
    ['a non-SNS AWS host', 'https://s3.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem'],
    [
      'an S3 bucket named sns (not a region)',
      'https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem',
    ],
    ['an S3 accelerate bucket', 'https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-abc.pem'],
    ['a path not ending .pem', 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem.txt'],
    ['a query', 'https://sns.eu-west-1.amazonaws.com/cert.pem?x=1'],
    ['user info', 'https://evil.com@sns.eu-west-1.amazonaws.com/cert.pem'],
    ['a port', 'https://sns.eu-west-1.amazonaws.com:8443/cert.pem'],
    ['not a URL', 'sns.eu-west-1.amazonaws.com/cert.pem'],
  ])('should reject a SigningCertURL with %s without fetching it', async (_case, certUrl) => {
    // Prepare
    const { verify, fetched } = verifier();

    // Act
    const outcome = await verify(snsRequest(signSns(received(), keys, { certUrl })));

    // Assess
    expect(outcome).toBe('invalid');
    expect(fetched).toEqual([]);
  });

  it('should fetch the certificate once for two messages from the same URL', async () => {
    // Prepare
    const { verify, fetched } = verifier();
    const first = snsRequest(signSns(received(), keys));
    const second = snsRequest(signSns(received(), keys, { version: '1' }));

    // Act
    const outcomes = [await verify(first), await verify(second)];

    // Assess
    expect(outcomes).toEqual(['ok', 'ok']);
    expect(fetched).toEqual([TEST_CERT_URL]);
  });

  it('should fetch once for concurrent messages', async () => {
    // Prepare
    const { verify, fetched } = verifier();
    const requests = [1, 2, 3].map(() => snsRequest(signSns(received(), keys)));

    // Act
    const outcomes = await Promise.all(requests.map(verify));

    // Assess
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(fetched).toHaveLength(1);
  });

  it.each([
    ['signed a minute ago', new Date('2026-11-10T08:15:06Z'), 'ok'],
    ['signed 30 days ago', new Date('2026-12-10T08:14:06Z'), 'ok'],
    // Stop 26: 'expired' (was 'invalid'), so the refusal's log line says why; still a 403.
    ['signed more than 30 days ago (a replay)', new Date('2026-12-10T08:14:07Z'), 'expired'],
    ['signed 20 minutes in the future', new Date('2026-11-10T07:54:06Z'), 'invalid'],
  ])('should judge a notification %s', async (_case, now, expected) => {
    // Prepare
    const { verify, fetched } = verifier({ now });

    // Act
    const outcome = await verify(snsRequest(signSns(received(), keys)));

    // Assess: a refused one fetched nothing
    expect(outcome).toBe(expected);
    expect(fetched).toHaveLength(expected === 'ok' ? 1 : 0);
  });

  it('should throw CertificateUnavailableError when the fetch fails, and fetch again next time', async () => {
    // Prepare
    let calls = 0;
    const verify = createSnsVerifier({
      topicArns: [TEST_TOPIC_ARN],
      fetchCertificate: async () => {
        calls += 1;
        if (calls === 1) throw new Error('ECONNRESET');
        return keys.certificatePem;
      },
      now: () => SIGNED_NOW,
    });
    const request = snsRequest(signSns(received(), keys));

    // Act
    const first = verify(request);
    await expect(first).rejects.toBeInstanceOf(CertificateUnavailableError);
    const second = await verify(request);

    // Assess
    expect(second).toBe('ok');
    expect(calls).toBe(2);
  });

  it('should answer invalid when the fetched text is not a certificate', async () => {
    // Prepare
    const { verify } = verifier({ pem: () => '<html>not a certificate</html>' });

    // Act
    const outcome = await verify(snsRequest(signSns(received(), keys)));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should answer missing without a Signature and invalid for an unknown SignatureVersion', async () => {
    // Prepare
    const { verify } = verifier();
    const unsigned = signSns(received(), keys);
    delete unsigned.Signature;
    const version3 = { ...signSns(received(), keys), SignatureVersion: '3' };

    // Act
    const outcomes = [await verify(snsRequest(unsigned)), await verify(snsRequest(version3))];

    // Assess
    expect(outcomes).toEqual(['missing', 'invalid']);
  });

  it('should answer invalid for any body that is not a signed SNS message, never throw', async () => {
    const { verify, fetched } = verifier();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (rawBody) => {
        // Act
        const outcome = await verify({ ...snsRequest(received()), rawBody });

        // Assess
        expect(['missing', 'invalid']).toContain(outcome);
      }),
      fuzzRuns(300),
    );
    expect(fetched).toEqual([]);
  });
});

describe('isSnsCertUrl', () => {
  it('should accept the SNS hosts of the aws and aws-cn partitions', () => {
    // Act, Assess
    expect(isSnsCertUrl(TEST_CERT_URL)).toBe(true);
    expect(isSnsCertUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem')).toBe(
      true,
    );
  });
});
