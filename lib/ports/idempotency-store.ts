/** The first answer to a request, replayed to every retry carrying the same Idempotency-Key. */
export type IdempotentOutcome = { status: number; body: unknown };

export type IdempotencyBegin =
  | { state: 'new' }
  | { state: 'done'; outcome: IdempotentOutcome }
  | { state: 'in-progress' }
  | { state: 'mismatch' };

/** Remembers requests by their Idempotency-Key so that a retry never acts twice. */
export interface IdempotencyStore {
  /** Claims the key for this request (`fingerprint`: a hash of what it asks for). */
  begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin>;
  finish(key: string, outcome: IdempotentOutcome, now: Date): Promise<void>;
  /**
   * The request failed (a 5xx, perhaps after part of its work): a retry of the same request
   * may run again; another request under the key is still refused as a mismatch.
   */
  abandon(key: string): Promise<void>;
}
