import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '#lib/runtime/runtime.ts';
import { countCalls } from '#test/support/faults.ts';
import { memoryLog, STACK_TRACE } from '#test/support/silent-log.ts';
import { sesFixture, signSns, snsKeys, snsNotification, TEST_TOPIC_ARN } from '#test/support/sns-signer.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiConversation = { id: string; contact: { key: string } };

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

const postSns = (sb: TestSwitchboard, message: Record<string, string>) =>
  sb.runtime.app.request('/webhooks/email/ses', {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': message.Type ?? '' },
    body: JSON.stringify(message),
  });

// Hostile requests at the edges: a certificate served from an S3 bucket's address, a signed
// notification replayed a year later, a certificate that cannot be fetched (no stack trace in
// the log), an oversized body on an acting route. Found by a security review at stop 22; a contact key
// longer than DynamoDB takes, at stop 24.

describe('hostile requests at the edges', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  describe('SES via SNS', () => {
    // The attacker's own key pair: whoever serves a certificate at an accepted URL can sign.
    const attacker = snsKeys();

    it('should refuse a SigningCertURL on an S3 bucket endpoint (sns.s3-<region>.amazonaws.com) without fetching it', async () => {
      // Prepare: `sns.s3-eu-west-1.amazonaws.com` is the virtual-hosted address of the S3 bucket
      // named "sns" (legacy dash-region endpoint, valid https); its owner can host any .pem there.
      const bucketCertUrl = 'https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-forged.pem';
      const fetched: string[] = [];
      const network: typeof fetch = async (input) => {
        const url = String(input instanceof Request ? input.url : input);
        fetched.push(url);
        // The bucket owner serves their own certificate.
        return new Response(attacker.certificatePem);
      };
      sb = await startTestSwitchboard({ env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN }, fetch: network });
      const forged = signSns(snsNotification(sesFixture('received-inline')), attacker, {
        certUrl: bucketCertUrl,
      });

      // Act
      const response = await postSns(sb, forged);

      // Assess: a mail signed by a key that is not SNS's must not be recorded
      expect(response.status).toBe(403);
      expect(await conversations(sb)).toHaveLength(0);
      expect(fetched).not.toContain(bucketCertUrl);
    });

    it('should refuse a correctly signed SNS notification whose Timestamp is a year old, fetching nothing', async () => {
      // Prepare: SNS's own key and certificate; the notification was signed a year ago
      const sns = snsKeys();
      const fetched: string[] = [];
      const network: typeof fetch = async (input) => {
        fetched.push(String(input instanceof Request ? input.url : input));
        return new Response(sns.certificatePem);
      };
      sb = await startTestSwitchboard({ env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN }, fetch: network });
      const replayed = signSns(
        snsNotification(sesFixture('received-inline'), { Timestamp: '2025-11-10T08:14:06.123Z' }),
        sns,
      );

      // Act
      const response = await postSns(sb, replayed);

      // Assess
      expect(response.status).toBe(403);
      expect(fetched).toEqual([]);
      expect(await conversations(sb)).toHaveLength(0);
    });

    it('should log no stack trace when a forged SNS request names a certificate that cannot be fetched', async () => {
      // Prepare: anyone can post this (TopicArn is not secret; the URL is on an SNS host).
      const network: typeof fetch = async () => new Response('not found', { status: 404 });
      sb = await startTestSwitchboard({ env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN }, fetch: network });
      const message = signSns(snsNotification(sesFixture('received-inline')), snsKeys(), {
        certUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-doesnotexist.pem',
      });

      // Act
      const response = await postSns(sb, message);

      // Assess: the response is clean, but the log line carries the stack
      const body = await response.text();
      expect(response.status).toBeGreaterThanOrEqual(500);
      expect(body).not.toMatch(STACK_TRACE);
      for (const line of sb.log.lines) expect(JSON.stringify(line)).not.toMatch(STACK_TRACE);
    });
  });

  describe("the agents' API", () => {
    it('should answer an oversized body on an acting route with 413 before reading it', async () => {
      // Prepare: a 2 MB body; the reply text may be 4,000 characters at most.
      sb = await startTestSwitchboard();
      const body = JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) });

      // Act
      const response = await sb.runtime.app.request(
        '/api/conversations/conv_0000000000000000000000000a/replies',
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TEST_API_TOKEN}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'idempotency-key': 'oversized-1',
          },
          body,
        },
      );

      // Assess
      expect(response.status).toBe(413);
    });

    // Stop 24: the route let the key's scheme be as long as the URL, so `CONTACT#<key>` could
    // pass DynamoDB's 2,048-byte partition key limit (a ValidationException, answered 500).
    it('should answer a contact key whose scheme is longer than DynamoDB allows with 404, not a retryable 500 and an error line', async () => {
      // Prepare: any key with the read scope
      sb = await startTestSwitchboard();
      const key = `${'a'.repeat(2_100)}:x`;

      // Act
      const response = await sb.api(`/api/contacts/${key}`);

      // Assess: no such contact can exist (a real key is at most 320 characters): 404, as for
      // any unknown contact, and nothing for the 5xx alarm or the error log.
      const body = (await response.json()) as { error: { code: string } };
      expect({ status: response.status, code: body.error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
      expect(sb.log.lines.filter((line) => line.level === 'error')).toEqual([]);
    });
  });

  // Stop 25: a wrong bearer token (an API key, AGENT_API_TOKEN, the inbox page's pasted key) got
  // its 401 as often as anyone asked, so tokens could be guessed without limit.
  describe('failed logins', () => {
    // What hono/aws-lambda hands the app as its env: the API Gateway (payload 2.0) event's
    // requestContext, whose sourceIp API Gateway takes from the connection.
    const from = (sourceIp: string) => ({ requestContext: { http: { sourceIp } } });
    const call = (token: string, sourceIp: string, headers: Record<string, string> = {}) =>
      sb.runtime.app.request(
        '/api/conversations',
        { headers: { authorization: `Bearer ${token}`, ...headers } },
        from(sourceIp),
      );

    it('should answer 429 with Retry-After to an address past 20 failed logins in 15 minutes, even with the right token, and let an agent from another address in', async () => {
      // Prepare: an attacker at 203.0.113.7 guesses, claiming another address each time
      sb = await startTestSwitchboard();
      const attacker = '203.0.113.7';
      const guesses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const guess = await call(`guess-${i}-0123456789abcdef`, attacker, {
          'x-forwarded-for': `198.51.100.${i}`,
        });
        guesses.push(guess.status);
      }

      // Act
      const wrong = await call('guess-21-0123456789abcdef', attacker);
      const right = await call(TEST_API_TOKEN, attacker);
      const agent = await call(TEST_API_TOKEN, '192.0.2.10');
      sb.clock.advance(15 * 60_000);
      const later = await call(TEST_API_TOKEN, attacker);

      // Assess: the 21st try is not checked at all (a right guess would learn nothing), the
      // agent elsewhere is not locked out, and the window ends.
      expect(guesses).toEqual(Array(20).fill(401));
      expect(wrong.status).toBe(429);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_FAILED_LOGINS');
      const retryAfter = Number(wrong.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(right.status).toBe(429);
      expect(agent.status).toBe(200);
      expect(later.status).toBe(200);
    });

    it('should count the wrong tokens of one address across instances', async () => {
      // Prepare: a second Lambda instance over the same table
      sb = await startTestSwitchboard();
      const other = createRuntime({
        config: sb.config,
        dynamodb: sb.backends.dynamodb,
        sqs: sb.backends.sqs,
        log: memoryLog(),
        clock: sb.clock,
      });
      for (let i = 0; i < 20; i++) await call(`guess-${i}-0123456789abcdef`, '203.0.113.7');

      // Act: the attacker's next try lands on the other instance
      const next = await other.app.request(
        '/api/conversations',
        { headers: { authorization: 'Bearer guess-21-0123456789abcdef' } },
        from('203.0.113.7'),
      );

      // Assess
      expect(next.status).toBe(429);
    });

    it('should log the refused address without the presented secret', async () => {
      // Prepare
      sb = await startTestSwitchboard();
      const secret = 'not-the-token-but-secret-0123456789';

      // Act
      for (let i = 0; i < 21; i++) await call(`${secret}${i}`, '203.0.113.7');

      // Assess
      const throttled = sb.log.lines.filter((line) => line.message === 'failed logins over the limit');
      expect(throttled).toEqual([
        {
          level: 'warn',
          message: 'failed logins over the limit',
          fields: expect.objectContaining({ client: '203.0.113.7' }),
        },
      ]);
      expect(JSON.stringify(sb.log.lines)).not.toContain(secret);
    });

    it('should make no store call for the limit on a request whose token is right', async () => {
      // Prepare: the address has failed before, within the limit
      sb = await startTestSwitchboard();
      await call('a-wrong-token-0123456789abcdef', '203.0.113.7');
      const limitCalls = ['GetItemCommand', 'UpdateItemCommand', 'PutItemCommand', 'QueryCommand'].map(
        (command) =>
          countCalls(sb.backends.dynamodb, command, (input) => JSON.stringify(input).includes('LOGIN')),
      );

      // Act
      const response = await call(TEST_API_TOKEN, '203.0.113.7');

      // Assess: the limit reads and writes only when a login fails
      expect(response.status).toBe(200);
      expect(limitCalls.map((calls) => calls.count)).toEqual([0, 0, 0, 0]);
    });
  });
});
