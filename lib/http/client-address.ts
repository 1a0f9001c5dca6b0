import type { Context } from 'hono';
import ipaddr from 'ipaddr.js';

/** The address a request came from as the runtime saw the connection; undefined when unknown. */
export type ClientAddress = (c: Context) => string | undefined;

type ApiGatewayEnv = {
  requestContext?: { http?: { sourceIp?: unknown }; identity?: { sourceIp?: unknown } };
};

/**
 * The client's address on Lambda: the API Gateway event's `requestContext` (hono/aws-lambda
 * hands it over as `c.env.requestContext`), `http.sourceIp` for the HTTP API's payload 2.0,
 * `identity.sourceIp` for 1.0. API Gateway takes it from the TCP connection; a client cannot
 * set it. Hand-written instead of hono/aws-lambda's getConnInfo, which falls back to the last
 * X-Forwarded-For entry when the event has no source IP: a limit keyed on a header the client
 * writes is no limit, so an event without one is "unknown" here instead.
 */
export const apiGatewayClientAddress: ClientAddress = (c) => {
  const context = (c.env as ApiGatewayEnv | undefined)?.requestContext;
  const sourceIp = context?.http?.sourceIp ?? context?.identity?.sourceIp;
  return typeof sourceIp === 'string' ? sourceIp : undefined;
};

/**
 * The key one client's failures are counted under: an IPv4 address as it is, an IPv6 address
 * by its /64 (one subscriber's network: whoever has one address has 2^64 of them), an
 * IPv4-mapped IPv6 address as its IPv4 one, and anything else (no address) as one shared
 * "unknown".
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return 'unknown';
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  const network = (ip as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(':')}::/64`;
}
