// What an agent reads for the codes the API gives about acknowledgements and deliveries
// (Conversation.ack.reason, Message.delivery.errorCode). The API keeps them stable and terse,
// for tools; a person needs to know what happened and whether they can do something about it.
// Unknown codes are shown as they are: the words are a help, never a filter.

/** Twilio's delivery and send error codes an agent meets most (twilio.com/docs/api/errors/<code>). */
const TWILIO_ERRORS = {
  21211: 'the number is not valid',
  21408: 'sending to that country is not enabled on our account',
  21610: 'the customer unsubscribed (replied STOP)',
  21612: 'this number cannot be reached from ours',
  21614: 'the number is not a mobile number',
  21635: 'the number is a landline',
  30003: 'the phone is off or out of coverage',
  30004: 'the message was blocked (the customer or their carrier blocks us)',
  30005: 'the number does not exist or is no longer in use',
  30006: 'a landline, or a carrier that cannot be reached',
  30007: 'the carrier filtered it as spam',
  30008: 'the carrier gave no reason',
  63016: 'the WhatsApp 24-hour window was closed',
  63003: 'the number is not on WhatsApp',
};

/** Meta's (WhatsApp Cloud, Messenger, Instagram) codes an agent meets most. */
const META_ERRORS = {
  131026: 'WhatsApp could not deliver it (the number may not be on WhatsApp)',
  131047: 'the 24-hour window was closed',
  131049: 'WhatsApp held it back to keep the customer from getting too many messages',
  131050: 'the customer stopped messages from us',
  551: 'the customer cannot be reached right now',
};

/** The provider's code in words, with the code itself (to search for, or to give support). */
export function providerErrorText(provider, code) {
  if (!code) return null;
  const known = (provider === 'meta' ? META_ERRORS : provider === 'twilio' ? TWILIO_ERRORS : {})[code];
  return known ? `${known} (error ${code})` : `error ${code}`;
}

/** Why an acknowledgement was not sent, or failed, in words (a skipped one is no fault). */
const REASONS = {
  'opted-out': 'the customer opted out of our messages',
  'channel-cannot-send': 'we cannot write back on this channel',
  'recently-answered': 'someone replied a moment before',
  'recently-acknowledged': 'the customer was acknowledged a moment before, in another conversation',
  'anonymous-caller': 'the caller withheld their number',
  'own-number': 'it came from one of our own numbers',
  'own-address': 'it came from one of our own addresses',
  'other-number': 'it was written to another number of our account',
  'automated-sender': 'it came from an automated sender',
  'outside-window': 'the messaging window had closed',
  'no-promise': 'no reply-by time could be given',
  answered: 'it was answered first',
  resolved: 'the conversation was resolved first',
  'spoken-on-call': 'the reply-by time was spoken on the call',
  standby: 'another app of the Page was handling the customer',
  virus: 'the mail carried a virus',
  spam: 'the mail was spam',
  'null-return-path': 'the mail was a bounce',
  'delivery-report': 'the mail was a delivery report',
  'system-sender': 'the mail came from a system address nobody reads',
  error: 'an error on our side',
  'dead-lettered': 'it failed too often and waits in the dead-letter queue',
};

/** An automatic mail or a list post (RFC 3834 headers): never answered automatically. */
const AUTOMATIC_MAIL = /^(auto-|x-auto|precedence-|list-)/;

/** What failed when a send did (the reason's code, before the provider's). */
const SEND_FAILURES = {
  SEND_REJECTED: 'the provider refused it',
  SEND_FAILED: 'the provider could not be reached or failed',
  SEND_UNAUTHORIZED:
    'our provider account refused it (credentials or permissions: tell whoever runs Switchboard)',
};

/** A reason of the API (`opted-out`, `delivery-undelivered:30007`, `SEND_REJECTED:21610`…) in words. */
export function reasonText(reason, provider) {
  if (!reason) return null;
  if (REASONS[reason]) return REASONS[reason];
  if (reason.startsWith('keyword:')) return `the customer sent the keyword ${reason.slice(8).toUpperCase()}`;
  if (AUTOMATIC_MAIL.test(reason)) return `it was an automatic reply or a list mail (${reason})`;
  const [what = '', code] = reason.split(':', 2);
  const detail = providerErrorText(provider, code);
  if (what.startsWith('delivery-')) {
    const status = what.slice('delivery-'.length);
    return `${status === 'undelivered' ? 'it was not delivered' : 'it could not be sent'}${detail ? `: ${detail}` : ''}`;
  }
  if (SEND_FAILURES[what]) return `${SEND_FAILURES[what]}${detail ? `: ${detail}` : ''}`;
  return reason;
}

/** The acknowledgement's state as the conversation's header says it, with why when it was not sent. */
export function ackText(ack, provider) {
  if (!ack) return null;
  const why = reasonText(ack.reason, provider);
  if (ack.state === 'failed') return `acknowledgement failed${why ? `: ${why}` : ''}`;
  if (ack.state === 'skipped') return `no acknowledgement${why ? `: ${why}` : ''}`;
  // A pending ack with a reason is one the worker retries after a failed send.
  if (ack.state === 'pending' && why) return `acknowledgement not sent yet, retrying: ${why}`;
  if (ack.reason === 'spoken-on-call') return `acknowledgement ${why}`;
  return `acknowledgement ${ack.state}`;
}

/** A message's delivery as its header says it: the status, and the provider's error in words. */
export function deliveryText(message) {
  const delivery = message.delivery;
  if (!delivery?.status) return null;
  const error = providerErrorText(message.provider, delivery.errorCode);
  return error ? `${delivery.status}: ${error}` : delivery.status;
}

/**
 * An agent's reply the provider reported undelivered or failed (Conversation.replyFailure), in
 * words after "it" or "your last reply": what happened, and the provider's error in words.
 */
export function replyFailureText(failure, provider) {
  if (!failure) return null;
  const error = providerErrorText(provider, failure.errorCode);
  return `${failure.status === 'undelivered' ? 'was not delivered' : 'could not be sent'}${error ? `: ${error}` : ''}`;
}
