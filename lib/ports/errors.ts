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
  /**
   * Refused for our own credentials, permissions or account (a rotated token, a revoked
   * permission, sending paused), not for anything about the customer: never permanent, since
   * the same send works once we fix it, but not retried within the call either (seconds fix
   * nothing). The queue retries it, then keeps it in the DLQ for a redrive.
   */
  readonly ours: boolean;
  /**
   * The request was written and no answer came (a timeout, a connection lost after the write):
   * the provider may have taken the message. Never sent again at once: the sender asks the
   * provider first where it can (ChannelSender.find), else the next try waits (send-ack).
   */
  readonly uncertain: boolean;
  /**
   * Refused for good for what the customer's number is, whatever we send it: `opted-out`, it
   * texted STOP to us and the provider enforces it (Twilio 21610); `no-sms`, it takes no SMS (a
   * landline: Twilio 21635, 21614). An automatic message is then skipped, never failed.
   */
  readonly recipient: 'opted-out' | 'no-sms' | undefined;
  constructor(
    message: string,
    options: {
      permanent: boolean;
      ours?: boolean;
      uncertain?: boolean;
      providerCode?: string;
      recipient?: 'opted-out' | 'no-sms';
      cause?: unknown;
    },
  ) {
    const ours = options.ours === true;
    const uncertain = options.uncertain === true && !options.permanent && !ours;
    super(
      ours
        ? 'SEND_UNAUTHORIZED'
        : options.permanent
          ? 'SEND_REJECTED'
          : uncertain
            ? 'SEND_UNCERTAIN'
            : 'SEND_FAILED',
      message,
      { cause: options.cause },
    );
    this.permanent = options.permanent && !ours;
    this.ours = ours;
    this.uncertain = uncertain;
    this.providerCode = options.providerCode;
    this.recipient = this.permanent ? options.recipient : undefined;
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
