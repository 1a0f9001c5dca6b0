import { S3Client } from '@aws-sdk/client-s3';
import { LocalMailStore, type MailStore, S3MailStore } from '#lib/adapters/mail-store.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import { LOCAL_CREDENTIALS } from './clients.ts';

// Kept apart from clients.ts: only the function that takes mail in imports the S3 client.

/**
 * The mail store: the S3 bucket when MAIL_BUCKET is set; otherwise a folder (the local data
 * dir, or /tmp on a Lambda without email intake configured, where nothing is ever stored).
 */
export function createMailStore(config: AppConfig, localDir = '/tmp/switchboard-mail'): MailStore {
  const { bucket, s3Endpoint } = config.email;
  if (!bucket) return new LocalMailStore({ dir: localDir });
  const client = new S3Client({
    region: config.aws.region,
    ...(s3Endpoint ? { endpoint: s3Endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true } : {}),
  });
  return new S3MailStore({ client, bucket });
}
