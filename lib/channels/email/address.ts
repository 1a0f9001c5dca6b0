import { domainToASCII } from 'node:url';

// RFC 5322 §3.2.3 atext, with RFC 6532's UTF-8 characters: a local part made of these (in
// dot-separated runs) is written bare; anything else needs a quoted string.
const DOT_ATOM = /^[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~-]+)*$/u;
// No control character may stand in an address (a CR or LF would start a header of its own).
const CONTROL = /\p{Cc}/u;
const ASCII_DOMAIN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const DOMAIN_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]+\]$/;
const ASCII = /^[\x20-\x7e]*$/;

function localPartOf(raw: string): string | undefined {
  // postal-mime keeps the quotes of an address in angle brackets ("jan kowalski"@…) and drops
  // them (and their escapes) from a bare one: both come back to the same value here.
  const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
  const value = quoted ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  if (!value || CONTROL.test(value)) return undefined;
  return DOT_ATOM.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

function domainOf(raw: string): string | undefined {
  if (DOMAIN_LITERAL.test(raw)) return raw.toLowerCase();
  // WHATWG's domain-to-ASCII (UTS #46, as browsers do): Unicode labels become Punycode
  // (RFC 3492), everything lower case. It lets some characters through that no domain holds.
  const ascii = domainToASCII(raw);
  return ASCII_DOMAIN.test(ascii) ? ascii : undefined;
}

function partsOf(address: string): { local: string; domain: string } | undefined {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = localPartOf(trimmed.slice(0, at));
  const domain = domainOf(trimmed.slice(at + 1));
  return local && domain ? { local, domain } : undefined;
}

/**
 * One mailbox address (as the MIME parser gives it) in the one form we key and answer it by:
 * the local part bare when RFC 5322 allows, else a quoted string (`"jan kowalski"@firma.example`),
 * the domain in ASCII (Punycode for an internationalized one, which SES requires) and
 * everything lower-cased, so that one person is one contact however their client wrote it.
 * Undefined when it is not an address.
 */
export function canonicalAddress(address: string): string | undefined {
  const parts = partsOf(address);
  return parts ? `${parts.local}@${parts.domain}`.toLowerCase() : undefined;
}

/**
 * An address in the form SES takes (it has no SMTPUTF8): the domain in Punycode, the local part
 * as written; undefined when it is not an address or its local part is not ASCII, which nothing
 * can carry without SMTPUTF8.
 */
export function sendableAddress(address: string): string | undefined {
  const parts = partsOf(address);
  return parts && ASCII.test(parts.local) ? `${parts.local}@${parts.domain}` : undefined;
}
