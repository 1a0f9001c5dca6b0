import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Locally there is no SNS: `npm run simulate -- email-ses` signs SES notifications with a dev
// key kept in the data dir, and `npm start` (development only) trusts the dev topic and serves
// the dev certificate from its SNS-shaped URL, so the real verifier runs unchanged.

/** The topic `npm start` accepts SES mail from when SES_TOPIC_ARNS is unset (development only). */
export const DEV_SNS_TOPIC_ARN = 'arn:aws:sns:eu-central-1:000000000000:switchboard-dev-mail';
const DEV_SNS_HOST = 'sns.eu-central-1.amazonaws.com';
/** Passes the verifier's URL checks; devFetch answers it from the data dir, never the network. */
export const DEV_SNS_CERT_URL = `https://${DEV_SNS_HOST}/SimpleNotificationService-switchboard-dev.pem`;

export type DevSnsIdentity = { privateKey: KeyObject; certificatePem: string };

// A minimal DER encoder, just what a self-signed X.509 v1 certificate needs: node:crypto
// verifies certificates but cannot make them, and npm start should need no openssl.
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
const YEAR_MS = 365 * 86_400_000;

function selfSignedCertificate(publicKey: KeyObject, privateKey: KeyObject): string {
  const now = Date.now();
  const name = commonName('switchboard-dev.sns.amazonaws.com');
  const tbs = sequence(
    integer(randomBytes(8)),
    SHA256_WITH_RSA,
    name,
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 10 * YEAR_MS))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const paths = (dataDir: string) => ({
  key: join(dataDir, 'dev-sns-key.pem'),
  cert: join(dataDir, 'dev-sns-cert.pem'),
});

async function readIdentity(dataDir: string): Promise<DevSnsIdentity> {
  const { key, cert } = paths(dataDir);
  const privateKey = createPrivateKey(await readFile(key, 'utf8'));
  const certificatePem = await readFile(cert, 'utf8');
  if (!new X509Certificate(certificatePem).checkPrivateKey(privateKey)) {
    throw new Error(`${cert} does not match ${key}: delete both and they are made again`);
  }
  return { privateKey, certificatePem };
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The dev SNS signing identity of this data dir: an RSA key and its self-signed certificate,
 * made on first use and kept (mode 0600) so the server and simulate agree across restarts.
 */
export async function loadDevSnsIdentity(dataDir: string): Promise<DevSnsIdentity> {
  try {
    return await readIdentity(dataDir);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificatePem = selfSignedCertificate(createPublicKey(privateKey), privateKey);
  const { key, cert } = paths(dataDir);
  await mkdir(dataDir, { recursive: true });
  try {
    // The key is created exclusively: when two processes race, the loser reads the winner's pair.
    await writeFile(key, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    for (let attempt = 0; ; attempt++) {
      try {
        return await readIdentity(dataDir);
      } catch (readError) {
        if (!isMissing(readError) || attempt >= 20) throw readError;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
  await writeFile(cert, certificatePem, { mode: 0o600 });
  return { privateKey, certificatePem };
}

export type SnsMessage = Record<string, string>;

// From the SNS docs ("Verifying the signatures of Amazon SNS messages"), independently of
// the verifier in lib/channels/ses, so that simulate behaves like SNS rather than like our code.
const SIGNED_FIELDS: Record<string, readonly string[]> = {
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

/** Signs an SNS message as SNS does with SignatureVersion 2 (RSA-SHA256), with the dev identity. */
export function signDevSns(message: SnsMessage, identity: DevSnsIdentity): SnsMessage {
  const signed: SnsMessage = { ...message, SignatureVersion: '2', SigningCertURL: DEV_SNS_CERT_URL };
  const text = (SIGNED_FIELDS[signed.Type ?? ''] ?? [])
    .filter((field) => signed[field] !== undefined)
    .map((field) => `${field}\n${signed[field]}\n`)
    .join('');
  signed.Signature = sign('sha256', Buffer.from(text, 'utf8'), identity.privateKey).toString('base64');
  return signed;
}

function isDevSubscribeUrl(url: URL): boolean {
  return (
    url.protocol === 'https:' &&
    url.hostname === DEV_SNS_HOST &&
    url.searchParams.get('Action') === 'ConfirmSubscription' &&
    url.searchParams.get('TopicArn') === DEV_SNS_TOPIC_ARN
  );
}

/**
 * A fetch for development: answers the dev certificate URL with the data dir's certificate
 * and the dev topic's SubscribeURL with a 200; everything else goes to `fallback`.
 */
export function devFetch(dataDir: string, fallback: typeof fetch): typeof fetch {
  return async (input, init) => {
    const href = input instanceof Request ? input.url : String(input);
    const url = URL.canParse(href) ? new URL(href) : null;
    if (url?.href === DEV_SNS_CERT_URL) {
      const { certificatePem } = await loadDevSnsIdentity(dataDir);
      return new Response(certificatePem, { headers: { 'content-type': 'application/x-x509-ca-cert' } });
    }
    if (url && isDevSubscribeUrl(url)) {
      const id = `${DEV_SNS_TOPIC_ARN}:${randomBytes(16).toString('hex')}`;
      const xml = `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${id}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`;
      return new Response(xml, { headers: { 'content-type': 'text/xml' } });
    }
    return fallback(input, init);
  };
}
