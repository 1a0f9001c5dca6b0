import { beforeAll, describe, expect, it } from 'vitest';
import { createSesChannel } from '#lib/channels/ses/index.ts';
import {
  type SnsKeys,
  sesFixture,
  signSns,
  snsKeys,
  snsNotification,
  snsRequest,
  TEST_TOPIC_ARN,
} from '#test/support/sns-signer.ts';

let keys: SnsKeys;

beforeAll(() => {
  keys = snsKeys();
});

function channel(fetched: string[] = []) {
  return createSesChannel({
    topicArns: [TEST_TOPIC_ARN],
    fetchCertificate: async (url) => {
      fetched.push(url);
      return keys.certificatePem;
    },
    getObject: async () => {
      throw new Error('no S3 in this test');
    },
    saveAttachment: async (name) => `attachments/${name}`,
    ourAddresses: ['kontakt@sklep.example'],
    fetch: (async () => new Response('ok')) as typeof globalThis.fetch,
    // A few minutes after the fixtures' signed Timestamp.
    now: () => new Date('2026-11-10T08:20:00Z'),
  });
}

describe('createSesChannel', () => {
  it('should verify, parse and normalize a signed SNS delivery of a received mail', async () => {
    // Prepare
    const ses = channel();
    const request = snsRequest(signSns(snsNotification(sesFixture('received-inline')), keys));

    // Act
    const outcome = await ses.webhook.verify(request);
    const events = await ses.webhook.normalize(ses.webhook.parse(request));

    // Assess
    expect(outcome).toBe('ok');
    expect(events.map((event) => event.type)).toEqual(['message']);
    expect(ses.provider).toBe('ses');
    expect(ses.webhook.replayGuard).toBeUndefined();
  });

  it('should confirm a verified subscription for the allowed topic', async () => {
    // Prepare
    const ses = channel();
    const request = snsRequest(
      signSns(sesFixture('subscription-confirmation') as Record<string, string>, keys),
    );

    // Act
    const outcome = await ses.webhook.verify(request);
    const payload = ses.webhook.parse(request);
    const events = await ses.webhook.normalize(payload);
    const confirmed = await ses.confirmSubscription(payload);

    // Assess
    expect(outcome).toBe('ok');
    expect(events).toEqual([{ type: 'ignored', reason: 'subscription-confirmation' }]);
    expect(confirmed).toBe(true);
  });

  it('should refuse to start without a topic allow-list', () => {
    // Act
    const act = () =>
      createSesChannel({
        topicArns: [],
        fetchCertificate: async () => '',
        getObject: async () => new Uint8Array(),
        saveAttachment: async () => '',
        ourAddresses: [],
      });

    // Assess
    expect(act).toThrow(/topic/);
  });
});
