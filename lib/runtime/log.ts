import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '#lib/ports/logger.ts';

/**
 * Powertools' structured JSON logger behind our Log port (the same lines locally and on
 * Lambda). A request's correlation id rides in AsyncLocalStorage, so concurrent requests on
 * the local server never mix theirs up.
 */
export function createLog(
  serviceName = 'switchboard',
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT',
): Log & { logger: Logger } {
  const logger = new Logger({ serviceName, ...(logLevel ? { logLevel } : {}) });
  const context = new AsyncLocalStorage<Record<string, string>>();
  const withFields = (fields?: Record<string, unknown>) => ({ ...context.getStore(), ...fields });
  return {
    logger,
    debug: (message, fields) => logger.debug(message, withFields(fields)),
    info: (message, fields) => logger.info(message, withFields(fields)),
    warn: (message, fields) => logger.warn(message, withFields(fields)),
    error: (message, fields) => logger.error(message, withFields(fields)),
    withContext: (fields, work) => context.run({ ...context.getStore(), ...fields }, work),
  };
}
