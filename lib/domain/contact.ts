import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { isValidPhoneNumber as isValidMobileNumber } from 'libphonenumber-js/mobile';
import { z } from 'zod';
import { ChannelSchema, LocaleSchema } from './channel.ts';

/**
 * A contact key: a scheme (`phone`, `email`, `messenger`, `sip`, …) and the address in it, at
 * most 320 characters (an email address's limit). Bounded as a whole because it is a DynamoDB
 * partition key (`CONTACT#<key>`, 2,048 bytes at most): 320 UTF-16 units are at most 960 bytes.
 */
export const ContactKeySchema = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[a-z][a-z-]{0,31}:/, 'must be <scheme>:<address>');

/** The person behind one or more channels; keyed by `phone:+E164`, `email:…`, `messenger:<PSID>`, `whatsapp:<BSUID>`, … */
export const ContactSchema = z.object({
  key: z.string(),
  name: z.string().optional(),
  channels: z.array(ChannelSchema),
  /** The one open conversation of this contact, if any: the pointer every new message follows. */
  openConversationId: z.string().nullable(),
  /**
   * Changes with every write that sets the pointer: a resolve releases the pointer only if it
   * is still the claim it saw, so a reopen (or a new message) in between keeps its conversation.
   */
  claimToken: z.string().optional(),
  /**
   * This person's conversations, oldest first (GET /api/contacts/:key): the last
   * MAX_CONTACT_CONVERSATIONS of them, give or take the store's trimming slack.
   */
  conversationIds: z.array(z.string()).default([]),
  optedOut: z.boolean(),
  /**
   * Why `optedOut` is true (removed when it goes back to false): `stop`, the customer's STOP (or
   * the provider's word that they sent one); `bounce`, our mail to the address bounced for good;
   * `complaint`, they marked our mail as spam. A bounce is lifted by the address's own next mail
   * (it works), a complaint and a STOP never by mail. Absent while opted out (written before stop
   * 34): a STOP (optOutReason). A string, not an enum: a newer release's reason, read across a
   * rolling deploy or a rollback, leaves the contact readable (the API shows unknownFutureValue).
   */
  optedOutReason: z.string().max(32).optional(),
  /**
   * The `consentAt` the reason was written with: the reason holds only while they are equal. The
   * release before stop 34 opts out (a STOP, a complaint) without touching the reason, so across a
   * rolling deploy or a rollback it may leave a `bounce` beside its newer opt-out: then read as a
   * STOP, which mail does not lift.
   */
  optedOutReasonAt: z.string().optional(),
  /** When the latest STOP or START was received (ISO 8601): consent only moves forward. */
  consentAt: z.string().optional(),
  /**
   * Other keys of this person whose link to this contact is written (`whatsapp:<BSUID>`): a
   * message that carries one of them beside this key links nothing again.
   */
  aliasKeys: z.array(z.string()).optional(),
  /**
   * The conversation open at a number this person left (Meta's `user_changed_number`) when this
   * contact, their new number's, took them over: a first message of theirs recorded in a
   * conversation of its own at that moment reads it once its wait is written (carriedSinceWrite).
   */
  carriedConversationId: z.string().optional(),
  /**
   * The language they write in, as the first clear message of their latest conversation told
   * it: a new conversation that tells none (a call, a photo) starts in it.
   */
  locale: LocaleSchema.optional(),
  /** The last acknowledgement this person got, and on which conversation (never over-message). */
  lastAckAt: z.string().optional(),
  lastAckConversationId: z.string().optional(),
  /**
   * Our last reply to this person (an agent's, or a person's from the provider's inbox) on a
   * conversation that has ended or was resolved when we wrote: the quiet time after a reply
   * holds across their conversations, so the answer to a follow-up is not acknowledged.
   */
  lastReplyAt: z.string().optional(),
  /**
   * The time of our last reply kept here that asked the customer nothing (no '?'): a bare thanks
   * after it is recorded resolved (thanks-resolve.ts) only while it equals `lastReplyAt`
   * (contactReplyAsked). A time, not a flag: a release that knows no such field (a rolling
   * deploy, a rollback) keeping a later reply moves `lastReplyAt` past it, and what that reply
   * asked is not known: taken as asked. Absent (before stop 33, or not known where it was kept):
   * asked.
   */
  lastPlainReplyAt: z.string().optional(),
  /**
   * When the provider first reported that this number takes no SMS (Twilio's 30006, "Landline
   * or unreachable carrier", in a status callback of a call's SMS; its 21635 or 21614 refusing a
   * send): never texted again after a call, whose
   * greeting is then its only ack (ackSpokenOnly). libphonenumber's mobile metadata cannot tell
   * a US or Canadian landline from a mobile, and its full metadata costs 40 KB of bundle.
   */
  noSmsAt: z.string().optional(),
  /**
   * When the number last texted us (an SMS or MMS recorded): it takes SMS. A provider's report
   * that it takes none (noSmsAt) of an SMS sent before this is out of date: not written.
   */
  textedAt: z.string().optional(),
  /**
   * When the address last mailed us itself (an email recorded with no reason not to answer it:
   * bounceLiftedBy's kind): its mailbox works. A bounce dated before this (SES reports some a day
   * late), of mail sent before it, is out of date: it opts nobody out (setConsent).
   */
  mailedAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Contact = z.infer<typeof ContactSchema>;

/** Why a contact gets no automatic messages (Contact.optedOutReason). */
export const OPT_OUT_REASONS = ['stop', 'bounce', 'complaint'] as const;
export type OptOutReason = (typeof OPT_OUT_REASONS)[number];

/**
 * What an opt-out with no reason of its own is read as (optOutReason), beside the reasons written:
 * `bounce-or-complaint`, an email address's (mail has no STOP: see optOutReason).
 */
export const OPT_OUT_READS = [...OPT_OUT_REASONS, 'bounce-or-complaint'] as const;

/**
 * Why the contact gets no automatic messages, or null when they do. An opt-out with no reason of
 * its own (an older item's, or one whose reason was written with another consent,
 * optedOutReasonAt): a STOP, but an email address's a bounce or a complaint, not known which
 * (`bounce-or-complaint`): mail has no STOP, and before stop 34 (as the previous release across a
 * rolling deploy) only SES's bounces and complaints opted an address out. Read as a complaint
 * would be, never lifted by mail: automatic mail to someone who marked it as spam is what SES
 * reviews an account for (at 0.1 %), while one held back for a bounce costs their acks only,
 * an agent's replies still going.
 */
export function optOutReason(
  contact: Pick<Contact, 'key' | 'optedOut' | 'optedOutReason' | 'optedOutReasonAt' | 'consentAt'>,
): string | null {
  if (!contact.optedOut) return null;
  const current = contact.optedOutReasonAt !== undefined && contact.optedOutReasonAt === contact.consentAt;
  if (current && contact.optedOutReason) return contact.optedOutReason;
  return contact.key.startsWith('email:') ? 'bounce-or-complaint' : 'stop';
}

/**
 * Whether a contact key may stand for a person also known by another key: a WhatsApp user known
 * by their business-scoped id only (`whatsapp:<BSUID>`) may have written before with their number.
 * A message under such a key alone reads its link (one read); no other key is ever resolved.
 */
export function mayBeAlias(key: string): boolean {
  return key.startsWith('whatsapp:');
}

/**
 * How many conversation ids a contact keeps. Every message claims (writes) the contact item, so
 * a sender that opens conversation after conversation for years (an alerting system texting
 * support) must not grow it: its WRUs would grow with it, and at 400 KB every write would fail.
 * The API shows the newest 50.
 */
export const MAX_CONTACT_CONVERSATIONS = 100;

/**
 * Contact key of a phone-based address (SMS, MMS, WhatsApp, voice), so that the same person
 * on two phone channels is one contact. Numbers libphonenumber-js can validate become
 * `phone:+E164`; anything else (short codes, alphanumeric sender ids) keeps its raw form, so
 * it is still recorded and never merged with a real number by accident.
 */
export function phoneContactKey(address: string): string {
  const raw = address.replace(/^[a-z]+:/i, '').trim();
  const parsed = parsePhoneNumberFromString(raw);
  if (!parsed) return `phone:${raw}`;
  const number = canonicalMobile(parsed.number);
  if (number !== parsed.number && parsePhoneNumberFromString(number)?.isValid()) return `phone:${number}`;
  if (parsed.isValid()) return `phone:${parsed.number}`;
  return `phone:${raw}`;
}

/**
 * The one form of a mobile number that WhatsApp gives in an older form (Twilio's
 * `whatsapp:+…` and the Cloud API's `wa_id` alike), so that a person's SMS and WhatsApp are one
 * contact. libphonenumber-js (1.13) has no such mapping: its metadata follows today's numbering
 * plans, where +52 1… is no number (11 digits) and a Brazilian mobile without its ninth digit
 * is at best a possible length ("min" metadata) and no valid mobile ("max").
 * - Mexico dropped the `1` dialled before mobile numbers in 2019 (every +52 number is 10
 *   digits), but WhatsApp still names many +52 mobiles `521` + 10 digits.
 * - Brazil put a `9` before every mobile number (2012–2016); an area code is two digits 1–9 and
 *   an 8-digit number starting 6–9 is a mobile one (landlines start 2–5), so
 *   +55 11 8765-4321 is +55 11 98765-4321. WhatsApp keeps the old form for accounts older than
 *   the change.
 * Only the key changes: answers go to the address the customer wrote from, as given.
 */
function canonicalMobile(e164: string): string {
  const mexican = /^\+521(\d{10})$/.exec(e164);
  if (mexican) return `+52${mexican[1]}`;
  const brazilian = /^\+55([1-9]{2})([6-9]\d{7})$/.exec(e164);
  if (brazilian) return `+55${brazilian[1]}9${brazilian[2]}`;
  return e164;
}

/** The bare E.164 number of a phone address (`whatsapp:+48…` → `+48…`), or the raw address. */
export function phoneNumberOf(address: string): string {
  return address.replace(/^[a-z]+:/i, '').trim();
}

/**
 * What a call from a withheld number is recorded as coming from (its `from`): no address, so
 * nothing is ever sent to it. Twilio's own word for such a caller since 2023.
 */
export const WITHHELD_CALLER = 'anonymous';

// What carriers put in a call's caller id for a withheld number: a word, or (Twilio until May
// 2023, by its changelog "Changes to withheld caller ID behavior"; some carriers and SIP trunks
// still) the word spelt on a phone keypad: ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE.
// The keypad forms look like E.164 numbers, and some are dialable numbers of strangers
// (+86 282452253, +7 378 742 833).
const WITHHELD_CALLER_IDS: ReadonlySet<string> = new Set([
  '',
  WITHHELD_CALLER,
  'restricted',
  'blocked',
  'unknown',
  'unavailable',
  'private',
  '+266696687',
  '+7378742833',
  '+2562533',
  '+8656696',
  '+86282452253',
]);

/** Whether a caller id (a call's `From`, a SIP user part) is a placeholder for a withheld number. */
export function isWithheldCallerId(callerId: string): boolean {
  return WITHHELD_CALLER_IDS.has(callerId.trim().toLowerCase());
}

/** Whether an address is a bare E.164 number (`+48601234567`): the only address an SMS goes to. */
export function isE164Number(address: string): boolean {
  return /^\+\d{6,15}$/.test(address.trim());
}

/**
 * Whether a number can take an SMS: libphonenumber-js's mobile metadata only accepts mobile
 * (and mobile-or-fixed) ranges, so a landline caller gets no SMS acknowledgement.
 */
export function isMobileNumber(e164: string): boolean {
  return isValidMobileNumber(phoneNumberOf(e164));
}
