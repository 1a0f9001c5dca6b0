import { answeredByReply, type Conversation } from '#lib/domain/conversation.ts';
import type { InboundEvent, InboundMessage, Message } from '#lib/domain/message.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import type { MailRecheck, MailRecheckQueue, StoredMail } from '#lib/ports/mail-recheck-queue.ts';
import { type RecordInboundDeps, recordInbound } from './record-inbound.ts';

/** The provider an SES-stored mail is recorded under, as the SNS route records it. */
const PROVIDER = 'ses';
/** SES writes this object when the S3 action is set up; it is not a customer's mail. */
const SES_SETUP_OBJECT = 'AMAZON_SES_SETUP_NOTIFICATION';

export type RecoverMailDeps = {
  recheck: MailRecheckQueue;
  /** The bucket and key prefix SES stores raw mail under; notices for anything else are dropped. */
  bucket: string;
  prefix: string;
  readMail: (bucket: string, key: string) => Promise<Uint8Array>;
  /**
   * The stored mail as the SES channel normalizes its notification: provider `ses`,
   * providerMessageId = the SES message id, so the two ways in dedupe to one message.
   */
  normalize: (raw: Uint8Array, sesMessageId: string) => Promise<InboundEvent[]>;
  /** recordInbound's own deps (store, ack queue, policy): an ack is decided as for any mail. */
  record: RecordInboundDeps;
  /** How old a stored mail must be before the sweeper takes it in itself: SNS's retry horizon. */
  afterMs: number;
  /** How long the notice of a younger mail stays hidden before the next look. */
  recheckSeconds: number;
  /** Receives per run, up to 10 notices each. */
  rounds?: number;
};

export type RecoverMailResult = {
  recovered: number;
  alreadyRecorded: number;
  waiting: number;
  ignored: number;
  errors: number;
};

type Outcome = 'recovered' | 'recorded' | 'ignored' | { waitSeconds: number };

/**
 * Whether recordInbound got past its conversation step for this message: the same test
 * applyInbound uses to leave a conversation unchanged. A message stored by a request that
 * then failed (and that SNS gave up retrying) is not: the recovery finishes it.
 */
function applied(conversation: Conversation | null, message: Message): boolean {
  if (!conversation) return false;
  return (
    conversation.episodeMessageIds.includes(message.id) ||
    answeredByReply(conversation.lastReplyAt, message, conversation.lastInboxReply)
  );
}

async function checkMail(deps: RecoverMailDeps, mail: StoredMail, now: Date): Promise<Outcome> {
  const { log, store } = deps.record;
  const sesMessageId = mail.key.startsWith(deps.prefix) ? mail.key.slice(deps.prefix.length) : '';
  if (mail.bucket !== deps.bucket || !sesMessageId || sesMessageId.includes('/')) {
    log.warn('mail recheck: not a stored mail of ours, dropped', { reason: 'foreign-object' });
    return 'ignored';
  }
  if (sesMessageId === SES_SETUP_OBJECT) return 'ignored';

  const found = await store.findByProviderId(PROVIDER, sesMessageId);
  if (found && applied(await store.getConversation(found.conversationId), found)) return 'recorded';
  // SNS is still retrying: it delivers the notification (verdicts and all) by itself.
  const ageMs = now.getTime() - Date.parse(mail.storedAt);
  if (ageMs < deps.afterMs) {
    return { waitSeconds: Math.min(deps.recheckSeconds, Math.ceil((deps.afterMs - ageMs) / 1000)) };
  }

  let events: InboundEvent[];
  try {
    events = await deps.normalize(await deps.readMail(mail.bucket, mail.key), sesMessageId);
  } catch (error) {
    // The SNS route answers such a mail 400 and records nothing either; it stays in S3.
    if (error instanceof SwitchboardError && error.code === 'MALFORMED_PAYLOAD') {
      log.warn('mail recheck: stored mail is not a usable message, left in S3', { error: error.code });
      return 'ignored';
    }
    throw error;
  }
  let outcome: Outcome = 'recorded';
  for (const event of events) {
    if (event.type !== 'message') continue;
    const { message } = event;
    // A different id would record the mail a second time when SNS delivers it after all.
    if (message.provider !== PROVIDER || message.providerMessageId !== sesMessageId) {
      throw new SwitchboardError('RECOVERY_ID_MISMATCH', 'The recovered mail does not carry its SES id');
    }
    const other = found ? null : await recordedTheOtherWay(deps.record.store, message);
    if (other) {
      log.info('mail recheck: the same mail is recorded as it came the other way in', {
        messageId: other.id,
        conversationId: other.conversationId,
        provider: other.provider,
      });
      continue;
    }
    outcome = 'recovered';
    const result = await recordInbound(deps.record, message);
    // Not when SNS delivered it in the same moment: then nothing was recovered.
    if (result.kind === 'recorded' || found) deps.record.metrics.count('MailRecovered');
    log.info('mail recovered from S3 (its SNS notification never arrived)', {
      messageId: result.messageId,
      conversationId: result.conversationId,
      ack: result.ack,
      result: found ? 'finished' : result.kind,
      ageMinutes: Math.floor(ageMs / 60_000),
    });
  }
  return outcome;
}

/**
 * Whether the mail came in the other way (Mailgun) first and is recorded, finished, under that
 * delivery's id: the same-mail key its copy through SES claimed (or would claim) names it. Found
 * at stop 26: nothing is stored under the SES id of such a copy, so the recheck took it for a mail
 * whose SNS notification never arrived.
 */
async function recordedTheOtherWay(
  store: RecordInboundDeps['store'],
  message: InboundMessage,
): Promise<Message | null> {
  if (!message.sameMessageKey) return null;
  const first = await store.sameMessage(message.sameMessageKey);
  if (
    !first ||
    (first.provider === message.provider && first.providerMessageId === message.providerMessageId)
  ) {
    return null;
  }
  const recorded = await store.findByProviderId(first.provider, first.providerMessageId);
  return recorded && applied(await store.getConversation(recorded.conversationId), recorded)
    ? recorded
    : null;
}

async function settle(deps: RecoverMailDeps, notice: MailRecheck, now: Date): Promise<Outcome[]> {
  if (notice.kind === 'test') {
    await deps.recheck.done(notice.handle);
    return ['ignored'];
  }
  if (notice.kind === 'unreadable') {
    throw new SwitchboardError('RECHECK_UNREADABLE', 'A mail recheck notice is not an S3 event');
  }
  const outcomes: Outcome[] = [];
  for (const mail of notice.mails) outcomes.push(await checkMail(deps, mail, now));
  const waits = outcomes.flatMap((outcome) => (typeof outcome === 'object' ? [outcome.waitSeconds] : []));
  if (waits.length > 0) await deps.recheck.later(notice.handle, Math.min(...waits));
  else await deps.recheck.done(notice.handle);
  return outcomes;
}

/**
 * Takes in the mail SES stored but whose SNS notification never reached us (SNS gives up
 * after its retry policy). Each stored object's notice is checked against the store: a
 * recorded mail's notice is removed; a mail younger than SNS's retry horizon is looked at
 * again later; an older one is read from S3, normalized like its notification would have
 * been and recorded with recordInbound, so a late SNS delivery is a duplicate and the
 * acknowledgement is decided once. A notice that fails is left to come back (and to the
 * dead-letter queue if it keeps failing). Bounded per run; never lists the bucket.
 */
export async function recoverMail(deps: RecoverMailDeps): Promise<RecoverMailResult> {
  const result: RecoverMailResult = { recovered: 0, alreadyRecorded: 0, waiting: 0, ignored: 0, errors: 0 };
  for (let round = 0; round < (deps.rounds ?? 5); round++) {
    const notices = await deps.recheck.receive(10);
    if (notices.length === 0) break;
    for (const notice of notices) {
      try {
        for (const outcome of await settle(deps, notice, deps.record.clock.now())) {
          if (outcome === 'recovered') result.recovered++;
          else if (outcome === 'recorded') result.alreadyRecorded++;
          else if (outcome === 'ignored') result.ignored++;
          else result.waiting++;
        }
      } catch (error) {
        result.errors++;
        deps.record.log.warn('mail recheck failed; the notice comes back', {
          error: error instanceof SwitchboardError ? error.code : (error as Error).name,
        });
      }
    }
  }
  return result;
}
