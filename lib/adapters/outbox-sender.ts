import { appendFile } from 'node:fs/promises';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { Log } from '#lib/ports/logger.ts';

/**
 * The local sender: instead of calling a provider it appends the message to outbox.jsonl in
 * the data dir and logs one line, so a developer sees exactly what a customer would get.
 * Everything before it (claim, store, mark sent) is the code that runs on AWS.
 */
export class OutboxSender implements ChannelSender {
  readonly #path: string;
  readonly #log: Log;

  constructor(options: { path: string; log: Log }) {
    this.#path = options.path;
    this.#log = options.log;
  }

  async send(message: OutboundText): Promise<SendReceipt> {
    const entry = { at: new Date().toISOString(), ...message };
    await appendFile(this.#path, `${JSON.stringify(entry)}\n`, 'utf8');
    // The text is in outbox.jsonl; logs never carry what customers write or are sent.
    this.#log.info('outbox: message to customer', { channel: message.channel, id: message.idempotencyKey });
    return { providerMessageId: `outbox-${message.idempotencyKey}`, status: 'sent' };
  }
}
