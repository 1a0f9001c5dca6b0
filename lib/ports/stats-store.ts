import type { Channel } from '#lib/domain/channel.ts';
import type { Counts, Resolution, ResolutionKey } from '#lib/domain/service-level.ts';

/** One business day as stored: a summary per channel and the day's resolutions. */
export type StatsDay = {
  date: string;
  channels: Array<{ channel: Channel; counts: Counts }>;
  resolutions: Resolution[];
};

/** The last resolution of a contact's conversations, as remembered for follow-up detection. */
export type ContactResolution = ResolutionKey & { resolvedAt: string };

/** A conversation's latest resolution as remembered (`resolvedAt` is absent on those noted before it was kept). */
export type NotedResolution = ResolutionKey & { resolvedAt?: string | undefined };

/** What a conversation's bookkeeping held when one of its resolutions was noted. */
export type ResolutionNoted = {
  /** Agent replies the conversation got so far. */
  replies: number;
  /** The latest resolution noted before this one (null: none). */
  previous: NotedResolution | null;
  /** The conversation's latest reopening (null: none). */
  reopenedAt: string | null;
};

/**
 * Service-level summaries kept alongside the conversations: per-day, per-channel counters and
 * histograms, per-day resolution records, and the small per-conversation and per-contact facts
 * that first-contact resolution needs. Read by date, never by scanning.
 */
export interface StatsStore {
  /** Marks an event as counted (for as long as a redelivery can come): true the first time, false for a redelivery. */
  claimEvent(eventId: string, now: Date): Promise<boolean>;
  /** Takes back the claim of an event whose counting failed, so that its redelivery counts it. */
  releaseEvent(eventId: string): Promise<void>;
  /** Adds to one day's summary of one channel (counters, skip reasons, histogram buckets). */
  addToDay(date: string, channel: Channel, counts: Counts): Promise<void>;
  /** Remembers an agent reply of a conversation (idempotent per message id). */
  addReply(
    conversationId: string,
    messageId: string,
  ): Promise<{ replies: number; resolution: ResolutionKey | null }>;
  /**
   * Remembers where the conversation's latest resolution record is (only forwards: an older
   * resolution delivered late moves nothing). Returns its replies, the latest resolution noted
   * before (or, for an older one, the newer one that stays) and its latest reopening.
   */
  noteResolved(conversationId: string, resolution: ContactResolution): Promise<ResolutionNoted>;
  /** Notes a reopening (only forwards); returns the resolution it reopens, or null for a redelivered or older one. */
  noteReopened(conversationId: string, reopenedAt: string): Promise<NotedResolution | null>;
  /** Notes a contact's new conversation; returns the contact's last resolution. */
  noteContactOpened(contactKey: string, openedAt: string): Promise<ContactResolution | null>;
  /** Notes a contact's resolution; returns when the contact's newest conversation opened. */
  noteContactResolved(contactKey: string, resolution: ContactResolution): Promise<string | null>;
  /**
   * Writes a resolution record (a later resolution of the same day moves it forward, an earlier
   * one delivered late changes nothing); a follow-up or reopening already noted on it stays.
   */
  putResolution(resolution: Resolution): Promise<void>;
  /**
   * Notes on a resolution record a follow-up, its current replies, or a reopening (only on a
   * record resolved before it and not noted reopened since: a reopening delivered late or
   * again does not undo a later resolution).
   */
  markResolution(
    key: ResolutionKey,
    mark: { followUpAt: string } | { reopenedAt: string } | { replies: number },
  ): Promise<void>;
  /** Every day of the list (one Query each), optionally one channel only. */
  readDays(dates: readonly string[], channel?: Channel): Promise<StatsDay[]>;
}
