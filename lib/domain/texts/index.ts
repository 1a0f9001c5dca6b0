import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { staffedCalendar } from '#lib/domain/calendar.ts';
import type { Channel, Locale } from '#lib/domain/channel.ts';
import type { ReplyPromise } from '#lib/domain/promise.ts';
import { templateText } from '#lib/domain/reply-template.ts';
import { atWorkFrom, type Signer } from '#lib/domain/signer.ts';
import { smsSegments, transliteratePolish } from '#lib/domain/sms.ts';
import { en } from '#lib/domain/texts/en.ts';
import { localMoment } from '#lib/domain/texts/moment.ts';
import {
  type AckParts,
  type ChatVariant,
  type LocalMoment,
  type NoticeParts,
  type NoticeVariant,
  type Phrasebook,
  type Preposition,
  pl,
} from '#lib/domain/texts/pl.ts';

export type { AckParts, ChatVariant, LocalMoment, NoticeParts, NoticeVariant, Phrasebook, Preposition };

const PHRASEBOOKS: Readonly<Record<Locale, Phrasebook>> = { pl, en };

// Shortest last: an SMS takes the first that fits in two segments.
const SMS_VARIANTS: readonly ChatVariant[] = [
  { greeting: 'full', selfHelp: true, detail: true },
  { greeting: 'full', selfHelp: true, detail: false },
  { greeting: 'full', selfHelp: false, detail: true },
  { greeting: 'full', selfHelp: false, detail: false },
  { greeting: 'plain', selfHelp: false, detail: false },
  { greeting: 'none', selfHelp: false, detail: false },
];
// Shortest last, as for the ack: the apology, the new time and the signer survive every cut.
const NOTICE_SMS_VARIANTS: readonly NoticeVariant[] = [
  { greeting: true, missed: true, detail: true },
  { greeting: false, missed: true, detail: true },
  { greeting: true, missed: true, detail: false },
  { greeting: false, missed: true, detail: false },
  { greeting: true, missed: false, detail: false },
  { greeting: false, missed: false, detail: false },
];
const SMS_MAX_SEGMENTS = 2;

function formatMoment(
  locale: Locale,
  preposition: Preposition,
  input: { now: Date; at: string | Date; timeZone: string },
): string {
  return PHRASEBOOKS[locale].moment(localMoment(input.at, input.now, input.timeZone), preposition);
}

/**
 * The reply-by time in words, relative to `now` in the business time zone:
 * "dziś do 15:00", "w poniedziałek do 10:00", "on Monday 29 December by 10:30 am".
 */
export function formatReplyBy(
  locale: Locale,
  input: { now: Date; replyBy: string; timeZone: string },
): string {
  return formatMoment(locale, 'by', { now: input.now, at: input.replyBy, timeZone: input.timeZone });
}

/** The first word of a contact's name when it looks like a given name; anything else greets no one. */
export function firstNameOf(contactName: string | null | undefined): string | null {
  const first = contactName?.trim().split(/\s+/)[0] ?? '';
  if (!/^\p{L}[\p{L}'’-]{1,29}$/u.test(first)) return null;
  const lower = first.toLocaleLowerCase();
  const isCased = first !== lower && first !== first.toLocaleUpperCase();
  return isCased ? first : `${lower.charAt(0).toLocaleUpperCase()}${lower.slice(1)}`;
}

/**
 * "We're away, back on Monday at 9:00": only while the return lies ahead. A promise is stated
 * again after it was made (a repeat call's greeting, an SMS ack held up by an outage) and by
 * then the team may be back: it is the reply-by time alone then, never a return gone by.
 */
function awayParts(
  config: BusinessConfig,
  locale: Locale,
  now: Date,
  promise: ReplyPromise,
): AckParts['away'] {
  if (promise.teamAwayUntil === null) return null;
  const { timeZone } = config;
  const back = new Date(promise.teamAwayUntil);
  if (back.getTime() <= now.getTime()) return null;
  const shift = staffedCalendar(config).intervalAt(now);
  const onDutyUntil =
    shift && shift.end <= back.getTime()
      ? formatMoment(locale, 'until', { now, at: new Date(shift.end), timeZone })
      : null;
  const backMoment = localMoment(back, now, timeZone);
  const replyMoment = localMoment(promise.replyBy, now, timeZone);
  const book = PHRASEBOOKS[locale];
  return {
    back: book.moment(backMoment, 'at'),
    onDutyUntil,
    replyOnReturn: new Date(promise.replyBy).getTime() === back.getTime(),
    replyByThatDay: replyMoment.daysAhead === backMoment.daysAhead ? book.clock(replyMoment, 'by') : null,
  };
}

function fitSms(texts: readonly string[], transliterate: boolean): string {
  const prepared = texts.map((text) => (transliterate ? transliteratePolish(text) : text));
  const fitting = prepared.find((text) => smsSegments(text).segments <= SMS_MAX_SEGMENTS);
  return fitting ?? prepared.at(-1) ?? '';
}

/**
 * The acknowledgement for one waiting customer: when they will hear back and from whom.
 * Email gets a subject and a letter; SMS and MMS the longest variant within two segments;
 * voice a sentence for text-to-speech. `callBack`: the customer called and the text goes by
 * SMS; it thanks for the call and promises a call back, as the spoken greeting did.
 */
export function composeAck(
  config: BusinessConfig,
  input: {
    locale?: Locale;
    channel: Channel;
    now: Date;
    promise: ReplyPromise;
    contactName?: string | null;
    callBack?: boolean;
  },
): { text: string; subject: string | null } {
  const locale = input.locale ?? config.defaultLocale;
  const book = PHRASEBOOKS[locale];
  const { now, promise } = input;
  const parts: AckParts = {
    firstName: firstNameOf(input.contactName),
    replyBy: formatReplyBy(locale, { now, replyBy: promise.replyBy, timeZone: config.timeZone }),
    away: awayParts(config, locale, now, promise),
    selfHelpUrl: config.ack.selfHelpUrl,
    signer: promise.signer,
    callBack: input.callBack === true,
  };
  switch (input.channel) {
    case 'email':
      return book.email(parts);
    case 'voice':
      return { text: book.voice(parts), subject: null };
    case 'sms':
    case 'mms':
      return {
        text: fitSms(
          SMS_VARIANTS.map((variant) => book.chat(parts, variant)),
          config.ack.smsTransliterate,
        ),
        subject: null,
      };
    default:
      return { text: book.chat(parts, { greeting: 'full', selfHelp: true, detail: true }), subject: null };
  }
}

/**
 * "If it's urgent, call me" only when someone answers: now while the signer is at work, else
 * from their next shift (a closure, a weekend, before their hours), and not at all when that is
 * no sooner than the new time itself. The signature keeps their contact either way.
 */
function urgentFrom(
  config: BusinessConfig,
  locale: Locale,
  now: Date,
  promise: ReplyPromise,
): NoticeParts['urgent'] {
  const from = atWorkFrom(config, promise.signer.id, now);
  if (from.getTime() === now.getTime()) return { from: null };
  if (from.getTime() >= Date.parse(promise.replyBy)) return null;
  return { from: formatMoment(locale, 'from', { now, at: from, timeZone: config.timeZone }) };
}

/**
 * The late notice, sent shortly before `originalReplyBy` passes with no reply yet: an apology
 * that we need more time, the new promise in words, signed by the person who keeps it, with
 * a direct contact. SMS and MMS (and a call, answered by SMS) get the longest variant within
 * two segments; email a subject and a letter; other chats the full text. `callBack`: the
 * customer called, so the new time is when we call back.
 */
export function composeNotice(
  config: BusinessConfig,
  input: {
    locale: Locale;
    channel: Channel;
    now: Date;
    /** The new promise. */
    promise: ReplyPromise;
    /** The promise the ack stated, which is about to pass; null when no ack told the customer one (quiet after our reply). */
    originalReplyBy: string | null;
    contactName?: string | null | undefined;
    callBack?: boolean;
  },
): { text: string; subject: string | null } {
  const book = PHRASEBOOKS[input.locale];
  const { now, promise } = input;
  const { timeZone } = config;
  const original = input.originalReplyBy === null ? Number.NaN : Date.parse(input.originalReplyBy);
  // Apologising for "more time" while stating an earlier or equal time would not be honest.
  const later = Number.isFinite(original) && Date.parse(promise.replyBy) > original;
  const parts: NoticeParts = {
    firstName: firstNameOf(input.contactName),
    missed:
      later && input.originalReplyBy !== null
        ? formatReplyBy(input.locale, { now, replyBy: input.originalReplyBy, timeZone })
        : null,
    replyBy: formatReplyBy(input.locale, { now, replyBy: promise.replyBy, timeZone }),
    signer: promise.signer,
    callBack: input.callBack === true || input.channel === 'voice',
    urgent: urgentFrom(config, input.locale, now, promise),
  };
  switch (input.channel) {
    case 'email':
      return book.noticeEmail(parts);
    case 'sms':
    case 'mms':
    case 'voice':
      return {
        text: fitSms(
          NOTICE_SMS_VARIANTS.map((variant) => book.noticeChat(parts, variant)),
          config.ack.smsTransliterate,
        ),
        subject: null,
      };
    default:
      return { text: book.noticeChat(parts, { greeting: true, missed: true, detail: true }), subject: null };
  }
}

/**
 * An agent's reply as the customer gets it: their text, then who wrote it and how to reach them
 * directly, as the acks sign (one short line in an SMS or chat, a block under an email letter).
 */
export function signReply(input: { text: string; signer: Signer; channel: Channel; locale: Locale }): string {
  const letter = input.channel === 'email';
  const signature = PHRASEBOOKS[input.locale].signature(input.signer, letter);
  return `${input.text.trim()}${letter ? '\n\n' : '\n'}${signature}`;
}

/**
 * An agent's reply as the two parameters of a WhatsApp template (after the 24-hour window): their
 * text as a parameter can carry it (templateText: no line breaks), then the signature line.
 */
export function templateReplyParameters(input: {
  text: string;
  signer: Signer;
  locale: Locale;
}): [string, string] {
  return [templateText(input.text), templateText(PHRASEBOOKS[input.locale].signature(input.signer, false))];
}
