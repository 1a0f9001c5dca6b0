import { createHash } from 'node:crypto';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { Log } from '#lib/ports/logger.ts';
import { AppendFile } from './append-file.ts';

/**
 * The local sender: instead of calling a provider it appends the message to outbox.jsonl in
 * the data dir and logs one line, so a developer sees exactly what a customer would get.
 * Everything before it (claim, store, mark sent) is the code that runs on AWS.
 */
export class OutboxSender implements ChannelSender {
  readonly #file: AppendFile;
  readonly #log: Log;

  constructor(options: { path: string; log: Log }) {
    this.#file = new AppendFile(options.path);
    this.#log = options.log;
  }

  async send(message: OutboundText): Promise<SendReceipt> {
    const providerMessageId = outboxProviderId(message);
    const entry = { at: new Date().toISOString(), ...message, providerMessageId };
    await this.#file.append(`${JSON.stringify(entry)}\n`);
    // The text is in outbox.jsonl; logs never carry what customers write or are sent.
    this.#log.info('outbox: message to customer', { channel: message.channel, id: message.idempotencyKey });
    return { providerMessageId, status: 'sent' };
  }
}

/**
 * The id the provider would have given the message, derived from its idempotency key (so a
 * resend gets the same one). Twilio's is a Message SID (`SM` and 32 hex digits), the shape its
 * status callbacks carry: a delivery status for a local ack can be posted and is applied as on
 * AWS (`npm run simulate -- status`). Other providers' ids are only looked up, never checked.
 */
export function outboxProviderId(message: Pick<OutboundText, 'provider' | 'idempotencyKey'>): string {
  if (message.provider !== 'twilio') return `outbox-${message.idempotencyKey}`;
  return `SM${createHash('sha256').update(message.idempotencyKey).digest('hex').slice(0, 32)}`;
}
