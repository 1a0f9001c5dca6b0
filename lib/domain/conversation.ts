// The conversation's domain, the one module its importers use: the schemas and the pure
// transitions live by responsibility under ./conversation/ and are re-exported here.

export type { ClaimResult } from './conversation/ack-claim.ts';
export {
  ackMessageId,
  ackNoLongerNeeded,
  ackRetryAt,
  ackTryMessageId,
  claimAck,
  deadLetteredAt,
  isRedrive,
  markAckEnqueued,
} from './conversation/ack-claim.ts';
export {
  MAX_RESENDS,
  RESEND_AFTER_MS,
  RESEND_WITHIN_MS,
  resendAfterFailure,
} from './conversation/ack-resend.ts';
export type { Ack, AckState, OwedLookUp, SentVia, Slot, UncertainTry } from './conversation/ack-schema.ts';
export { AckSchema, AckStateSchema, OwedLookUpSchema, SentViaSchema } from './conversation/ack-schema.ts';
export type { SettleOutcome, UncertainOutcome } from './conversation/ack-settle.ts';
export { ackSpokenInstead, mayHaveGone, REPORT_UNREAD_REASON, settleAck } from './conversation/ack-settle.ts';
export { applyAgentReply, replyFailed } from './conversation/agent-reply.ts';
export { answeredByReply, applyInbound, isQuestion, localeSettled } from './conversation/apply-inbound.ts';
export type { ReplyContext } from './conversation/apply-reply.ts';
export { applyReply } from './conversation/apply-reply.ts';
export {
  CHANNEL_WAIT_REASON,
  waitingChannelKey,
  waitingChannelOf,
  waitsForChannel,
} from './conversation/channel-wait.ts';
export { consentFromElsewhere } from './conversation/consent.ts';
export type { ApplyInboundResult, InboundContext, NoAckReason } from './conversation/inbound-context.ts';
export { lastInboundAt, lastReadableInboundAt } from './conversation/inbound-times.ts';
export { waitingForLinkedAck } from './conversation/join-episode.ts';
export type { ContactReply, LastAck } from './conversation/kept-by-contact.ts';
export {
  contactReplyAsked,
  keptByContact,
  lastReplyAskedKept,
  lastReplyKept,
  lastSentAck,
} from './conversation/kept-by-contact.ts';
export {
  assignConversation,
  readdressed,
  reopenConversation,
  resolveConversation,
  takenOver,
} from './conversation/lifecycle.ts';
export {
  deadLetterLookUp,
  lookUpDueAt,
  markLookUpsEnqueued,
  owedRedrive,
  owingLookUp,
  owingReplacedTry,
  replacedSent,
  settleLookUp,
} from './conversation/look-ups.ts';
export { deferOutbox, hasUndeliveredEvents, MAX_OUTBOX_EVENTS, spillOutbox } from './conversation/outbox.ts';
export {
  breachDueAt,
  markBreached,
  movePromise,
  noticeDueAt,
  requestNotice,
  stateNewPromise,
  stateSigner,
} from './conversation/promise-timing.ts';
export { replyApplied, withListVersion } from './conversation/replies-applied.ts';
export {
  replyInFlight,
  replyLanded,
  replyMayBeInFlight,
  replyUncertain,
} from './conversation/replies-in-flight.ts';
export type { ReplyRoute } from './conversation/route.ts';
export { automaticChannelOf, ReplyRouteSchema, routeOf, sendChannelOf } from './conversation/route.ts';
export type { Conversation } from './conversation/schema.ts';
export { ConversationSchema, MAX_EPISODE_MESSAGE_IDS } from './conversation/schema.ts';
export { nextSweepAt } from './conversation/sweep.ts';
export { asksSomething, reopenedByFailure, withoutThanksMarker } from './conversation/thanks-resolve.ts';
export type { Awaiting } from './conversation/waiting.ts';
export { awaitingOf, customerWaiting, promiseOwed } from './conversation/waiting.ts';
