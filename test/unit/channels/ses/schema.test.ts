import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { parseSesPayload } from '#lib/channels/ses/schema.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import { sesFixture, snsNotification } from '#test/support/sns-signer.ts';

function issuesOf(rawBody: string): string[] {
  try {
    parseSesPayload(rawBody);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return error.issues;
    throw error;
  }
  throw new Error('expected MalformedPayloadError');
}

describe('parseSesPayload', () => {
  it('should parse a Notification and the SES Received notification inside its Message', () => {
    // Prepare
    const body = JSON.stringify({
      ...snsNotification(sesFixture('received-inline')),
      Signature: 'x',
      SignatureVersion: '2',
      SigningCertURL: 'https://x',
    });

    // Act
    const payload = parseSesPayload(body);

    // Assess
    expect(payload.envelope.Type).toBe('Notification');
    expect(payload.notification?.kind).toBe('received');
    if (payload.notification?.kind !== 'received') throw new Error('expected received');
    expect(payload.notification.received.mail.messageId).toBe('4mq1l0c7k2d8v0s1g2h3j4k5l6m7n8o9p0q1r2s3');
    expect(payload.notification.received.receipt.action).toMatchObject({ type: 'SNS', encoding: 'BASE64' });
  });

  it('should parse a SubscriptionConfirmation with no notification', () => {
    // Prepare
    const body = JSON.stringify({
      ...sesFixture('subscription-confirmation'),
      Signature: 'x',
      SignatureVersion: '1',
      SigningCertURL: 'https://x',
    });

    // Act
    const payload = parseSesPayload(body);

    // Assess
    expect(payload.envelope.Type).toBe('SubscriptionConfirmation');
    expect(payload.envelope.Token).toMatch(/^2336412f/);
    expect(payload.notification).toBeNull();
  });

  it('should pass another notificationType through as other', () => {
    // Prepare: a Delivery (our configuration set publishes none; an identity's notification might).
    const body = JSON.stringify({
      ...snsNotification({ notificationType: 'Delivery', delivery: {} }),
      Signature: 'x',
      SignatureVersion: '2',
      SigningCertURL: 'https://x',
    });

    // Act
    const payload = parseSesPayload(body);

    // Assess
    expect(payload.notification).toEqual({ kind: 'other', type: 'Delivery' });
  });

  it('should read a bounce published by a configuration set (eventType) as feedback, and refuse one naming no mail', () => {
    // Prepare
    const signed = { Signature: 'x', SignatureVersion: '2', SigningCertURL: 'https://x' };
    const bounce = { bounceType: 'Permanent', bounceSubType: 'General' };
    const body = (mail: unknown) =>
      JSON.stringify({ ...snsNotification({ eventType: 'Bounce', bounce, mail }), ...signed });

    // Act
    const payload = parseSesPayload(body({ messageId: '0102019a-1' }));

    // Assess
    expect(payload.notification).toMatchObject({
      kind: 'feedback',
      type: 'Bounce',
      feedback: { mail: { messageId: '0102019a-1' }, bounce },
    });
    expect(() => parseSesPayload(body({}))).toThrow(/documented shape/);
  });

  it('should name the missing paths without quoting any value', () => {
    // Prepare
    const received = sesFixture('received-inline') as { mail: Record<string, unknown> };
    delete received.mail.messageId;
    const body = JSON.stringify({
      ...snsNotification(received),
      Signature: 'x',
      SignatureVersion: '2',
      SigningCertURL: 'https://x',
    });

    // Act
    const issues = issuesOf(body);

    // Assess
    expect(issues).toEqual(['mail.messageId: invalid_type']);
  });

  it('should require Token and SubscribeURL on a confirmation', () => {
    // Prepare
    const { Token: _token, SubscribeURL: _url, ...rest } = sesFixture('subscription-confirmation');
    const body = JSON.stringify({
      ...rest,
      Signature: 'x',
      SignatureVersion: '1',
      SigningCertURL: 'https://x',
    });

    // Act
    const issues = issuesOf(body);

    // Assess
    expect(issues).toEqual(['Token: custom', 'SubscribeURL: custom']);
  });

  it('should not echo the body in the message of a JSON error', () => {
    // Prepare
    const body = '{"secret": zofia@example.pl';

    // Act
    const act = () => parseSesPayload(body);

    // Assess
    expect(act).toThrow(MalformedPayloadError);
    expect(act).not.toThrow(/zofia/);
  });

  it('should never throw anything but MalformedPayloadError for random bodies', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.uint8Array().map((b) => Buffer.from(b).toString('latin1')),
        ),
        (body) => {
          // Act
          let thrown: unknown;
          try {
            parseSesPayload(body);
          } catch (error) {
            thrown = error;
          }

          // Assess
          if (thrown !== undefined) expect(thrown).toBeInstanceOf(MalformedPayloadError);
        },
      ),
      fuzzRuns(500),
    );
  });
});
