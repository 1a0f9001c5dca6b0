import type { Person } from '#lib/domain/business-config.ts';
import type { AckParts, ChatVariant, LocalMoment, Phrasebook, Preposition } from '#lib/domain/texts/index.ts';

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
const PREPOSITIONS: Readonly<Record<Preposition, string>> = { by: 'do', until: 'do', at: 'o' };

function day(at: LocalMoment): string {
  const weekday = ON_WEEKDAY[at.weekday - 1] ?? '';
  if (at.daysAhead === 0) return 'dziś';
  if (at.daysAhead === 1) return 'jutro';
  if (at.daysAhead > 1 && at.daysAhead < 7) return weekday;
  return `${weekday} ${at.day} ${MONTHS[at.month - 1] ?? ''}`;
}

function moment(at: LocalMoment, preposition: Preposition): string {
  return `${day(at)} ${PREPOSITIONS[preposition]} ${at.hour}:${String(at.minute).padStart(2, '0')}`;
}

// Honest either way: while someone is still in, we say until when, not that nobody is there.
function awayLead(away: NonNullable<AckParts['away']>): string {
  return away.onDutyUntil
    ? `Pracujemy jeszcze ${away.onDutyUntil}, potem wracamy ${away.back}`
    : `Teraz nie ma nas w pracy, ale wracamy ${away.back}`;
}

function promiseSentence(parts: AckParts, detail: boolean): string {
  const { away } = parts;
  if (!away) return `Odpiszę najpóźniej ${parts.replyBy}.`;
  const lead = detail ? awayLead(away) : `Wracamy ${away.back}`;
  return away.replyOnReturn
    ? `${lead} i od razu odpiszę.`
    : `${lead}, a odpiszę najpóźniej ${parts.replyBy}.`;
}

function contactLine(signer: Person): string {
  return signer.phone ? `tel. ${signer.phone}` : (signer.email ?? '');
}

function chat(parts: AckParts, variant: ChatVariant): string {
  const opening =
    variant.greeting === 'full'
      ? parts.firstName
        ? `Cześć, ${parts.firstName}! Dostaliśmy Twoją wiadomość.`
        : 'Dzień dobry, dostaliśmy Twoją wiadomość.'
      : variant.greeting === 'plain'
        ? 'Dostaliśmy Twoją wiadomość.'
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
    parts.firstName ? `Cześć, ${parts.firstName}!` : 'Dzień dobry,',
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
    : `${awayLead(away)}${away.replyOnReturn ? ` i wtedy ${signer.name} od razu oddzwoni.` : `, a ${signer.name} oddzwoni najpóźniej ${parts.replyBy}.`}`;
  const contact = signer.phone
    ? `Numer bezpośredni: ${signer.phone}.`
    : `Adres e-mail: ${signer.email ?? ''}.`;
  return `Dzień dobry, dziękujemy za telefon. ${callBack} ${contact}`;
}

export const pl: Phrasebook = { moment, chat, email, voice };
