/** The first answer to a request, replayed to every retry carrying the same Idempotency-Key. */
export type IdempotentOutcome = { status: number; body: unknown };

export type IdempotencyBegin =
  /**
   * This request may act. `retry`: an earlier attempt of it (the same key and body, its record
   * still live) failed with a 5xx or died, so it may have done part of its work already.
   */
  | { state: 'new'; retry: boolean }
  | { state: 'done'; outcome: IdempotentOutcome }
  | { state: 'in-progress' }
  | { state: 'mismatch' };

/** Remembers requests by their Idempotency-Key so that a retry never acts twice. */
export interface IdempotencyStore {
  /**
   * Claims the key for this request (`fingerprint`: a hash of what it asks for). A record past
   * its 24 hours counts as gone (a key is free again then), whether or not it is deleted yet.
   */
  begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin>;
  finish(key: string, outcome: IdempotentOutcome, now: Date): Promise<void>;
  /**
   * The request failed (a 5xx, perhaps after part of its work): a retry of the same request
   * may run again; another request under the key is still refused as a mismatch.
   */
  abandon(key: string): Promise<void>;
}
