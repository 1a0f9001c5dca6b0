import type { ApiKey, StoredApiKey } from '#lib/domain/api-key.ts';

/**
 * The agents' API keys: stored by id with the hash of their secret, never the token.
 * Every write is a single-item conditional write, like the conversation store's.
 */
export type ApiKeyPage = { items: ApiKey[]; nextCursor: string | null };

export interface ApiKeyStore {
  /** Stores a new key; throws if the id exists (ids are random, so it never should). */
  create(key: StoredApiKey): Promise<void>;
  get(id: string): Promise<StoredApiKey | null>;
  /**
   * One page of every key, revoked ones too, newest first; without hashes. A cursor it did not
   * issue throws InvalidCursorError; only a null `nextCursor` ends the listing.
   */
  list(query: { limit: number; cursor?: string | undefined }): Promise<ApiKeyPage>;
  /** Marks the key revoked (keeping the first revocation time); false when there is no such key. */
  revoke(id: string, at: Date): Promise<boolean>;
  /**
   * Records a use at `at` unless a use later than `notBefore` is already stored, so
   * concurrent requests (on several Lambdas) write it at most once per interval.
   */
  touch(id: string, at: Date, notBefore: Date): Promise<void>;
}
