import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { apiGatewayClientAddress, clientKey } from '#lib/http/client-address.ts';

// Stop 25: wrong tokens are counted per client; the client is what API Gateway saw, never a
// header the client writes, and an IPv6 client is its /64.
describe('the client a request came from', () => {
  const app = new Hono().get('/', (c) => c.text(String(apiGatewayClientAddress(c))));

  it.each([
    ['payload 2.0 (HTTP API)', { requestContext: { http: { sourceIp: '203.0.113.7' } } }, '203.0.113.7'],
    ['payload 1.0', { requestContext: { identity: { sourceIp: '203.0.113.8' } } }, '203.0.113.8'],
    ['no event (app.request)', undefined, 'undefined'],
  ])(
    'should read the source IP of an API Gateway event, %s, and never X-Forwarded-For',
    async (_, env, expected) => {
      // Act
      const response = await app.request('/', { headers: { 'x-forwarded-for': '198.51.100.1' } }, env);

      // Assess
      expect(await response.text()).toBe(expected);
    },
  );

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    [undefined, 'unknown'],
    ['not an address', 'unknown'],
  ])('should count %s as the client %s', (address, expected) => {
    // Act + Assess
    expect(clientKey(address)).toBe(expected);
  });
});
