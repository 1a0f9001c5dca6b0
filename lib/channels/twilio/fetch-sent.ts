// A message Twilio took, read back by its SID (Twilio's Message resource).

import { noAnswerError } from '#lib/channels/http-retry.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { TwilioMessageResourceSchema } from './schema.ts';

/**
 * ChannelSender.fetchSent for Twilio: GET Messages/{sid}.json (its text, when, and where it went:
 * WhatsApp by its `whatsapp:` address, else SMS, MMS by an MM SID); null when Twilio has no such
 * outbound message (404), SendError when it cannot tell (no answer, 5xx, a page we cannot read).
 */
export function fetchSentOf(options: {
  endpoint: string;
  authorization: string;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
}): NonNullable<ChannelSender['fetchSent']> {
  const { endpoint, authorization, fetch, timeoutMs } = options;
  return async (providerMessageId) => {
    if (!/^(SM|MM)[0-9a-fA-F]{32}$/.test(providerMessageId)) return null;
    const url = endpoint.replace(/\.json$/, `/${providerMessageId}.json`);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const reason = noAnswerError(cause, timeoutMs, 'Twilio').message;
      throw new SendError(`Twilio message read failed: ${reason}`, {
        permanent: false,
        uncertain: true,
        cause,
      });
    }
    if (response.status === 404) return null;
    const read = response.ok
      ? TwilioMessageResourceSchema.safeParse(await response.json().catch(() => undefined))
      : null;
    if (!read?.success)
      throw new SendError(`Twilio message read failed: HTTP ${response.status}`, {
        permanent: false,
        uncertain: true,
      });
    const { direction, body, date_created, to, from, sid } = read.data;
    if (!direction.startsWith('outbound')) return null;
    const channel = to?.startsWith('whatsapp:') ? 'whatsapp' : sid.startsWith('MM') ? 'mms' : 'sms';
    return {
      text: body,
      at: new Date(Date.parse(date_created)),
      channel,
      ...(to ? { to } : {}),
      from: from ?? null,
    };
  };
}
