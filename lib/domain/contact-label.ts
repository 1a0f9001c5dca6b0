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
 * The name a contact goes by for an agent: the profile name the provider gave, else their number
 * written for people, their email or SIP address, their Twilio Client identity; undefined for a
 * key that is only an id nobody reads (`messenger:<PSID>`, `instagram:<IGSID>`,
 * `whatsapp:<BSUID>`, `anonymous:<CallSid>`), which a reader names by the channel instead.
 */
export function contactDisplayName(contact: { key: string; name?: string | undefined }): string | undefined {
  const name = contact.name?.trim();
  if (name) return name;
  const colon = contact.key.indexOf(':');
  const scheme = contact.key.slice(0, colon);
  const address = contact.key.slice(colon + 1);
  if (!address) return undefined;
  if (scheme === 'phone') return readableNumber(address);
  return READABLE_ADDRESS.has(scheme) ? address : undefined;
}
