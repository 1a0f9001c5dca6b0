import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WebhookRequest } from '#lib/channels/channel.ts';

/** The topic the SES receipt rule publishes to in tests. */
export const TEST_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:switchboard-inbound-mail';
/** Where SNS says its certificate lives; tests serve their own from this URL. */
export const TEST_CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
export const TEST_WEBHOOK_URL = 'https://hooks.switchboard.example/webhooks/ses';

// A minimal DER encoder: just what an X.509 v1 certificate needs (node:crypto can verify
// certificates but not make them, and no test should need openssl or a network).
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}
const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const integer = (value: Buffer) =>
  der(0x02, value[0] !== undefined && value[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
const utcTime = (date: Date) =>
  der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let value = part >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
const commonName = (name: string) => sequence(set(sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(name)))));
const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/** A self-signed RSA certificate (PEM) for `publicKey`, like the one SNS publishes. */
export function selfSignedCertificate(publicKey: KeyObject, privateKey: KeyObject): string {
  const now = Date.now();
  const name = commonName('sns.amazonaws.com');
  const tbs = sequence(
    integer(Buffer.from(randomUUID().replace(/-/g, '').slice(0, 16), 'hex')),
    SHA256_WITH_RSA,
    name,
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const base64 =
    certificate
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

export type SnsKeys = { privateKey: KeyObject; certificatePem: string };

/** A fresh RSA key pair and its self-signed certificate. */
export function snsKeys(): SnsKeys {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, certificatePem: selfSignedCertificate(publicKey, privateKey) };
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
