// Our message's id in the StatusCallback URL of a send, and read back from the URL its status came to.

/** The query param of our StatusCallback URL that names our message (its id, the send's idempotencyKey). */
const OUR_ID_PARAM = 'm';
const OUR_ID = /^[\w-]{1,64}$/;

/**
 * The StatusCallback URL of one send: our status URL with our message's id in its query, so
 * that Twilio's report names the try (as Meta's tag does: DeliveryUpdate.ourMessageId). Twilio
 * posts to, and signs, the URL exactly as given; an id we would not read back is left out.
 */
export function statusCallbackOf(statusUrl: string, messageId: string): string {
  if (!OUR_ID.test(messageId)) return statusUrl;
  return `${statusUrl}${statusUrl.includes('?') ? '&' : '?'}${OUR_ID_PARAM}=${messageId}`;
}

/** Our message's id in the URL a status callback came to (statusCallbackOf); absent on one sent before (stop 34). */
export function ourIdOf(url: string): string | undefined {
  let id: string | null = null;
  try {
    id = new URL(url).searchParams.get(OUR_ID_PARAM);
  } catch {
    return undefined;
  }
  return id && OUR_ID.test(id) ? id : undefined;
}
