import type { Person } from '#lib/domain/business-config.ts';
import type { Signer } from '#lib/domain/signer.ts';

// The phrasebook contract lives with the default language so that index.ts -> pl.ts/en.ts
// stays one-way (en.ts borrows these types from here).
export type Preposition = 'by' | 'at' | 'until' | 'from';

/** A moment as the customer reads it: wall-clock fields in the business time zone. */
export type LocalMoment = {
  /** Calendar days from now's local date: 0 today, 1 tomorrow; negative in the past. */
  daysAhead: number;
  /** 1 Monday … 7 Sunday. */
  weekday: number;
  day: number;
  /** 1 January … 12 December. */
  month: number;
  /** 0–23, or 24 for the midnight that ends `day` (a desk open until 24:00). */
  hour: number;
  minute: number;
};

export type AckParts = {
  /** The customer's given name, if the provider gave one: English greets by it ("Hi Jan"), Polish never. */
  firstName: string | null;
  /** "jutro do 10:00" / "tomorrow by 10 am". */
  replyBy: string;
  away: {
    /** When the team is back: "w poniedziałek o 9:00" / "on Monday at 9 am". */
    back: string;
    /** Set while someone is still on duty: "dziś do 17:00" / "today until 5 pm". */
    onDutyUntil: string | null;
    /** The reply is due the moment the team is back, so the text need not name it twice. */
    replyOnReturn: boolean;
    /**
     * The reply-by time without its day when it falls on the day the team is back
     * ("do 10:00" / "by 10 am"): "wracamy w poniedziałek o 9:00 i odpiszę najpóźniej do 10:00",
     * not "… najpóźniej w poniedziałek do 10:00". Null on another day.
     */
    replyByThatDay: string | null;
  } | null;
  selfHelpUrl: string | null;
  signer: Person;
  /** The customer called (an SMS after the call): we call back, as the greeting said. */
  callBack: boolean;
};

/**
 * Which optional parts a short-message variant keeps: the greeting ('plain' keeps only the
 * "we got your message"), the self-help link, and the detail of why we are away.
 */
export type ChatVariant = { greeting: 'full' | 'plain' | 'none'; selfHelp: boolean; detail: boolean };

/** What a late notice says: the promise we cannot keep, the new one, and who keeps it. */
export type NoticeParts = {
  /** As in AckParts: English greets by it, Polish never. */
  firstName: string | null;
  /** The promise being missed, "dziś do 17:00"; null when the new time is not later (nothing to apologise for). */
  missed: string | null;
  /** The new promise: "jutro do 10:00" / "tomorrow by 10 am". */
  replyBy: string;
  signer: Person;
  /** The customer called: the new time is when we call back. */
  callBack: boolean;
  /**
   * When "if it's urgent, call me" may be said: `from` null, the signer is at work now; else
   * from when ("w poniedziałek 28 grudnia od 9:00"), as nobody answers that phone before. Null:
   * not before the new time itself, so the line is left out (the signature keeps the contact).
   */
  urgent: { from: string | null } | null;
};

/**
 * Which optional parts a short late notice keeps: the greeting, the time we are missing
 * (the apology and the new time always stay), and the urgent-contact line with the thanks.
 */
export type NoticeVariant = { greeting: boolean; missed: boolean; detail: boolean };

/** All customer-facing wording of one language. */
export type Phrasebook = {
  moment(at: LocalMoment, preposition: Preposition): string;
  /** The time alone, with its preposition: "do 10:00" / "by 10 am". */
  clock(at: LocalMoment, preposition: Preposition): string;
  chat(parts: AckParts, variant: ChatVariant): string;
  email(parts: AckParts): { subject: string; text: string };
  voice(parts: AckParts): string;
  noticeChat(parts: NoticeParts, variant: NoticeVariant): string;
  noticeEmail(parts: NoticeParts): { subject: string; text: string };
  /** The signature under an agent's reply: one line in a chat, a block under a letter. */
  signature(signer: Signer, letter: boolean): string;
};

// Accusative after "w"/"we": "w środę", "we wtorek" (the "we" avoids "w wtorek").
const ON_WEEKDAY = [
  'w poniedziałek',
  'we wtorek',
  'w środę',
  'w czwartek',
  'w piątek',
  'w sobotę',
  'w niedzielę',
];
// Genitive, as dates are said: "29 grudnia".
const MONTHS = [
  'stycznia',
  'lutego',
  'marca',
  'kwietnia',
  'maja',
  'czerwca',
  'lipca',
  'sierpnia',
  'września',
  'października',
  'listopada',
  'grudnia',
];
const PREPOSITIONS: Readonly<Record<Preposition, string>> = { by: 'do', until: 'do', at: 'o', from: 'od' };

function day(at: LocalMoment): string {
  const weekday = ON_WEEKDAY[at.weekday - 1] ?? '';
  if (at.daysAhead === 0) return 'dziś';
  if (at.daysAhead === 1) return 'jutro';
  if (at.daysAhead > 1 && at.daysAhead < 7) return weekday;
  return `${weekday} ${at.day} ${MONTHS[at.month - 1] ?? ''}`;
}

// A night named by both its days, "z niedzieli na poniedziałek": genitive, then accusative.
const FROM_WEEKDAY = ['poniedziałku', 'wtorku', 'środy', 'czwartku', 'piątku', 'soboty', 'niedzieli'];
const TO_WEEKDAY = ['poniedziałek', 'wtorek', 'środę', 'czwartek', 'piątek', 'sobotę', 'niedzielę'];

function clock(at: LocalMoment, preposition: Preposition): string {
  // Alone (its day said before it): "o północy" / "od północy", never "o 24:00".
  if (at.hour === 24 && at.minute === 0 && (preposition === 'at' || preposition === 'from'))
    return `${PREPOSITIONS[preposition]} północy`;
  return `${PREPOSITIONS[preposition]} ${at.hour}:${String(at.minute).padStart(2, '0')}`;
}

function moment(at: LocalMoment, preposition: Preposition): string {
  // "do 24:00" ends a day as a shop's hours do. A moment we start at, that midnight, is "o
  // północy" / "od północy", never "o 24:00"; after any day but today with its night named by
  // both days ("od północy z niedzieli na poniedziałek"): "w niedzielę od północy" reads as the
  // midnight Sunday begins with, a day early. Tonight's is "dziś o północy".
  if (at.hour === 24 && at.minute === 0 && (preposition === 'at' || preposition === 'from')) {
    const midnight = `${PREPOSITIONS[preposition]} północy`;
    if (at.daysAhead === 0) return `dziś ${midnight}`;
    const date = at.daysAhead < 7 ? '' : ` ${at.day} ${MONTHS[at.month - 1] ?? ''}`;
    return `${midnight} z ${FROM_WEEKDAY[at.weekday - 1] ?? ''}${date} na ${TO_WEEKDAY[at.weekday % 7] ?? ''}`;
  }
  return `${day(at)} ${clock(at, preposition)}`;
}

// Honest either way: while someone is still in, we say until when, not that nobody is there.
function awayLead(away: NonNullable<AckParts['away']>): string {
  return away.onDutyUntil
    ? `Pracujemy jeszcze ${away.onDutyUntil}, potem wracamy ${away.back}`
    : `Teraz nie ma nas w pracy, ale wracamy ${away.back}`;
}

// After a call we call back, as the greeting said; after a message we write back. A caller may
// have left no message: we thank them for the call, never for "your message".
const ANSWER = {
  message: { verb: 'odpiszę', infinitive: 'odpisać', thanks: 'dostaliśmy Twoją wiadomość.' },
  call: { verb: 'oddzwonię', infinitive: 'oddzwonić', thanks: 'dziękujemy za telefon.' },
} as const;
const answerOf = (callBack: boolean) => ANSWER[callBack ? 'call' : 'message'];
const upperFirst = (text: string): string => `${text.charAt(0).toLocaleUpperCase('pl')}${text.slice(1)}`;

function promiseSentence(parts: AckParts, detail: boolean): string {
  const { away } = parts;
  const { verb } = answerOf(parts.callBack);
  // Cut short while someone is still in, "wracamy w poniedziałek" alone would say nobody is: the promise alone.
  if (!away || (!detail && away.onDutyUntil)) return `${upperFirst(verb)} najpóźniej ${parts.replyBy}.`;
  const lead = detail ? awayLead(away) : `Wracamy ${away.back}`;
  // "i", not ", a": after "ale wracamy …" a second contrast ("a odpiszę") read clumsily.
  return away.replyOnReturn
    ? `${lead} i od razu ${verb}.`
    : `${lead} i ${verb} najpóźniej ${away.replyByThatDay ?? parts.replyBy}.`;
}

function contactLine(signer: Signer): string {
  return signer.phone ? `tel. ${signer.phone}` : (signer.email ?? '');
}

// As the ack signs: "Anna Kowalska, tel. 22 123 45 67" (the name alone when we know no contact).
function signature(signer: Signer, letter: boolean): string {
  if (letter) {
    return [
      signer.name,
      ...(signer.phone ? [`tel. ${signer.phone}`] : []),
      ...(signer.email ? [signer.email] : []),
    ].join('\n');
  }
  const contact = contactLine(signer);
  return contact ? `${signer.name}, ${contact}` : signer.name;
}

// A company greets a customer "Dzień dobry", whoever they are: "Cześć, Jan!" was too familiar, a
// name in the nominative ("Dzień dobry, Jan") reads as a mistake, and the polite vocative ("Panie
// Janie", "Pani Anno") needs a gender we do not know. So the Polish texts name nobody (`firstName`
// goes unused); English greets "Hi Jan".
const GREETING = 'Dzień dobry,';

function chat(parts: AckParts, variant: ChatVariant): string {
  const { thanks } = answerOf(parts.callBack);
  const opening =
    variant.greeting === 'full'
      ? `${GREETING} ${thanks}`
      : variant.greeting === 'plain'
        ? upperFirst(thanks)
        : null;
  const selfHelp =
    variant.selfHelp && parts.selfHelpUrl ? `Częste pytania i odpowiedzi: ${parts.selfHelpUrl}` : null;
  const body = [opening, promiseSentence(parts, variant.detail), selfHelp]
    .filter((s) => s !== null)
    .join(' ');
  return `${body}\n${parts.signer.name}, ${contactLine(parts.signer)}`;
}

function email(parts: AckParts): { subject: string; text: string } {
  const { signer } = parts;
  const lines = [
    GREETING,
    '',
    `Dziękujemy za wiadomość, już do nas dotarła. ${promiseSentence(parts, true)}`,
    ...(parts.selfHelpUrl ? ['', `Odpowiedzi na częste pytania znajdziesz tutaj: ${parts.selfHelpUrl}`] : []),
    '',
    'Pozdrawiam serdecznie',
    signer.name,
    ...(signer.phone ? [`tel. ${signer.phone}`] : []),
    ...(signer.email ? [signer.email] : []),
  ];
  return { subject: `Odpowiemy ${parts.replyBy}`, text: lines.join('\n') };
}

function voice(parts: AckParts): string {
  const { away, signer } = parts;
  const callBack = !away
    ? `${signer.name} oddzwoni najpóźniej ${parts.replyBy}.`
    : `${awayLead(away)}${away.replyOnReturn ? ` i wtedy ${signer.name} od razu oddzwoni.` : ` i ${signer.name} oddzwoni najpóźniej ${away.replyByThatDay ?? parts.replyBy}.`}`;
  const contact = signer.phone
    ? `Numer bezpośredni: ${signer.phone}.`
    : `Adres e-mail: ${signer.email ?? ''}.`;
  return `Dzień dobry, dziękujemy za telefon. ${callBack} ${contact}`;
}

// First person and gender-neutral on purpose: "nie zdążę", "potrzebuję", "odpiszę" read the
// same whoever signs, where "obiecałam"/"obiecałem" would not.
function noticeApology(parts: NoticeParts, missed: boolean): string {
  if (!parts.missed) return 'Przepraszam, że to trwa.';
  return missed
    ? `Przepraszam, nie zdążę ${answerOf(parts.callBack).infinitive} ${parts.missed}, potrzebuję jeszcze trochę czasu.`
    : 'Przepraszam, potrzebuję jeszcze trochę czasu.';
}

function reachMe(signer: Person, from: string | null, directly: boolean): string {
  const how = directly ? ' bezpośrednio' : '';
  if (signer.phone) return `zadzwoń do mnie${how}${from ? ` ${from}` : ''}`;
  return `napisz do mnie${how}${from ? `, przeczytam ${from}` : ''}`;
}

function noticeChat(parts: NoticeParts, variant: NoticeVariant): string {
  const opening = variant.greeting ? GREETING : null;
  const apology = noticeApology(parts, variant.missed);
  const sentences = [
    // After "Dzień dobry," the sentence runs on in lower case, as a Polish letter would.
    opening ? `${apology.charAt(0).toLocaleLowerCase('pl')}${apology.slice(1)}` : apology,
    `${upperFirst(answerOf(parts.callBack).verb)} najpóźniej ${parts.replyBy}.`,
    ...(variant.detail && parts.urgent
      ? [`Jeśli sprawa jest pilna, ${reachMe(parts.signer, parts.urgent.from, false)}.`]
      : []),
    ...(variant.detail ? ['Dziękuję za cierpliwość!'] : []),
  ];
  const body = [opening, ...sentences].filter((s) => s !== null).join(' ');
  return `${body}\n${parts.signer.name}, ${contactLine(parts.signer)}`;
}

function noticeEmail(parts: NoticeParts): { subject: string; text: string } {
  const { signer } = parts;
  const lines = [
    GREETING,
    '',
    `${noticeApology(parts, true)} Chcę dobrze zająć się Twoją sprawą i odpiszę najpóźniej ${parts.replyBy}.`,
    '',
    ...(parts.urgent ? [`Jeśli sprawa jest pilna, ${reachMe(signer, parts.urgent.from, true)}.`, ''] : []),
    'Dziękuję za cierpliwość i pozdrawiam serdecznie',
    signer.name,
    ...(signer.phone ? [`tel. ${signer.phone}`] : []),
    ...(signer.email ? [signer.email] : []),
  ];
  return { subject: `Przepraszam za zwłokę, odpiszę ${parts.replyBy}`, text: lines.join('\n') };
}

export const pl: Phrasebook = { moment, clock, chat, email, voice, noticeChat, noticeEmail, signature };
