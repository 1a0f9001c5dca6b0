import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WebhookRequest } from '#lib/channels/channel.ts';
import { selfSignedCertificate } from '#lib/local/self-signed-certificate.ts';

/** The topic the SES receipt rule publishes to in tests. */
export const TEST_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:switchboard-inbound-mail';
/** Where SNS says its certificate lives; tests serve their own from this URL. */
export const TEST_CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
export const TEST_WEBHOOK_URL = 'https://hooks.switchboard.example/webhooks/ses';

export type SnsKeys = { privateKey: KeyObject; certificatePem: string };

/** A fresh RSA key pair and its self-signed certificate. */
export function snsKeys(): SnsKeys {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    certificatePem: selfSignedCertificate(publicKey, privateKey, {
      commonName: 'sns.amazonaws.com',
      validDays: 365,
    }),
  };
}

// Written from the SNS docs independently of lib/, so a shared mistake cannot pass.
const SIGNED_FIELDS: Record<string, string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

export type SnsMessage = Record<string, string>;

/** Signs an SNS message as SNS does: v1 RSA-SHA1 or v2 RSA-SHA256 over `Name\nvalue\n` lines. */
export function signSns(
  message: SnsMessage,
  keys: SnsKeys,
  options: { version?: '1' | '2'; certUrl?: string } = {},
): SnsMessage {
  const version = options.version ?? '2';
  const signed: SnsMessage = {
    ...message,
    SignatureVersion: version,
    SigningCertURL: options.certUrl ?? TEST_CERT_URL,
  };
  const text = (SIGNED_FIELDS[signed.Type ?? ''] ?? [])
    .filter((field) => signed[field] !== undefined)
    .map((field) => `${field}\n${signed[field]}\n`)
    .join('');
  signed.Signature = sign(
    version === '1' ? 'sha1' : 'sha256',
    Buffer.from(text, 'utf8'),
    keys.privateKey,
  ).toString('base64');
  return signed;
}

/** An SNS Notification carrying `message` (the SES notification, JSON-encoded). */
export function snsNotification(message: unknown, overrides: Partial<SnsMessage> = {}): SnsMessage {
  return {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TEST_TOPIC_ARN,
    Subject: 'Amazon SES Email Receipt Notification',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: '2026-11-10T08:14:06.123Z',
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TEST_TOPIC_ARN}:${randomUUID()}`,
    ...overrides,
  };
}

/** A fixture under test/fixtures/ses, parsed. */
export function sesFixture(
  name: 'received-inline' | 'received-s3' | 'subscription-confirmation',
): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/ses/${name}.json`, import.meta.url), 'utf8'));
}

/** The SNS POST as the route hands it over: text/plain JSON, SNS's headers. */
export function snsRequest(message: SnsMessage): WebhookRequest {
  return {
    url: TEST_WEBHOOK_URL,
    headers: new Headers({
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': message.Type ?? '',
      'x-amz-sns-message-id': message.MessageId ?? '',
      'x-amz-sns-topic-arn': message.TopicArn ?? '',
      'user-agent': 'Amazon Simple Notification Service Agent',
    }),
    rawBody: JSON.stringify(message),
  };
}
