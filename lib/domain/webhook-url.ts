// Which endpoint URLs a subscription may name: https in production, never a private address.

/** Why an endpoint URL is refused; null when it is acceptable. */
export function webhookUrlProblem(raw: string, options: { production: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  // A fully qualified name ("localhost.", "localhost..") is the same host without its trailing dots.
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  const loopbackName = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  if (url.protocol === 'http:') {
    if (options.production || !loopbackName)
      return 'must use https (http only for localhost outside production)';
  } else if (url.protocol !== 'https:') {
    return 'must use https';
  }
  if (options.production && (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))) {
    return 'must not point at a private, loopback or link-local address';
  }
  return null;
}

/**
 * Whether an IP literal (v4, or v6 with or without brackets) is loopback, private, link-local,
 * CGNAT, multicast or otherwise not a public unicast address. Anything not an IP literal is
 * false: host names are checked where they are resolved (the sender's lookup).
 */
export function isPrivateAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '');
  const v4 = parseIpv4(host);
  if (v4) return isPrivateIpv4(v4);
  const v6 = parseIpv6(host);
  if (!v6) return false;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = v6;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0xffff || f === 0)) {
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), :: and ::1.
    return f === 0 && g === 0 && h <= 1 ? true : isPrivateIpv4([g >> 8, g & 255, h >> 8, h & 255]);
  }
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765) carries an IPv4 address as a mapped one does.
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0xffff && f === 0) {
    return isPrivateIpv4([g >> 8, g & 255, h >> 8, h & 255]);
  }
  if (a === 0x64 && b === 0xff9b) return isPrivateIpv4([g >> 8, g & 255, h >> 8, h & 255]);
  return (
    (a & 0xfe00) === 0xfc00 ||
    (a & 0xffc0) === 0xfe80 ||
    // Site-local (fec0::/10): deprecated, still routed inside some networks.
    (a & 0xffc0) === 0xfec0 ||
    (a & 0xff00) === 0xff00 ||
    (a === 0x2001 && b === 0xdb8)
  );
}

function parseIpv4(host: string): number[] | null {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

function isPrivateIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function parseIpv6(host: string): number[] | null {
  if (!host.includes(':') || !/^[0-9a-f:.]+$/i.test(host)) return null;
  let text = host;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = parseIpv4(dotted[1]);
    if (!v4) return null;
    const [p = 0, q = 0, r = 0, s = 0] = v4;
    text = `${text.slice(0, -dotted[1].length)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string | undefined) => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  return all.map((group) => Number.parseInt(group, 16));
}
