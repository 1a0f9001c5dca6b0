// An ack or late notice waiting for its channel's configuration: what marks it, and the sender it waits for.

import type { Ack } from './ack-schema.ts';
import type { Conversation } from './schema.ts';

/** Why a pending ack or notice waits while its channel is switched off (AppConfig.misconfiguredChannels). */
export const CHANNEL_WAIT_REASON = 'CHANNEL_MISCONFIGURED';

/**
 * Whether the job waits for its channel's configuration and for nothing else: pending with
 * CHANNEL_MISCONFIGURED, no earlier try to look up (an uncertain one keeps its lookup's cycle).
 * Nothing changes for it until a deployment that can send it runs, so it has no sweep time: it
 * sits under its channel's waiting key (waitingChannelOf), which the sweeper reads only once
 * the channel is no longer switched off (and counts while it is).
 */
export function waitsForChannel(job: Ack | null | undefined): boolean {
  return job?.state === 'pending' && job.reason === CHANNEL_WAIT_REASON && job.uncertain === undefined;
}

/** The sender a conversation's ack or notice waits for (`<provider>:<route channel>`), or null. */
export function waitingChannelOf(conversation: Conversation): string | null {
  if (!waitsForChannel(conversation.ack) && !waitsForChannel(conversation.notice)) return null;
  return waitingChannelKey(conversation.route.provider, conversation.route.channel);
}

/** The key the sweeper reads a sender's waits by: the worker's senders(provider, channel). */
export function waitingChannelKey(provider: string, channel: string): string {
  return `${provider}:${channel}`;
}
