/** Base of the errors our ports throw; `code` is stable and safe to log or return. */
export class SwitchboardError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Someone else changed the item since we read it; read again and retry. */
export class ConcurrentUpdateError extends SwitchboardError {
  constructor(what: string) {
    super('CONCURRENT_UPDATE', `${what} changed while we were updating it`);
  }
}

/** A provider refused or failed a send. `permanent` sends are never retried. */
export class SendError extends SwitchboardError {
  readonly permanent: boolean;
  readonly providerCode: string | undefined;
  constructor(message: string, options: { permanent: boolean; providerCode?: string; cause?: unknown }) {
    super(options.permanent ? 'SEND_REJECTED' : 'SEND_FAILED', message, { cause: options.cause });
    this.permanent = options.permanent;
    this.providerCode = options.providerCode;
  }
}

/** A paging cursor we did not issue (or one for another listing). */
export class InvalidCursorError extends SwitchboardError {
  constructor() {
    super('INVALID_CURSOR', 'The cursor is not valid for this listing');
  }
}

/**
 * A request that needs something not stored yet (a voicemail's callback before its call): not
 * a fault, but not acceptable now either. Answered 503 with Retry-After, so the provider
 * tries again later.
 */
export class NotYetError extends SwitchboardError {}
