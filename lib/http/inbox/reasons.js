// What an agent reads for the codes the API gives about acknowledgements and deliveries
// (Conversation.ack.reason, Message.delivery.errorCode). The API keeps them stable and terse,
// for tools; a person needs to know what happened and whether they can do something about it.
// The words are the page's language's (reasons-en.js, reasons-pl.js: twilio.<code>,
// meta.<code>, reason.<code>). Unknown codes are shown as they are: the words are a help, never
// a filter.

import { hasWords } from './dictionaries.js';
import { t } from './i18n.js';
import { channelName } from './names.js';

/**
 * The provider's code in words, with the code itself (to search for, or to give support).
 * Twilio's delivery and send errors an agent meets most (twilio.com/docs/api/errors/<code>), and
 * Meta's (WhatsApp Cloud, Messenger, Instagram).
 */
export function providerErrorText(provider, code) {
  if (!code) return null;
  const key = `${provider}.${code}`;
  const ours = provider === 'meta' || provider === 'twilio';
  return ours && hasWords(key) ? t('error.known', { text: t(key), code }) : t('error.code', { code });
}

/** An automatic mail or a list post (RFC 3834 headers): never answered automatically. */
const AUTOMATIC_MAIL = /^(auto-|x-auto|precedence-|list-)/;

/** What failed when a send did (the reason's code, before the provider's). */
const SEND_FAILURES = new Set(['SEND_REJECTED', 'SEND_FAILED', 'SEND_UNAUTHORIZED']);

/** A reason of the API (`opted-out`, `delivery-undelivered:30007`, `SEND_REJECTED:21610`…) in words. */
export function reasonText(reason, provider) {
  if (!reason) return null;
  // Why an acknowledgement was not sent, or failed (a skipped one is no fault).
  if (hasWords(`reason.${reason}`)) return t(`reason.${reason}`);
  if (reason.startsWith('keyword:')) return t('reasons.keyword', { keyword: reason.slice(8).toUpperCase() });
  if (AUTOMATIC_MAIL.test(reason)) return t('reasons.automatic', { reason });
  const [what = '', code] = reason.split(':', 2);
  const detail = providerErrorText(provider, code);
  if (what.startsWith('delivery-')) {
    const key = what === 'delivery-undelivered' ? 'reasons.undelivered' : 'reasons.unsent';
    return detail ? t(`${key}Why`, { why: detail }) : t(key);
  }
  if (SEND_FAILURES.has(what)) return `${t(`sendFailure.${what}`)}${detail ? `: ${detail}` : ''}`;
  return reason;
}

/**
 * Why the conversation's customer gets no automatic messages (`optedOut` of the conversation's
 * answer: a STOP, a bounce of our mail, a complaint), in words; null when they get them.
 */
export function optOutText(optedOut) {
  if (!optedOut) return null;
  return hasWords(`optOut.${optedOut.reason}`) ? t(`optOut.${optedOut.reason}`) : t('optOut.other');
}

/** The acknowledgement's state as the conversation's header says it, with why when it was not sent. */
export function ackText(ack, provider) {
  if (!ack) return null;
  const why = reasonText(ack.reason, provider);
  if (ack.state === 'failed') return `${t('ack.failed')}${why ? `: ${why}` : ''}`;
  if (ack.state === 'skipped') return `${t('ack.skipped')}${why ? `: ${why}` : ''}`;
  // A pending ack with a reason is one the worker retries after a failed send.
  if (ack.state === 'pending' && why) return t('ack.retrying', { why });
  if (ack.reason === 'spoken-on-call') return t('ack.spoken', { why });
  return hasWords(`ack.${ack.state}`) ? t(`ack.${ack.state}`) : ack.state;
}

/** A delivery status (queued, sent, delivered, read, undelivered, failed) in words. */
const statusText = (status) => (hasWords(`delivery.${status}`) ? t(`delivery.${status}`) : status);

/** A message's delivery as its header says it: the status, and the provider's error in words. */
export function deliveryText(message) {
  const delivery = message.delivery;
  if (!delivery?.status) return null;
  const error = providerErrorText(message.provider, delivery.errorCode);
  return error ? `${statusText(delivery.status)}: ${error}` : statusText(delivery.status);
}

/**
 * An agent's reply the provider reported undelivered or failed (Conversation.replyFailure), in
 * words after "it" or "your last reply": what happened, and the provider's error in words.
 */
export function replyFailureText(failure, provider) {
  if (!failure) return null;
  const error = providerErrorText(provider, failure.errorCode);
  const what = t(failure.status === 'undelivered' ? 'replyFailure.undelivered' : 'replyFailure.failed');
  // A transient code (retryable): the agent may send it again; we never do it for them.
  const again = failure.retryable ? `; ${t('replyFailure.retryable')}` : '';
  return `${what}${error ? `: ${error}` : ''}${again}`;
}

/**
 * An API error (`{ code, message, details }` of a refusal) in the page's words, by its code
 * (errors-en.js, errors-pl.js): the server's message is English, for tools and logs. A code
 * without words (a newer server's) is shown in the server's own message, else as its status.
 */
export function apiErrorText(result) {
  const { code, message, details } = result.error ?? {};
  const units = (unit, count) => t(unit === 'bytes' ? 'apiError.bytes' : 'apiError.chars', { count });
  if (code === 'TEXT_TOO_LONG' && details?.limit !== undefined) {
    const { unit, limit, signature, maxText, channel } = details;
    return details.template
      ? t('apiError.TEXT_TOO_LONG.template', { limit: units(unit, limit) })
      : t('apiError.TEXT_TOO_LONG.signed', {
          channel: channelName(channel),
          limit: units(unit, limit),
          signature: units(unit, signature),
          maxText: units(unit, maxText),
        });
  }
  if (code === 'OUTSIDE_WINDOW' && details?.configure) {
    const language = hasWords(`apiError.locale.${details.locale}`)
      ? t(`apiError.locale.${details.locale}`)
      : details.locale;
    return t('apiError.OUTSIDE_WINDOW.configure', {
      channel: channelName(details.channel),
      language,
      provider: details.provider === 'meta' ? 'WhatsApp Cloud API' : 'Twilio',
      configure: details.configure,
    });
  }
  // Why the provider refused it ("SEND_REJECTED:21610"), in words, with the provider's code.
  if (code === 'PROVIDER_REJECTED' && details?.reason) return reasonText(details.reason, details.provider);
  if (code && hasWords(`apiError.${code}`)) return t(`apiError.${code}`);
  return message ?? String(result.status);
}
