// The name an agent reads for a contact: never the internal key (`phone:+48…`).

import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** Schemes whose address is itself readable: shown without the scheme. */
const READABLE_ADDRESS = new Set(['email', 'sip', 'client']);

/**
 * How a person reads a number: grouped in the international format ("+48 600 100 200") when it
 * is a possible number, else as the provider gave it (a short code, an alphanumeric sender).
 */
function readableNumber(address: string): string {
  const parsed = address.startsWith('+') ? parsePhoneNumberFromString(address) : undefined;
  return parsed?.isPossible() ? parsed.formatInternational() : address;
}

/**
 * A contact key's address written for people: their number grouped ("+48 600 100 200"), their
 * email or SIP address, a Twilio Client identity; undefined for a key that is only an id nobody
 * reads (`messenger:<PSID>`, `instagram:<IGSID>`, `whatsapp:<BSUID>`, `anonymous:<CallSid>`).
 */
export function contactAddress(key: string): string | undefined {
  const colon = key.indexOf(':');
  const scheme = key.slice(0, colon);
  const address = key.slice(colon + 1);
  if (!address) return undefined;
  if (scheme === 'phone') return readableNumber(address);
  return READABLE_ADDRESS.has(scheme) ? address : undefined;
}

/**
 * The name a contact goes by for an agent: the profile name the provider gave, else their
 * address written for people (contactAddress); undefined for a key that is only an id nobody
 * reads, which a reader names by the channel instead.
 */
export function contactDisplayName(contact: { key: string; name?: string | undefined }): string | undefined {
  return contact.name?.trim() || contactAddress(contact.key);
}
