import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestScope } from '#lib/ports/request-scope.ts';

/**
 * A value per request or invocation, carried by AsyncLocalStorage (as the log's correlation id
 * is): on Lambda one request runs at a time, but the local server serves many at once, and
 * each must have its own. `current()` is undefined outside a scope.
 */
export function requestScoped<T>(create: () => T): { scope: RequestScope; current: () => T | undefined } {
  const storage = new AsyncLocalStorage<T>();
  return {
    scope: (work) => storage.run(create(), work),
    current: () => storage.getStore(),
  };
}
