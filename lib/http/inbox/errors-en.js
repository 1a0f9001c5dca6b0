// The API's error codes in English words (reasons.js's apiErrorText picks them): what the agent
// reads instead of the server's own message, which is English for tools and logs. Every code the
// API documents for a route this page calls has its entry (test/unit/http/inbox-strings.test.ts
// reads them from the OpenAPI document); a code without one is shown in the server's words. The
// Polish twin is errors-pl.js, with the same keys and {placeholders}.

export const enErrors = {
  'apiError.UNAUTHORIZED': 'the API key was not accepted',
  'apiError.FORBIDDEN': 'this key may not do that (it lacks the scope)',
  'apiError.TOO_MANY_FAILED_LOGINS':
    'too many wrong keys came from this address: wait a minute, then try again',
  'apiError.RATE_LIMITED': 'too many requests with this key: wait a moment, then try again',
  'apiError.INVALID_REQUEST': 'the server could not accept the request as the page sent it',
  'apiError.INVALID_CURSOR': 'the list moved on since its last page was read: show the list again',
  'apiError.NOT_FOUND': 'there is no such conversation',
  'apiError.PAYLOAD_TOO_LARGE': 'the text is too large to send',
  'apiError.IDEMPOTENCY_KEY_REQUIRED': 'the page sent no Idempotency-Key (a fault of the page: reload it)',
  'apiError.IDEMPOTENCY_KEY_REUSED':
    'this request went before with another text under the same key: reload the conversation to see what was sent',
  'apiError.REQUEST_IN_PROGRESS': 'the same request is still running: wait a moment, then try again',
  'apiError.INTERNAL': 'an internal error; the request can be retried',
  'apiError.AGENT_NOT_LISTED':
    'the person this key names is not listed in the business configuration with a phone or email, so the reply cannot be signed with their direct contact: ask whoever runs Switchboard to list them, or use a key of someone listed',
  'apiError.CHANNEL_MISCONFIGURED':
    'sending on this channel is switched off until its configuration is completed (whoever runs Switchboard has been alerted): the reply was not sent; send it again later, or answer on another channel',
  'apiError.CONTACT_HAS_OPEN_CONVERSATION': 'the customer has another open conversation: answer there',
  'apiError.CUSTOMER_WROTE': 'the customer wrote again while you were reading',
  'apiError.NO_ROUTE': 'this customer cannot be answered on this channel (a caller without a number, say)',
  'apiError.OUTSIDE_WINDOW':
    "the messaging window on this channel has closed (Messenger and Instagram: 7 days after the customer's last message; WhatsApp: 24 hours, then only an approved template)",
  'apiError.OUTSIDE_WINDOW.configure':
    'the 24-hour window on {channel} has closed, so a reply goes only as an approved template, and none is configured for {language} on {provider}. Answer on another channel or wait for the customer to write again; ops can add {configure} to switchboard.config.json',
  'apiError.PROVIDER_REJECTED': 'the provider refused the message',
  'apiError.SEND_UNCERTAIN': 'the provider did not answer',
  'apiError.TEMPLATE_REFUSED': 'the provider refused the reply template configured',
  'apiError.TEXT_TOO_LONG': 'the reply is too long for this channel',
  'apiError.TEXT_TOO_LONG.signed':
    'the reply is too long: {channel} takes at most {limit} with the signature, which takes {signature}; shorten the text to {maxText}',
  'apiError.TEXT_TOO_LONG.template':
    'the reply is too long: after the 24-hour window it goes as a template, whose text takes at most {limit} (line breaks count as " / "); shorten it',
  'apiError.chars': { one: '{count} character', other: '{count} characters' },
  'apiError.bytes': { one: '{count} byte', other: '{count} bytes' },
  'apiError.locale.pl': 'Polish',
  'apiError.locale.en': 'English',
};
