/** Structured logging as the use cases need it; Powertools Logger satisfies it on Lambda. */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Runs `work` with these fields on every line it logs (a request's correlation id). */
  withContext?<T>(fields: Record<string, string>, work: () => Promise<T>): Promise<T>;
}
