import type { Person } from '#lib/domain/business-config.ts';
import type { Signer } from '#lib/domain/signer.ts';
import type {
  AckParts,
  ChatVariant,
  LocalMoment,
  NoticeParts,
  NoticeVariant,
  Phrasebook,
  Preposition,
} from '#lib/domain/texts/pl.ts';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function day(at: LocalMoment): string {
  const weekday = WEEKDAYS[at.weekday - 1] ?? '';
  if (at.daysAhead === 0) return 'today';
  if (at.daysAhead === 1) return 'tomorrow';
  if (at.daysAhead > 1 && at.daysAhead < 7) return `on ${weekday}`;
  return `on ${weekday} ${at.day} ${MONTHS[at.month - 1] ?? ''}`;
}

// "10 am", "10:30 am", "noon": how people say it, not "10:00 AM".
function time({ hour, minute }: LocalMoment): string {
  if (minute === 0 && hour === 12) return 'noon';
  if (minute === 0 && (hour === 0 || hour === 24)) return 'midnight';
  const clock = hour % 12 === 0 ? 12 : hour % 12;
  const suffix = hour < 12 ? 'am' : 'pm';
  return minute === 0 ? `${clock} ${suffix}` : `${clock}:${String(minute).padStart(2, '0')} ${suffix}`;
}

function clock(at: LocalMoment, preposition: Preposition): string {
  return `${preposition} ${time(at)}`;
}

function moment(at: LocalMoment, preposition: Preposition): string {
  return `${day(at)} ${clock(at, preposition)}`;
}

// Honest either way: while someone is still in, we say until when, not that nobody is there.
function awayLead(away: NonNullable<AckParts['away']>): string {
  return away.onDutyUntil
    ? `We're here ${away.onDutyUntil}, then back ${away.back}`
    : `We're out of the office now, back ${away.back}`;
}

// After a call we call back, as the greeting said; after a message we write back. A caller may
// have left no message: we thank them for the call, never for "your message".
const ANSWER = {
  message: { promise: "I'll reply", verb: 'reply', thanks: 'thanks for your message.' },
  call: { promise: "I'll call you back", verb: 'call you back', thanks: 'thanks for calling.' },
} as const;
const answerOf = (callBack: boolean) => ANSWER[callBack ? 'call' : 'message'];
const upperFirst = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

function promiseSentence(parts: AckParts, detail: boolean): string {
  const { away } = parts;
  const { promise } = answerOf(parts.callBack);
  // Cut short while someone is still in, "we're back on Monday" alone would say nobody is: the promise alone.
  if (!away || (!detail && away.onDutyUntil)) return `${promise} ${parts.replyBy}.`;
  const lead = detail ? awayLead(away) : `We're back ${away.back}`;
  return `${lead}, and ${promise} ${away.replyOnReturn ? 'first thing' : (away.replyByThatDay ?? parts.replyBy)}.`;
}

function contactLine(signer: Signer): string {
  return signer.phone ? `tel. ${signer.phone}` : (signer.email ?? '');
}

// As the ack signs: "Anna Kowalska, tel. 22 123 45 67" (the name alone when we know no contact).
function signature(signer: Signer, letter: boolean): string {
  if (letter) {
    return [
      signer.name,
      ...(signer.phone ? [`Tel. ${signer.phone}`] : []),
      ...(signer.email ? [signer.email] : []),
    ].join('\n');
  }
  const contact = contactLine(signer);
  return contact ? `${signer.name}, ${contact}` : signer.name;
}

function chat(parts: AckParts, variant: ChatVariant): string {
  const { thanks } = answerOf(parts.callBack);
  const opening =
    variant.greeting === 'full'
      ? `${parts.firstName ? `Hi ${parts.firstName}` : 'Hello'}, ${thanks}`
      : variant.greeting === 'plain'
        ? upperFirst(thanks)
        : null;
  const selfHelp =
    variant.selfHelp && parts.selfHelpUrl ? `Answers to common questions: ${parts.selfHelpUrl}` : null;
  const body = [opening, promiseSentence(parts, variant.detail), selfHelp]
    .filter((s) => s !== null)
    .join(' ');
  return `${body}\n${parts.signer.name}, ${contactLine(parts.signer)}`;
}

function email(parts: AckParts): { subject: string; text: string } {
  const { signer } = parts;
  const lines = [
    parts.firstName ? `Hi ${parts.firstName},` : 'Hello,',
    '',
    `Thanks for your message, it has reached us. ${promiseSentence(parts, true)}`,
    ...(parts.selfHelpUrl
      ? ['', `In the meantime, answers to common questions are here: ${parts.selfHelpUrl}`]
      : []),
    '',
    'Best regards,',
    signer.name,
    ...(signer.phone ? [`Tel. ${signer.phone}`] : []),
    ...(signer.email ? [signer.email] : []),
  ];
  return { subject: `We'll reply ${parts.replyBy}`, text: lines.join('\n') };
}

function voice(parts: AckParts): string {
  const { away, signer } = parts;
  const callBack = !away
    ? `${signer.name} will call you back ${parts.replyBy}.`
    : `${awayLead(away)}, and ${signer.name} will call you back ${away.replyOnReturn ? 'first thing' : (away.replyByThatDay ?? parts.replyBy)}.`;
  const contact = signer.phone ? `Direct line: ${signer.phone}.` : `Email: ${signer.email ?? ''}.`;
  return `Hello, thanks for calling. ${callBack} ${contact}`;
}

function noticeApology(parts: NoticeParts, missed: boolean): string {
  if (!parts.missed) return "I'm sorry this is taking a while.";
  return missed
    ? `I'm sorry, I won't be able to ${answerOf(parts.callBack).verb} ${parts.missed} as I promised: I need a little more time.`
    : "I'm sorry, I need a little more time.";
}

function reachMe(signer: Person, from: string | null, directly: boolean): string {
  const how = directly ? ' directly' : '';
  if (signer.phone) return `call me${how}${from ? ` ${from}` : ''}`;
  return `email me${how}${from ? `, I'll read it ${from}` : ''}`;
}

function noticeChat(parts: NoticeParts, variant: NoticeVariant): string {
  const opening = variant.greeting ? `${parts.firstName ? `Hi ${parts.firstName}` : 'Hello'},` : null;
  const sentences = [
    noticeApology(parts, variant.missed),
    `${answerOf(parts.callBack).promise} ${parts.replyBy}.`,
    ...(variant.detail && parts.urgent
      ? [`If it's urgent, ${reachMe(parts.signer, parts.urgent.from, false)}.`]
      : []),
    ...(variant.detail ? ['Thank you for your patience!'] : []),
  ];
  const body = [opening, ...sentences].filter((s) => s !== null).join(' ');
  return `${body}\n${parts.signer.name}, ${contactLine(parts.signer)}`;
}

function noticeEmail(parts: NoticeParts): { subject: string; text: string } {
  const { signer } = parts;
  const lines = [
    parts.firstName ? `Hi ${parts.firstName},` : 'Hello,',
    '',
    `${noticeApology(parts, true)} I want to get your request right, and I'll reply ${parts.replyBy}.`,
    '',
    ...(parts.urgent ? [`If it's urgent, ${reachMe(signer, parts.urgent.from, true)}.`, ''] : []),
    'Thank you for your patience,',
    signer.name,
    ...(signer.phone ? [`Tel. ${signer.phone}`] : []),
    ...(signer.email ? [signer.email] : []),
  ];
  return { subject: `Sorry for the wait: I'll reply ${parts.replyBy}`, text: lines.join('\n') };
}

export const en: Phrasebook = { moment, clock, chat, email, voice, noticeChat, noticeEmail, signature };
