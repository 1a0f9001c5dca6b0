import { mayBeAlias } from '#lib/domain/contact.ts';
import { ackTryMessageId, type Conversation, replyMayBeInFlight } from '#lib/domain/conversation.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { Message, OutboundEcho } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { NotYetError } from '#lib/ports/errors.ts';
import { applyStoredReply } from './conversation-writes.ts';
import { noteReported, type UpdateDeps, type UpdateResult } from './record-updates.ts';
import { settleReported } from './settle-reported.ts';

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
    // Not stored: a try whose answer was lost, settled now where it waits for its lookup.
    if (!(await deps.store.getMessage(echo.ourMessageId))) {
      await noteReported(deps, echo.ourMessageId, echo);
      await settleReported(deps, echo.ourMessageId, echo, { contactKey: echo.contactKey });
    }
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
      // That try's own echo, its tag left out: the report that settles it (never sent twice).
      await noteReported(deps, echoed, echo);
      await settleReported(deps, echoed, echo, { conversationId });
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
      return ackTryMessageId(conversation.id, job, slot);
  }
  const replies = Object.entries(conversation.uncertainReplies ?? {});
  return replies.find(([, reply]) => reply.text === echo.text && begun(reply.at))?.[0];
}

/** A person answered from the provider's inbox: measured like any reply (reply.sent). */
async function applyInboxReply(deps: UpdateDeps, message: Message): Promise<UpdateResult> {
  await applyStoredReply(deps, message, null, true);
  return { kind: 'applied' };
}
