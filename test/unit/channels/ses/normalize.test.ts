import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { confirmSubscription, normalizeSesPayload } from '#lib/channels/ses/normalize.ts';
import { parseSesPayload, type SesPayload } from '#lib/channels/ses/schema.ts';
import { InboundMessageSchema } from '#lib/domain/message.ts';
import { sesFixture, snsNotification, TEST_TOPIC_ARN } from '#test/support/sns-signer.ts';

const SIGNED = { Signature: 'x', SignatureVersion: '2', SigningCertURL: 'https://x' };

function payloadOf(message: Record<string, unknown>): SesPayload {
  return parseSesPayload(JSON.stringify({ ...message, ...SIGNED }));
}

function deps(objects: Record<string, Uint8Array> = {}) {
  const reads: string[] = [];
  const saved: string[] = [];
  return {
    reads,
    saved,
    getObject: async (bucket: string, key: string) => {
      reads.push(`${bucket}/${key}`);
      const object = objects[`${bucket}/${key}`];
      if (!object) throw new Error('NoSuchKey');
      return object;
    },
    saveAttachment: async (name: string) => {
      saved.push(name);
      return `attachments/${name}`;
    },
    ourAddresses: ['anna@sklep.example'],
  };
}

const eml = (name: string) => readFileSync(new URL(`../../../fixtures/email/${name}.eml`, import.meta.url));

describe('normalizeSesPayload', () => {
  it('should turn a Received notification with base64 content into an email message', async () => {
    // Prepare
    const payload = payloadOf(snsNotification(sesFixture('received-inline')));

    // Act
    const events = await normalizeSesPayload(payload, deps());

    // Assess
    expect(events).toHaveLength(1);
    const [event] = events;
    if (event?.type !== 'message') throw new Error('expected a message');
    expect(event.message).toMatchObject({
      provider: 'ses',
      providerMessageId: '4mq1l0c7k2d8v0s1g2h3j4k5l6m7n8o9p0q1r2s3',
      channel: 'email',
      contactKey: 'email:zofia.wojcik@poczta.example.pl',
      contactName: 'Zofia Wójcik',
      to: 'kontakt@sklep.example',
      email: { subject: 'Pytanie o fakturę za wrzesień' },
    });
    expect(event.message.text).toMatch(/^Dzień dobry,/);
    expect(InboundMessageSchema.safeParse(event.message).success).toBe(true);
  });

  it('should read UTF-8 encoded content as it is', async () => {
    // Prepare
    const received = sesFixture('received-inline') as {
      content: string;
      receipt: { action: { encoding: string } };
    };
    received.content = eml('reply-english').toString('utf8');
    received.receipt.action.encoding = 'UTF8';

    // Act
    const [event] = await normalizeSesPayload(payloadOf(snsNotification(received)), deps());

    // Assess
    expect(event?.type === 'message' && event.message.text).toBe('Thanks Anna, the parcel arrived today.');
  });

  it('should fetch the mail of an S3 action from its bucket and key and store its attachments', async () => {
    // Prepare
    const key = 'switchboard-inbound-mail-123456789012/inbound/o3h5k9d2s1a7f6g4j8l0q2w4e6r8t0y1u3i5o7p9';
    const d = deps({ [key]: new Uint8Array(eml('two-attachments')) });

    // Act
    const [event] = await normalizeSesPayload(payloadOf(snsNotification(sesFixture('received-s3'))), d);

    // Assess
    expect(d.reads).toEqual([key]);
    expect(d.saved).toEqual(['faktura-2026-09.pdf', 'zdjęcie.png']);
    if (event?.type !== 'message') throw new Error('expected a message');
    expect(event.message.providerMessageId).toBe('o3h5k9d2s1a7f6g4j8l0q2w4e6r8t0y1u3i5o7p9');
    expect(event.message.media.map((media) => media.url)).toEqual([
      'attachments/faktura-2026-09.pdf',
      'attachments/zdjęcie.png',
    ]);
  });

  it('should let a failed S3 read fail the request so SNS retries it', async () => {
    // Prepare
    const payload = payloadOf(snsNotification(sesFixture('received-s3')));

    // Act
    const act = normalizeSesPayload(payload, deps());

    // Assess
    await expect(act).rejects.toThrow('NoSuchKey');
  });

  it('should hold back mail SES judged as spam', async () => {
    // Prepare
    const received = sesFixture('received-inline') as { receipt: { spamVerdict: { status: string } } };
    received.receipt.spamVerdict.status = 'FAIL';

    // Act
    const [event] = await normalizeSesPayload(payloadOf(snsNotification(received)), deps());

    // Assess
    expect(event?.type === 'message' && event.message.noAckReason).toBe('spam');
  });

  it('should ignore a SubscriptionConfirmation, an UnsubscribeConfirmation and other notifications', async () => {
    // Prepare
    const confirmation = sesFixture('subscription-confirmation');
    const payloads = [
      payloadOf(confirmation),
      payloadOf({ ...confirmation, Type: 'UnsubscribeConfirmation' }),
      payloadOf(snsNotification({ notificationType: 'DeliveryDelay' })),
      payloadOf(snsNotification({ notificationType: 'Amazon SES Setup Notification <b>' })),
    ];

    // Act
    const events = await Promise.all(payloads.map((payload) => normalizeSesPayload(payload, deps())));

    // Assess
    expect(events).toEqual([
      [{ type: 'ignored', reason: 'subscription-confirmation' }],
      [{ type: 'ignored', reason: 'unsubscribe-confirmation' }],
      [{ type: 'ignored', reason: 'ses-notification:DeliveryDelay' }],
      [{ type: 'ignored', reason: 'ses-notification:AmazonSESSetupNotificationb' }],
    ]);
  });

  it('should refuse a notification with neither content nor an S3 object', async () => {
    // Prepare
    const received = sesFixture('received-inline');
    delete received.content;

    // Act
    const act = normalizeSesPayload(payloadOf(snsNotification(received)), deps());

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedPayloadError);
  });
});

describe('confirmSubscription', () => {
  function fakeFetch(status = 200) {
    const calls: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response('<ConfirmSubscriptionResponse/>', { status });
    }) as typeof globalThis.fetch;
    return { fetch, calls };
  }

  it('should GET the SubscribeURL of an allowed topic on its SNS host', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch();
    const payload = payloadOf(sesFixture('subscription-confirmation'));

    // Act
    const confirmed = await confirmSubscription(payload, fetch, [TEST_TOPIC_ARN]);

    // Assess
    expect(confirmed).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^https:\/\/sns\.eu-west-1\.amazonaws\.com\/\?Action=ConfirmSubscription&/);
  });

  it('should answer false when SNS refuses the confirmation', async () => {
    // Prepare
    const { fetch } = fakeFetch(403);

    // Act
    const confirmed = await confirmSubscription(payloadOf(sesFixture('subscription-confirmation')), fetch, [
      TEST_TOPIC_ARN,
    ]);

    // Assess
    expect(confirmed).toBe(false);
  });

  it.each([
    ['a topic not in the allow-list', { TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other' }],
    ['another host', { SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription' }],
    [
      'the SNS host of another region',
      {
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TEST_TOPIC_ARN}&Token=t`,
      },
    ],
    [
      'a lookalike host',
      {
        SubscribeURL: `https://sns.eu-west-1.amazonaws.com.evil.example/?Action=ConfirmSubscription&TopicArn=${TEST_TOPIC_ARN}`,
      },
    ],
    [
      'plain http',
      {
        SubscribeURL: `http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TEST_TOPIC_ARN}`,
      },
    ],
    [
      'another action',
      { SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Publish&TopicArn=${TEST_TOPIC_ARN}` },
    ],
    [
      'another topic in the URL',
      {
        SubscribeURL:
          'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:999999999999:x',
      },
    ],
  ])('should refuse %s without any request', async (_case, overrides) => {
    // Prepare
    const { fetch, calls } = fakeFetch();
    const payload = payloadOf({ ...sesFixture('subscription-confirmation'), ...overrides });

    // Act
    const confirmed = await confirmSubscription(payload, fetch, [TEST_TOPIC_ARN]);

    // Assess
    expect(confirmed).toBe(false);
    expect(calls).toEqual([]);
  });

  it('should never confirm from a Notification', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch();
    const payload = payloadOf(snsNotification(sesFixture('received-inline')));

    // Act
    const confirmed = await confirmSubscription(payload, fetch, [TEST_TOPIC_ARN]);

    // Assess
    expect(confirmed).toBe(false);
    expect(calls).toEqual([]);
  });
});
