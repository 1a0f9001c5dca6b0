import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { type OptOutReason, phoneContactKey } from '#lib/domain/contact.ts';
import { ackTryMessageId, resendAfterFailure, type Slot, settleAck } from '#lib/domain/conversation.ts';
import { withEvent } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { DeliveryUpdate, Message, Transcription } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { updateConversation } from './conversation-writes.ts';
import { markRefusedNumber } from './refused-number.ts';
import { markReplyFailed } from './reply-failed.ts';

export type UpdateDeps = {
  store: ConversationStore;
  clock: Clock;
  log: Log;
  /** App ids whose echoes are our own sends (Meta: the app that owns the webhook). */
  ourAppIds: readonly string[];
  /** The promise of a customer message newer than a person's inbox reply (applyStoredReply). */
  business: BusinessConfig;
  /**
   * AcksFailedAfterSend (NoticesFailedAfterSend) for an ack (late notice) the provider reports
   * undelivered or failed after it was sent; MailBounces, MailComplaints for SES's reports.
   */
  metrics: Metrics;
};

export type UpdateResult = {
  kind: 'applied' | 'stale' | 'unknown' | 'held' | 'ours' | 'no-conversation';
};

/** A delivery update for `message`, ours, found by its provider id or held until its alias was written (recordDelivery). */
export async function applyDelivery(
  deps: Pick<UpdateDeps, 'store' | 'clock'> & Partial<Pick<UpdateDeps, 'metrics'>>,
  message: Message,
  update: DeliveryUpdate,
  /**
   * A webhook's (recordDelivery), not a status held for the alias's writer: an ack or notice
   * still being sent is then between its worker's alias write and its settling write, which
   * announces its `*.sent` ahead whatever it finds. Its failure is written as after that write.
   */
  fromWebhook = false,
): Promise<UpdateResult> {
  const updated = await deps.store.updateDelivery(message.id, update);
  // Counted once per report: only the write that stored its status (a redelivery finds it stored).
  if (updated && update.stopAutomatic)
    deps.metrics?.count(update.stopAutomatic === 'bounced' ? 'MailBounces' : 'MailComplaints');
  // Before the status's own verdict: a complaint leaves a status already stored, and a redelivery
  // of a bounce whose first delivery died after its status still stops what comes next.
  // Twilio's 21610 tells the number's opt-out when the message was sent: placed at its creation,
  // so a START received before the callback (its latest word) stands.
  if (update.stopAutomatic || update.optedOut)
    await stopAutomatic(
      deps,
      message,
      update.stopAutomatic ? update.at : message.createdAt,
      optOutReasonOf(update),
    );
  // An acknowledgement or a late notice: its slot on the conversation.
  const slot: Slot | null = message.kind === 'ack' || message.kind === 'notice' ? message.kind : null;
  const failure = slot !== null && (update.status === 'failed' || update.status === 'undelivered');
  const replyFailure =
    message.kind === 'reply' && (update.status === 'failed' || update.status === 'undelivered');
  // Not stored: older than what we have, or the provider's retry of a callback whose first
  // delivery died after storing it, with the slot (or the reply's failure) below still to mark.
  if (!updated && !((failure || replyFailure) && message.delivery?.status === update.status))
    return { kind: 'stale' };
  // Whether the message's conversation is a call's (its route, read by the write below).
  let call = replyFailure && (await markReplyFailed(deps, message, update));
  let marked = false;
  let spoken = false;
  if (failure) {
    // Refused because the window had closed (the send raced the 24 hours, or a queue held it):
    // skipped, as when the provider says so at once (send-ack), and never an alarmed failure.
    // Refused for the number's opt-out: skipped, as when refused at once (refusedForNumber).
    const outcome = update.windowClosed
      ? ({ state: 'skipped', reason: 'outside-window' } as const)
      : update.optedOut
        ? ({ state: 'skipped', reason: 'opted-out' } as const)
        : update.notMobile
          ? ({ state: 'skipped', reason: 'channel-cannot-send' } as const)
          : ({
              state: 'failed',
              reason: `delivery-${update.status}${update.errorCode ? `:${update.errorCode}` : ''}`,
            } as const);
    // The ack (or notice) of the conversation's current episode, known by its id: the callback
    // may land while the worker is still between storing the message and marking it sent
    // (then its "sent" keeps this verdict, settleAck). A notice refused after it was marked
    // sent gives the promise it stated back (settleAck).
    await updateConversation(deps.store, message.conversationId, (current) => {
      const job = current[slot];
      call = current.route.channel === 'voice';
      marked =
        job !== null &&
        ackTryMessageId(current.id, job, slot) === message.id &&
        (job.state === 'sending' || job.state === 'sent');
      if (!marked || !job) return current;
      const at = deps.clock.now();
      const sentAt = new Date(message.createdAt);
      // A call's SMS ack to a number that takes no SMS (a landline libphonenumber took for a
      // mobile): the caller heard the promise in the greeting, which stays the ack, measured, no
      // late notice texted after it; no failure for the AcksFailing alarm (nothing of ours broke).
      // Its worker's "sent", if still to come, finds it so (settleAck).
      if (
        slot === 'ack' &&
        (update.noSms || update.notMobile || update.optedOut) &&
        current.route.channel === 'voice'
      ) {
        spoken = true;
        const { leaseUntil: _lease, retryAt: _retry, uncertain: _uncertain, sequence, ...kept } = job;
        const spokenAt = job.state === 'sent' && job.sentAt ? job.sentAt : sentAt.toISOString();
        const heard: typeof current = {
          ...current,
          ack: { ...kept, state: 'sent', sentAt: spokenAt, messageId: message.id, reason: 'spoken-on-call' },
        };
        // Held for its worker (no alias yet), which announces no "sent" after a failure: said here.
        // Between its worker's alias and settling writes, said here too, under the id that worker
        // announces ahead: were its announcement lost (the bus down just then), this outbox has it.
        if (job.state === 'sent') return heard;
        return withEvent(
          heard,
          'ack.sent',
          String(job.episode),
          at,
          { episode: job.episode, messageId: message.id, spoken: true },
          sequence,
        );
      }
      // Refused while its worker is between its alias and settling writes: settled sent first, as
      // that worker's write would (its `*.sent` in this write's outbox, under the id the worker
      // announces ahead), so the `*.failed` (or the window's skip) names the send (sentAt) and
      // takes it back, whichever a consumer hears first. The worker's write then finds it settled
      // and writes nothing: were its announcement lost (the bus down just then), this outbox still
      // has the `*.sent`. One held for its worker is refused before any "sent" (it announces none then).
      const base: typeof current =
        fromWebhook && job.state === 'sending'
          ? settleAck(current, job.episode, { state: 'sent', at: sentAt, messageId: message.id }, slot)
          : current;
      // A failure a later try may get past, shortly after it went: announced failed, sent again
      // (resendAfterFailure: bounded, never once the episode ended), whichever of the status and
      // the worker's write came first.
      const resent =
        outcome.state === 'failed' && update.retryable
          ? resendAfterFailure(base, slot, { reason: outcome.reason, at, sentAt })
          : null;
      return resent ?? settleAck(base, job.episode, { ...outcome, at }, slot);
    });
    // Counted for the AcksFailing alarm (NoticesFailedAfterSend for a notice, charted only):
    // carrier filtering (Twilio 30007) and unreachable handsets reach us only so. An ack so failed
    // was counted in AcksSent when the worker sent it: AcksFailedAfterSend, not AcksFailed (a
    // refusal at send, never sent), so the alarm's share does not count it twice; a notice the
    // same, so NoticesSent + NoticesFailed stays what was tried. Once per ack or notice: only the
    // write that moved it from sending or sent to failed counts (a retry, a repeat finds it failed).
    if (marked && !spoken && outcome.state === 'failed')
      deps.metrics?.count(slot === 'ack' ? 'AcksFailedAfterSend' : 'NoticesFailedAfterSend');
  }
  // Twilio's advice: never text that number again (Contact.noSmsAt: a later call's greeting is its
  // ack). For 30006 only a caller's: a number that texted us takes SMS, its 30006 an unreachable
  // carrier's (the message fails with its code, the contact is left alone). 21635 / 21614 say the
  // number is no mobile whatever the conversation: marked as when Twilio refuses the send at once
  // (refusedForNumber); a text from the number since clears it (markNoSms, Contact.textedAt).
  if ((update.notMobile || (update.noSms && call)) && (failure || replyFailure) && message.channel === 'sms')
    await markRefusedNumber(
      { store: deps.store, now: deps.clock.now() },
      {
        key: phoneContactKey(message.to),
        recipient: 'no-sms',
        at: deps.clock.now(),
        sentAt: new Date(message.createdAt),
      },
      message.conversationId,
    );
  if (!updated && !marked) return { kind: 'stale' };
  return { kind: 'applied' };
}

/** Why a report stops automatic messages: SES's bounce or complaint, or Twilio's STOP list (21610). */
function optOutReasonOf(update: DeliveryUpdate): OptOutReason {
  if (update.stopAutomatic === 'bounced') return 'bounce';
  return update.stopAutomatic === 'complained' ? 'complaint' : 'stop';
}

/**
 * No more acks or late notices to the address our message went to (a permanent bounce, a
 * complaint, Twilio's 21610): the contact is opted out for that reason, as by STOP, at `at`
 * (setConsent: the latest word wins, a redelivery applies again and changes nothing; a bounce
 * never replaces a complaint), and the pending ones of the message's conversation and of the
 * customer's open one are ended (consentFromElsewhere: no write when nothing changes). An agent may still reply by hand: the
 * customer wrote to us, and a person's answer is what they asked for.
 */
async function stopAutomatic(
  deps: Pick<UpdateDeps, 'store' | 'clock'>,
  message: Message,
  at: string,
  reason: OptOutReason,
): Promise<void> {
  if (message.direction !== 'outbound' || !message.contactKey) return;
  // A complaint stands over the newer lift of a bounce (setConsent): on the conversation too, as
  // of when we heard it, after the lifting mail's consent there.
  const now = deps.clock.now();
  const placedAt = reason === 'complaint' ? new Date(Math.max(Date.parse(at), now.getTime())) : new Date(at);
  await markRefusedNumber(
    { store: deps.store, now },
    // A bounce of mail sent before the address's own later mail is out of date (setConsent).
    {
      key: message.contactKey,
      recipient: 'opted-out',
      at: new Date(at),
      reason,
      placedAt,
      sentAt: new Date(message.createdAt),
    },
    message.conversationId,
  );
}

/**
 * How long the provider's report of one of our sends is kept for the lookup of a try whose answer
 * was lost: past a dead-lettered ack's redrive (the DLQ keeps it 14 days).
 */
const REPORTED_SEND_SECONDS = 14 * 24 * 60 * 60;

/** The provider reported taking our message `messageId` as `sent.providerMessageId`. */
export async function noteReported(
  deps: Pick<UpdateDeps, 'store' | 'clock'>,
  messageId: string,
  sent: { provider: string; providerMessageId: string },
): Promise<void> {
  const { provider, providerMessageId } = sent;
  await deps.store.noteReportedSend(
    { messageId, provider, providerMessageId },
    REPORTED_SEND_SECONDS,
    deps.clock.now(),
  );
}

/** Text that completes an earlier message (a voicemail's transcription), in either order. */
export async function recordTranscription(
  deps: UpdateDeps,
  transcription: Transcription,
): Promise<UpdateResult> {
  await deps.store.completeText(
    stableId('msg', `${transcription.provider}:${transcription.providerMessageId}`),
    transcription.text,
  );
  return { kind: 'applied' };
}
