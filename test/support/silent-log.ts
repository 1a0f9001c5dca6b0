import type { Log } from '#lib/ports/logger.ts';

export type LogLine = { level: string; message: string; fields: Record<string, unknown> | undefined };

/** A Log that keeps lines in memory, so tests can assert what was (not) logged. */
export function memoryLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A stack frame (`at fn (file.ts:12:3)`): never in a response or a log line. */
export const STACK_TRACE = /\bat .+\.(ts|js):\d+/;
