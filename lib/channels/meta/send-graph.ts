// One Graph API send: the endpoint, the token header and the retries within a time budget.
import { type Attempt, postJson, type RetryOptions, retryWithinBudget } from '#lib/channels/http-retry.ts';
import { refuseTooLong } from '#lib/channels/too-long.ts';
import type { Channel } from '#lib/domain/channel.ts';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import { errorOf } from './send-graph-errors.ts';

/** A current Graph API version (2026-07-29); pin what the Meta app's webhooks are set to. */
export const DEFAULT_GRAPH_VERSION = 'v26.0';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';

export type MetaSenderOptions = Partial<RetryOptions> & {
  accessToken: string;
  graphBaseUrl?: string;
  graphVersion?: string;
  fetch?: typeof globalThis.fetch;
};

function createGraphSender(
  options: MetaSenderOptions,
  channel: Channel,
  label: string,
  path: string,
  bodyOf: (message: OutboundText) => unknown,
  idOf: (json: Record<string, unknown>) => unknown,
): ChannelSender {
  const {
    accessToken,
    graphBaseUrl = DEFAULT_GRAPH_BASE_URL,
    graphVersion = DEFAULT_GRAPH_VERSION,
    fetch = globalThis.fetch,
    timeoutMs = 5000,
    maxRetries = 2,
    totalBudgetMs = 8000,
    baseDelayMs = 300,
  } = options;
  const endpoint = `${graphBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(graphVersion)}/${path}`;
  // The header, never the access_token query: URLs end up in logs and error causes.
  const headers = { authorization: `Bearer ${accessToken}` };

  async function attempt(body: unknown, timeout: number): Promise<Attempt<SendReceipt>> {
    const result = await postJson(fetch, endpoint, headers, body, timeout, label);
    if ('error' in result) return { done: false, error: result.error };
    if (!result.response.ok) return errorOf(result.response, label);
    const json = (await result.response.json().catch(() => ({}))) as Record<string, unknown>;
    const id = idOf(json);
    return { done: true, value: { providerMessageId: typeof id === 'string' ? id : null, status: 'sent' } };
  }

  return {
    // Meta reports each send it took by webhook, carrying the tag the send set (sendTagOf).
    reportsSends: true,
    async send(message) {
      refuseTooLong('meta', channel, message, label);
      const body = bodyOf(message);
      return retryWithinBudget((timeout) => attempt(body, timeout), {
        timeoutMs,
        maxRetries,
        totalBudgetMs,
        baseDelayMs,
      });
    },
  };
}

export { createGraphSender };
