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
import { selfSignedCertificate } from './self-signed-certificate.ts';

// Locally there is no SNS: `npm run simulate -- email-ses` signs SES notifications with a dev
// key kept in the data dir, and `npm start` (development only) trusts the dev topic and serves
// the dev certificate from its SNS-shaped URL, so the real verifier runs unchanged.

/** The topic `npm start` accepts SES mail from when SES_TOPIC_ARNS is unset (development only). */
export const DEV_SNS_TOPIC_ARN = 'arn:aws:sns:eu-central-1:000000000000:switchboard-dev-mail';
const DEV_SNS_HOST = 'sns.eu-central-1.amazonaws.com';
/** Passes the verifier's URL checks; devFetch answers it from the data dir, never the network. */
export const DEV_SNS_CERT_URL = `https://${DEV_SNS_HOST}/SimpleNotificationService-switchboard-dev.pem`;

export type DevSnsIdentity = { privateKey: KeyObject; certificatePem: string };

const paths = (dataDir: string) => ({
  key: join(dataDir, 'dev-sns-key.pem'),
  cert: join(dataDir, 'dev-sns-cert.pem'),
});

async function readIdentity(dataDir: string): Promise<DevSnsIdentity> {
  const { key, cert } = paths(dataDir);
  const privateKey = createPrivateKey(await readFile(key, 'utf8'));
  const certificatePem = await readFile(cert, 'utf8');
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificatePem);
  } catch {
    // Before the serial was encoded minimally, one dev certificate in 512 did not parse.
    throw new Error(`${cert} is not a certificate: delete it and ${key}, and they are made again`);
  }
  if (!parsed.checkPrivateKey(privateKey)) {
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
  const certificatePem = selfSignedCertificate(createPublicKey(privateKey), privateKey, {
    commonName: 'switchboard-dev.sns.amazonaws.com',
    validDays: 3650,
  });
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
