/**
 * Runs one request or invocation (a provider's webhook, an agent's call, an ack batch, a sweep
 * run) so that what its writes share lives exactly as long as it: the time the webhook first
 * attempts of all its writes may take together (lib/use-cases/webhook-delivery.ts).
 */
export type RequestScope = <T>(work: () => Promise<T>) => Promise<T>;
