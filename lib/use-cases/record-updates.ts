import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { mayBeAlias } from '#lib/domain/contact.ts';
import {
  ackMessageId,
  type Conversation,
  replyFailed,
  replyMayBeInFlight,
  type Slot,
  settleAck,
} from '#lib/domain/conversation.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { DeliveryUpdate, Message, OutboundEcho, Transcription } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { NotYetError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { applyStoredReply, updateConversation } from './conversation-writes.ts';

export type UpdateDeps = {
  store: ConversationStore;
  clock: Clock;
  log: Log;
  /** App ids whose echoes are our own sends (Meta: the app that owns the webhook). */
  ourAppIds: readonly string[];
  /** The promise of a customer message newer than a person's inbox reply (applyStoredReply). */
  business: BusinessConfig;
  /** AcksFailedAfterSend (NoticesFailedAfterSend) for an ack (late notice) the provider reports undelivered or failed after it was sent. */
  metrics: Metrics;
};

export type UpdateResult = {
  kind: 'applied' | 'stale' | 'unknown' | 'held' | 'ours' | 'no-conversation';
};

/** How long a status for a provider id we have not aliased yet is held for the alias's writer. */
const HELD_DELIVERY_SECONDS = 24 * 60 * 60;

/**
 * A status callback or receipt for one of our outbound messages: stored on the message if it
 * is newer than what we have; a failed acknowledgement or late notice marks the conversation's
 * failed (skipped when the window had closed). It never creates a message and never triggers
 * an acknowledgement. One for a provider id we have no alias for yet (it came between the
 * provider's answer to our send and our write of the alias) is held, and applied by the
 * alias's writer (applyDelivery).
 */
export async function recordDelivery(deps: UpdateDeps, update: DeliveryUpdate): Promise<UpdateResult> {
  const message = await deps.store.findByProviderId(update.provider, update.providerMessageId);
  if (message) return applyDelivery(deps, message, update);
  if (await deps.store.holdDelivery(update, HELD_DELIVERY_SECONDS, deps.clock.now())) {
    // Named by our send's tag (WhatsApp's biz_opaque_callback_data): the provider took it, and a
    // try whose answer was lost finds it so (findUncertainSend); its status waits here for the alias.
    if (update.ourMessageId) await noteReported(deps, update.ourMessageId, update);
    return { kind: 'held' };
  }
  // The alias was written meanwhile.
  const aliased = await deps.store.findByProviderId(update.provider, update.providerMessageId);
  return aliased ? applyDelivery(deps, aliased, update) : { kind: 'unknown' };
}

/** A delivery update for `message`, ours, found by its provider id or held until its alias was written. */
export async function applyDelivery(
  deps: Pick<UpdateDeps, 'store' | 'clock'> & Partial<Pick<UpdateDeps, 'metrics'>>,
  message: Message,
  update: DeliveryUpdate,
): Promise<UpdateResult> {
  const updated = await deps.store.updateDelivery(message.id, update);
  // An acknowledgement or a late notice: its slot on the conversation.
  const slot: Slot | null = message.kind === 'ack' || message.kind === 'notice' ? message.kind : null;
  const failure = slot !== null && (update.status === 'failed' || update.status === 'undelivered');
  const replyFailure =
    message.kind === 'reply' && (update.status === 'failed' || update.status === 'undelivered');
  // Not stored: older than what we have, or the provider's retry of a callback whose first
  // delivery died after storing it, with the slot (or the reply's failure) below still to mark.
  if (!updated && !((failure || replyFailure) && message.delivery?.status === update.status))
    return { kind: 'stale' };
  if (replyFailure) await markReplyFailed(deps, message, update);
  let marked = false;
  if (failure) {
    // Refused because the window had closed (the send raced the 24 hours, or a queue held it):
    // skipped, as when the provider says so at once (send-ack), and never an alarmed failure.
    const outcome = update.windowClosed
      ? ({ state: 'skipped', reason: 'outside-window' } as const)
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
      marked =
        job !== null &&
        ackMessageId(current.id, job.episode, slot) === message.id &&
        (job.state === 'sending' || job.state === 'sent');
      return marked && job
        ? settleAck(current, job.episode, { ...outcome, at: deps.clock.now() }, slot)
        : current;
    });
    // Counted for the AcksFailing alarm (NoticesFailedAfterSend for a notice, charted only):
    // carrier filtering (Twilio 30007) and unreachable handsets reach us only so. An ack so failed
    // was counted in AcksSent when the worker sent it: AcksFailedAfterSend, not AcksFailed (a
    // refusal at send, never sent), so the alarm's share does not count it twice; a notice the
    // same, so NoticesSent + NoticesFailed stays what was tried. Once per ack or notice: only the
    // write that moved it from sending or sent to failed counts (a retry, a repeat finds it failed).
    if (marked && outcome.state === 'failed')
      deps.metrics?.count(slot === 'ack' ? 'AcksFailedAfterSend' : 'NoticesFailedAfterSend');
  }
  if (!updated && !marked) return { kind: 'stale' };
  return { kind: 'applied' };
}

/** The agents' tool hears that a reply did not reach the customer (reply.failed, once per reply). */
async function markReplyFailed(
  deps: Pick<UpdateDeps, 'store' | 'clock'>,
  message: Message,
  update: DeliveryUpdate,
): Promise<void> {
  const status = update.status === 'failed' ? 'failed' : 'undelivered';
  await updateConversation(deps.store, message.conversationId, (current) =>
    replyFailed(current, {
      messageId: message.id,
      sentAt: message.createdAt,
      status,
      errorCode: update.errorCode,
      at: deps.clock.now(),
    }),
  );
}

/**
 * A message sent from the business side that the provider echoes back. Our own sends are
 * recognised (by their stored provider id, or the app that sent them) and ignored; a message
 * a person wrote from the provider's own inbox is stored as an outbound reply, which ends the
 * customer's waiting episode and counts as the first reply.
 */
export async function recordEcho(
  deps: UpdateDeps & {
    /**
     * Now, when the echo is recorded later than received (the worker, for a webhook the store
     * could not take; `clock` is then its receipt time): whether it is still worth waiting for,
     * and whether one of our sends is still in flight, are questions about now.
     */
    recordingClock?: Clock;
    /**
     * The worker's last receive of the job: an echo whose customer is not placed yet is let go,
     * one still behind our send in flight (not an uncertain try's: uncertainTryEchoed) is
     * recorded as a person's reply, never left to the DLQ.
     */
    lastReceive?: boolean;
  },
  echo: OutboundEcho,
): Promise<UpdateResult> {
  const ourApp = echo.appId !== undefined && deps.ourAppIds.includes(echo.appId);
  // Our send's tag (echo `metadata`; Instagram's echo has no app id, and META_APP_ID may be
  // unset): one of our sends, which a try whose answer was lost finds so when it is not stored
  // yet (one read: stored, nothing more). Another app's echo is never taken for ours.
  const otherApp = echo.appId !== undefined && !ourApp && deps.ourAppIds.length > 0;
  if (echo.ourMessageId && !otherApp) {
    if (!(await deps.store.getMessage(echo.ourMessageId))) await noteReported(deps, echo.ourMessageId, echo);
    return { kind: 'ours' };
  }
  if (ourApp) return { kind: 'ours' };
  const messageId = stableId('msg', `${echo.provider}:${echo.providerMessageId}`);
  const known = await deps.store.findByProviderId(echo.provider, echo.providerMessageId);
  // Stored by an earlier delivery of this echo that died before applying it: apply it now.
  if (known?.id === messageId) return applyInboxReply(deps, known);
  if (known) return { kind: known.kind === 'reply' && known.direction === 'outbound' ? 'stale' : 'ours' };
  const now = deps.clock.now();
  const recording = deps.recordingClock?.now() ?? now;
  // Worth Meta's retry (or the queue's next receive) only while it was recent when received:
  // what it waits for is then on its way. A queued echo is judged at its receipt time, as the
  // webhook would have judged it: the customer's message it answers may wait on the same queue,
  // behind the same outage, and be recorded after it. It is let go on the job's last receive
  // (a customer who never comes), never kept in the DLQ.
  const age = echo.sentAt ? now.getTime() - Date.parse(echo.sentAt) : Number.POSITIVE_INFINITY;
  const recent = age < ECHO_WAIT_MS && !deps.lastReceive;
  // A reply to a user named by their BSUID alone goes where their messages go: the contact the
  // BSUID is linked to (recordInbound's resolveAlias), else the BSUID's own. One read, only then.
  const linked = mayBeAlias(echo.contactKey) ? await deps.store.resolveAlias(echo.contactKey) : null;
  const contactKey = linked?.contactKey ?? echo.contactKey;
  const contact = await deps.store.getContact(contactKey);
  const conversationId = contact?.openConversationId;
  if (!conversationId) {
    // A customer we have never recorded, answered a moment ago: their message is likely still
    // on its way (a failed first delivery Meta will retry). Older: a thread the business began.
    // Queued (the worker, after an outage), a returning customer whose last conversation was
    // resolved waits too: her new message may be on the same queue, behind the same outage,
    // and opens the conversation this reply answers. (The webhook does not wait for her: with
    // the store up her message is recorded, and a person's follow-up to a past customer from
    // the inbox is common.)
    if (recent && (!contact || deps.recordingClock))
      throw new EchoNotYetError('the customer is not recorded yet');
    return { kind: 'no-conversation' };
  }
  const conversation = await deps.store.getConversation(conversationId);
  // The customer's first message is being recorded right now (claimed, not yet written); or,
  // older, a claim no conversation followed (a redelivered message that opened none).
  if (!conversation) {
    if (recent) throw new EchoNotYetError('the conversation is not written yet');
    return { kind: 'no-conversation' };
  }
  // Our own ack, notice or reply may be this echo: it is stored (and so recognised) a moment
  // after the provider took it. An echo without an app id (Instagram) waits until then; queued,
  // until its job's last receive, then it is judged now rather than left in the DLQ.
  if (!echo.appId && sendInFlight(conversation, recording)) {
    // The echo of a try whose answer was lost (its tag left out) is that try's report at once,
    // on any delivery: its next try, due UNCERTAIN_WAIT_MS after it, asks for it. Waiting until
    // the job's last receive (12 minutes on) let that try send the ack again, and the echo, no
    // longer behind a send in flight, was then recorded as a person's reply.
    const echoed = uncertainTryEchoed(conversation, echo, now);
    if (echoed) {
      // That try's own echo, its tag left out: the report its lookup adopts (never sent twice).
      await noteReported(deps, echoed, echo);
      return { kind: 'ours' };
    }
    if (!deps.lastReceive) throw new EchoNotYetError('one of our sends is in flight');
    deps.log.info('echo still behind one of our sends on its last receive: recorded as a person’s reply', {
      provider: echo.provider,
      channel: echo.channel,
      conversationId,
    });
  }
  const { message } = await deps.store.putMessage({
    id: messageId,
    conversationId,
    direction: 'outbound',
    kind: 'reply',
    channel: echo.channel,
    provider: echo.provider,
    providerMessageId: echo.providerMessageId,
    from: echo.from,
    to: echo.to,
    text: echo.text,
    media: echo.media,
    createdAt: now.toISOString(),
    contactKey,
  });
  return applyInboxReply(deps, message);
}

/**
 * How long the provider's report of one of our sends is kept for the lookup of a try whose answer
 * was lost: past a dead-lettered ack's redrive (the DLQ keeps it 14 days).
 */
const REPORTED_SEND_SECONDS = 14 * 24 * 60 * 60;

/** The provider reported taking our message `messageId` as `sent.providerMessageId`. */
async function noteReported(
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

/** How long after it was sent an echo for a customer not recorded yet is worth a retry. */
const ECHO_WAIT_MS = 10 * 60_000;

/** An echo that cannot be placed yet: answered 503, the provider delivers it again later. */
export class EchoNotYetError extends NotYetError {
  constructor(why: string) {
    super('ECHO_NOT_YET', `Echo not applied yet: ${why}`);
  }
}

/**
 * An ack or notice claimed by a worker whose lease still runs, or waiting after a try whose
 * outcome is unknown, or an agent's reply being sent: sent, perhaps, not yet stored.
 */
function sendInFlight(conversation: Conversation, now: Date): boolean {
  if (replyMayBeInFlight(conversation, now)) return true;
  return [conversation.ack, conversation.notice].some(
    (job) =>
      (job?.state === 'sending' &&
        job.leaseUntil !== undefined &&
        Date.parse(job.leaseUntil) > now.getTime()) ||
      // A try the provider may have taken, not answered (SendError.uncertain): its echo may be this.
      (job?.state === 'pending' && job.uncertain !== undefined),
  );
}

/**
 * The one of our sends an untagged echo behind our send in flight can be without ever being
 * stored: a try whose outcome we do not know (an ack's, a notice's, an agent's reply's), begun
 * before the echo was received, with its text. Its message id, or undefined: on a queued echo's
 * last receive (past any lease or reply mark of a send begun since) the echo is then a person's
 * inbox reply; before, it waits.
 */
function uncertainTryEchoed(
  conversation: Conversation,
  echo: OutboundEcho,
  receivedAt: Date,
): string | undefined {
  const begun = (at: string) => Date.parse(at) <= receivedAt.getTime();
  for (const slot of ['ack', 'notice'] as const) {
    const job = conversation[slot];
    if (job?.uncertain && job.uncertain.text === echo.text && begun(job.uncertain.at))
      return ackMessageId(conversation.id, job.episode, slot);
  }
  const replies = Object.entries(conversation.uncertainReplies ?? {});
  return replies.find(([, reply]) => reply.text === echo.text && begun(reply.at))?.[0];
}

/** A person answered from the provider's inbox: measured like any reply (reply.sent). */
async function applyInboxReply(deps: UpdateDeps, message: Message): Promise<UpdateResult> {
  await applyStoredReply(deps, message, null, true);
  return { kind: 'applied' };
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
