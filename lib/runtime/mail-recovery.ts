import type { SQSClient } from '@aws-sdk/client-sqs';
import type { MailStore } from '#lib/adapters/mail-store.ts';
import { SqsMailRecheckQueue } from '#lib/adapters/sqs-mail-recheck-queue.ts';
import { normalizeStoredSesMail } from '#lib/channels/email/stored-ses-mail.ts';
import type { AppConfig } from '#lib/config/app-config.ts';
import type { RecordInboundDeps } from '#lib/use-cases/record-inbound.ts';
import { type RecoverMailDeps, type RecoverMailResult, recoverMail } from '#lib/use-cases/recover-mail.ts';

/** Where SES stores raw mail in the bucket (infra/constructs/mail-intake.ts, INBOUND_PREFIX). */
const INBOUND_PREFIX = 'inbound/';

/** The bare address of "Name <address>" (or the address itself), lower-cased. */
function ourAddresses(from: string | undefined): string[] {
  if (!from) return [];
  return [(/<([^>]+)>/.exec(from)?.[1] ?? from).trim().toLowerCase()];
}

/**
 * The sweeper's recovery of stored mail whose SNS notification never arrived; undefined
 * unless MAIL_RECHECK_QUEUE_URL, MAIL_BUCKET and a mail store are all there (the stack gives
 * the queue to the sweeper alone).
 */
export function wireMailRecovery(
  config: AppConfig,
  sqs: SQSClient,
  mailStore: MailStore | undefined,
  record: RecordInboundDeps,
): (() => Promise<RecoverMailResult>) | undefined {
  const { recovery, bucket, fromAddress } = config.email;
  if (!recovery.queueUrl || !bucket || !mailStore) return undefined;
  const recheck = new SqsMailRecheckQueue({ client: sqs, queueUrl: recovery.queueUrl });
  const deps: RecoverMailDeps = {
    recheck,
    bucket,
    prefix: INBOUND_PREFIX,
    readMail: (from, key) => mailStore.getObject(from, key),
    normalize: (raw, sesMessageId) =>
      normalizeStoredSesMail(raw, sesMessageId, {
        ourAddresses: ourAddresses(fromAddress),
        saveAttachment: (name, type, bytes) => mailStore.saveAttachment(name, type, bytes),
      }),
    record: {
      ...record,
      // The sweeper never sends, so it holds no SES client; email is answered wherever
      // SES_FROM_ADDRESS is set, which is what the http function's policy sees too.
      canSendOn: (provider, channel, to) =>
        record.canSendOn(provider, channel, to) || (channel === 'email' && fromAddress !== undefined),
    },
    afterMs: recovery.afterMs,
    recheckSeconds: recovery.recheckSeconds,
  };
  return () => recoverMail(deps);
}
