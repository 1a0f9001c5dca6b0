import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse, stringify } from 'node:querystring';

/**
 * twilio-node's `validateRequest` with another hash: it hard-codes HMAC-SHA1 and exports
 * neither its URL variants nor the string it signs (6.2.0, the newest: it has no helper for a
 * Webhook Setting's HMAC_SHA256 yet), so both are copied here, step for step, for the SharedKey
 * path. The same URL variants are accepted: as received with and without the default port,
 * then as `new URL()` normalizes it, each with its query re-encoded the legacy `querystring`
 * way too. Each comparison is constant-time. test/unit/channels/twilio/signed-url.test.ts
 * holds it to twilio-node's own answers with SHA-1.
 */
export function validateRequestWithHash(
  hash: 'sha1' | 'sha256',
  key: string,
  signature: string,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  const expected = Buffer.from(signature);
  const matches = (candidate: string) => {
    const computed = Buffer.from(twilioSignature(hash, key, candidate, params));
    return computed.length === expected.length && timingSafeEqual(computed, expected);
  };
  if ([removePort(url), addPort(url)].some(matches)) return true;
  const normalized = new URL(url).toString();
  return [removePort(normalized), addPort(normalized)]
    .flatMap((candidate) => [candidate, withLegacyQuerystring(candidate)])
    .some(matches);
}

/** X-Twilio-Signature for this URL (as it is: no variant) and params, under `key` with `hash`. */
export function twilioSignature(
  hash: 'sha1' | 'sha256',
  key: string,
  url: string,
  params: Record<string, string | string[]>,
): string {
  return createHmac(hash, key).update(signedString(url, params), 'utf8').digest('base64');
}

/** The URL, then each param's name and value, names sorted, repeated values de-duplicated and sorted. */
function signedString(url: string, params: Record<string, string | string[]>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name] as string | string[];
    for (const item of Array.isArray(value) ? [...new Set(value)].sort() : [value]) data += name + item;
  }
  return data;
}

/** The URL's parts without normalizing it: the path and query keep the characters Twilio signed. */
function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after an IPv6 literal's closing bracket.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function removePort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

function withLegacyQuerystring(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return `${url.slice(0, queryStart)}?${stringify(parse(url.slice(queryStart + 1)))}`;
}
