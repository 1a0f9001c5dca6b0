import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '#lib/ports/logger.ts';

/** Powertools' structured JSON logger behind our Log port (the same lines locally and on Lambda). */
export function createLog(
  serviceName = 'switchboard',
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT',
): Log & {
  logger: Logger;
} {
  const logger = new Logger({ serviceName, ...(logLevel ? { logLevel } : {}) });
  return {
    logger,
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
}
