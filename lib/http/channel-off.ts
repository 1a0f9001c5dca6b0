import type { Context } from 'hono';
import type { Channel } from '#lib/domain/channel.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { errorBody } from './errors.ts';
import type { LogThrottle } from './log-throttle.ts';

/** A channel this deployment switched off for its incomplete configuration (AppConfig.misconfiguredChannels). */
export type SwitchedOffChannel = { channel: 'twilio' | 'meta' | 'whatsapp'; missing: string[] };

const LABELS: Record<SwitchedOffChannel['channel'], string> = {
  twilio: 'Twilio webhooks are',
  meta: 'Meta webhooks are',
  whatsapp: 'WhatsApp Cloud webhooks are',
};

/**
 * Answers a webhook of a switched-off channel 503, which its provider retries (Meta for up to
 * 36 hours, WhatsApp Cloud up to 7 days): the messages come again once the configuration is
 * completed, recorded and acknowledged then. Twilio retries none (it could not be verified
 * anyway without its auth token): the error line and the alarm are all there is. The body names no setting (the caller is not
 * authenticated); the error line and the `ChannelMisconfigured` metric (its alarm) do the telling.
 * The metric counts every refused webhook (for Twilio, which retries none, each is a message or
 * call lost; it adds no log line: it joins the EMF line every webhook writes for WebhookLatency);
 * the error line, which anyone can cause by posting, is written once a minute per channel
 * (`switchedOffLines`, the limit signature refusals have), saying how many it left out.
 */
export function refuseSwitchedOff(
  c: Context,
  deps: { log: Log; metrics: Metrics; switchedOffLines: LogThrottle },
  off: SwitchedOffChannel,
): Response {
  deps.metrics.count('ChannelMisconfigured');
  const admitted = deps.switchedOffLines.admit(off.channel);
  if (admitted) {
    deps.log.error('webhook refused: channel switched off', {
      channel: off.channel,
      missing: off.missing,
      // The matched route, a fixed set: under /webhooks/twilio/* the path is the caller's to invent.
      route: c.req.routePath,
      ...(admitted.suppressed ? { suppressed: admitted.suppressed } : {}),
    });
  }
  return c.json(
    errorBody(
      'CHANNEL_MISCONFIGURED',
      `${LABELS[off.channel]} off in this deployment until its configuration is completed; retry later`,
    ),
    503,
  );
}

/**
 * A channel whose messages are recorded but not answered until a setting is added: Messenger or
 * Instagram without its sending token, WhatsApp Cloud without its token and number id
 * (AppConfig.tokenlessChannels). Not reported at start, since the business may not use it.
 */
export type UnansweredChannel = { channel: 'messenger' | 'instagram' | 'whatsapp'; missing: string[] };

/**
 * Tells ops of messages recorded on an unanswered channel (their acks wait, CHANNEL_MISCONFIGURED),
 * given the channel of each newly recorded message (a provider's retry of one is not):
 * a `ChannelMisconfigured` count per message and the error line a cold start writes for a channel
 * configured by half, once a minute per channel (`switchedOffLines`: anyone able to sign for the
 * app could cause it), naming the setting, never a value.
 */
export function reportUnanswered(
  deps: { log: Log; metrics: Metrics; switchedOffLines: LogThrottle },
  unanswered: readonly UnansweredChannel[],
  recorded: readonly Channel[],
): void {
  for (const off of unanswered) {
    const messages = recorded.filter((channel) => channel === off.channel).length;
    if (messages === 0) continue;
    deps.metrics.count('ChannelMisconfigured', messages);
    const admitted = deps.switchedOffLines.admit(off.channel);
    if (!admitted) continue;
    deps.log.error('channel not answered: configured by half', {
      channel: off.channel,
      missing: off.missing,
      reason: `${off.missing.join(' and ')} ${off.missing.length > 1 ? 'are' : 'is'} missing while the Meta webhook is on: ${off.channel} messages are recorded, their acknowledgements wait and agents' replies are refused until ${off.missing.length > 1 ? 'they are' : 'it is'} set`,
      ...(admitted.suppressed ? { suppressed: admitted.suppressed } : {}),
    });
  }
}
