import type { Context } from 'hono';
import type { WebhookRequest } from '#lib/channels/channel.ts';

/**
 * The request as the provider sent it: the raw body text, and the public URL it called
 * (configured PUBLIC_URL + path + query exactly as received), and beside it the URL the app
 * saw (on Lambda, API Gateway's domain name for the endpoint that was called), when another.
 */
export async function webhookRequest(c: Context, publicUrl: string): Promise<WebhookRequest> {
  const seen = c.req.url;
  const pathStart = seen.indexOf('/', seen.indexOf('//') + 2);
  const pathAndQuery = pathStart === -1 ? '/' : seen.slice(pathStart);
  const rawBytes = new Uint8Array(await c.req.arrayBuffer());
  const url = `${publicUrl}${pathAndQuery}`;
  return {
    url,
    ...(seen !== url ? { receivedUrl: seen } : {}),
    headers: c.req.raw.headers,
    rawBody: new TextDecoder().decode(rawBytes),
    rawBytes,
  };
}
