import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { mailgunFixture, signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import {
  sesFixture,
  signSns,
  snsKeys,
  snsNotification,
  TEST_CERT_URL,
  TEST_TOPIC_ARN,
} from '#test/support/sns-signer.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

type ApiConversation = {
  id: string;
  contact: { key: string };
  ack: { state: string; reason?: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

describe('inbound email', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  describe('through Mailgun', () => {
    const post = (form: URLSearchParams) => sb.postMailgun(form);

    it('should record a signed mail under the sender address and acknowledge it by email in its thread', async () => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });

      // Act
      const response = await post(signMailgun(mailgunFixture('reply-polish')));
      await sb.drain();

      // Assess
      expect(response.status).toBe(200);
      const [conversation] = await conversations(sb);
      expect(conversation?.contact.key).toBe('email:zofia.wojcik@poczta.example.pl');
      expect(conversation?.ack?.state).toBe('sent');
      const [ack] = await sb.outbox();
      expect(ack).toMatchObject({
        channel: 'email',
        to: expect.stringContaining('zofia.wojcik@poczta.example.pl'),
      });
      expect(JSON.stringify(ack)).toContain('CAH7x9kq3Zp1Lw9@mail.poczta.example.pl');
      const { messages } = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
        messages: Array<{ text: string; fullText?: string }>;
      };
      // The new part of the reply, and the whole mail with its quoted history kept beside it.
      expect(messages[0]?.fullText?.length).toBeGreaterThan(messages[0]?.text.length ?? 0);
    });

    it('should keep a 300 KB mail: a readable beginning inline, the whole text beside it, never a failed write', async () => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
      const form = mailgunFixture('reply-polish');
      const long = 'Bardzo długi opis problemu. '.repeat(11_000);
      form.set('body-plain', long);
      form.set('stripped-text', long);

      // Act
      const response = await post(signMailgun(form));

      // Assess
      expect(response.status).toBe(200);
      const [conversation] = await conversations(sb);
      const { messages } = (await (await sb.api(`/api/conversations/${conversation?.id}`)).json()) as {
        messages: Array<{ text: string; media: Array<{ name?: string; size?: number }> }>;
      };
      expect(messages[0]?.text.length).toBeLessThan(40_000);
      expect(messages[0]?.media.find((m) => m.name === 'message.txt')?.size).toBeGreaterThan(300_000);
    });

    it('should refuse a token reused on another mail and a stale timestamp with 406, a wrong signature with 403 (retried), storing nothing new', async () => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
      const token = 'c'.repeat(50);
      const signed = signMailgun(mailgunFixture('reply-polish'), { token });
      await post(signed);
      const other = mailgunFixture('reply-polish');
      other.set('body-plain', 'Proszę przelać pieniądze na inne konto.');

      // Act
      const again = await post(signed);
      const reused = await post(signMailgun(other, { token }));
      const stale = await post(
        signMailgun(mailgunFixture('reply-polish'), {
          timestamp: Math.floor(TEST_NOW.getTime() / 1000) - 10 * 60 * 60,
        }),
      );
      const forged = await post(signMailgun(mailgunFixture('reply-polish'), { key: 'key-wrong' }));
      await sb.drain();

      // Assess: the same POST again is Mailgun's retry, a duplicate. A wrong signature may be a
      // rotated key this instance does not hold yet: 403, which Mailgun retries.
      expect([again.status, reused.status, stale.status, forged.status]).toEqual([200, 406, 406, 403]);
      expect(await conversations(sb)).toHaveLength(1);
      expect(await sb.outbox()).toHaveLength(1);
    });

    it('should record an auto-reply without acknowledging it', async () => {
      // Prepare
      sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
      const form = mailgunFixture('reply-polish');
      const headers = JSON.parse(form.get('message-headers') ?? '[]') as Array<[string, string]>;
      form.set('message-headers', JSON.stringify([...headers, ['Auto-Submitted', 'auto-replied']]));
      form.set('Auto-Submitted', 'auto-replied');

      // Act
      await post(signMailgun(form));
      await sb.drain();

      // Assess
      expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'skipped', reason: 'auto-submitted' });
      expect(await sb.outbox()).toHaveLength(0);
    });
  });

  describe('through SES and SNS', () => {
    const keys = snsKeys();
    let fetched: string[] = [];
    const fakeNetwork: typeof fetch = async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      fetched.push(url);
      if (url === TEST_CERT_URL) return new Response(keys.certificatePem);
      return new Response('<ConfirmSubscriptionResponse/>', { status: 200 });
    };
    const post = (message: Record<string, string>) =>
      sb.runtime.app.request('/webhooks/email/ses', {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': message.Type ?? '',
        },
        body: JSON.stringify(message),
      });

    async function start() {
      fetched = [];
      sb = await startTestSwitchboard({ env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN }, fetch: fakeNetwork });
    }

    it('should record a mail delivered inline in a signed SNS notification', async () => {
      // Prepare
      await start();

      // Act
      const response = await post(signSns(snsNotification(sesFixture('received-inline')), keys));
      await sb.drain();

      // Assess
      expect(response.status).toBe(200);
      const [conversation] = await conversations(sb);
      expect(conversation?.contact.key).toBe('email:zofia.wojcik@poczta.example.pl');
      expect(await sb.outbox()).toHaveLength(1);
    });

    it('should refuse a forged certificate URL without fetching it, and another topic', async () => {
      // Prepare
      await start();
      const forged = signSns(snsNotification(sesFixture('received-inline')), keys, {
        certUrl: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem',
      });
      const otherTopic = signSns(
        snsNotification(sesFixture('received-inline'), {
          TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other',
        }),
        keys,
      );

      // Act
      const responses = [await post(forged), await post(otherTopic)];

      // Assess
      expect(responses.map((r) => r.status)).toEqual([403, 403]);
      expect(fetched.some((url) => url.includes('evil'))).toBe(false);
      expect(await conversations(sb)).toHaveLength(0);
    });

    it('should confirm a subscription only for the configured topic', async () => {
      // Prepare
      await start();
      const confirmation = sesFixture('subscription-confirmation') as Record<string, string>;

      // Act
      const response = await post(signSns({ ...confirmation, TopicArn: TEST_TOPIC_ARN }, keys));

      // Assess
      expect(response.status).toBe(200);
      expect(fetched.some((url) => url.startsWith('https://sns.'))).toBe(true);
      expect(readFileSync).toBeDefined();
    });
  });
});
