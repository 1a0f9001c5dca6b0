import type { Locale } from '#lib/domain/channel.ts';

/**
 * What gives a language away in a short customer message. Hand-written rather than a
 * trigram library: franc-min and tinyld (70–110 kB each) guess confidently on two-word
 * texts and cannot say "too short to tell", which is the answer that matters here.
 */
type LanguageCues = {
  /** Frequent words, folded to plain ASCII lower case; none may be a word of another language here. */
  readonly words: ReadonlySet<string>;
  /** Letters only this language uses among the supported ones (before folding). */
  readonly letters: RegExp | null;
  /** Spelling patterns of the folded word: each one matched is weak evidence for a word not in `words`. */
  readonly spellings: readonly RegExp[];
};

const words = (list: string): ReadonlySet<string> => new Set(list.trim().split(/\s+/));

// Words both languages share ("to", "a", "i", "do", "on", "we", "no", "ok", "super",
// "problem", "status", "email") are in neither list: they say nothing about the language.
const CUES: Readonly<Record<Locale, LanguageCues>> = {
  pl: {
    words: words(`
      dzien dobry dobra dobre dobrze wieczor witam witaj czesc hej halo siema
      dziekuje dziekujemy dzieki prosze prosimy pozdrawiam pozdrowienia tak nie
      jest sa byl byla bylo mam mamy ma moje moja moj moge mozna moze czy gdzie kiedy jak ile co
      dlaczego czemu juz jeszcze bo ale oraz lub albo ze zeby sie mnie mi mu ja ty wy pani panstwo
      w z na po od przez dla przy bez za ktos cos nic nikt tu tam teraz dzis dzisiaj jutro wczoraj
      paczka paczki paczke przesylka przesylki przesylke zamowienie zamowienia zamowieniu
      wysylka wysylki wysylke dostawa dostawy dostawe zwrot zwrotu zwrocic reklamacja reklamacji
      faktura faktury fakture platnosc kurier kuriera adres adresu towar towaru nr zl zlotych
      pilne pilna pytanie prosba kontakt kontaktu odpowiedz potrzebuje chcialbym chcialabym chce
      zmienic anulowac dziala przyszla przyszlo doszla doszlo uszkodzona uszkodzony bardzo wiadomosc
      sklep sklepu kosztuje koszt cena rozmiar buty
    `),
    letters: /[ąćęłńóśźż]/u,
    spellings: [/rz|sz|cz|dz/, /ych$|owa$|owe$|cie$|nie$|ość$/, /^(?:wy|prz|zw|zn|zm)/],
  },
  en: {
    words: words(`
      hi hello hey hiya thanks thank thx cheers please pls plz yes yeah yep nope sorry good morning
      afternoon evening the is are was were am be been my your you me im its it this that what whats
      where when why how who which can could would will should have has had hasnt havent dont doesnt
      didnt cant wont not of for with and or but from at an there here any anyone someone update order
      orders parcel package delivery shipping shipped arrived arrive return refund invoice cancel help
      need want still yet just call back tracking track damaged broken wrong size shoes today tomorrow
      yesterday now get got much many number address account payment card contact
    `),
    letters: null,
    spellings: [/th|wh|ph|ck/, /ing$|ed$|ly$/, /ee|oo|ou|ea|ay|ey|[qxv]/],
  },
};

const FOLD: Readonly<Record<string, string>> = {
  ą: 'a',
  ć: 'c',
  ę: 'e',
  ł: 'l',
  ń: 'n',
  ó: 'o',
  ś: 's',
  ź: 'z',
  ż: 'z',
};

// Links, addresses and order numbers are not language, nor the kind of a WhatsApp message the
// Cloud API cannot pass on ("⚠️ [poll_creation]", normalize-whatsapp.ts); an apostrophe is part of "don't".
const NOT_LANGUAGE = /\bhttps?:\/\/\S+|\bwww\.\S+|\S+@\S+|⚠️ \[[\w-]*\]/giu;
const WORD = /\p{L}+(?:['’]\p{L}+)*/gu;

function wordScore(word: string, cues: LanguageCues): number {
  const folded = word.replace(/[ąćęłńóśźż]/g, (char) => FOLD[char] ?? char).replace(/['’]/g, '');
  // A lone letter with a diacritic is a typo, not a word: "ż" is not the preposition "z".
  if (word.length === 1 && folded !== word) return 0;
  if (cues.words.has(folded)) return 1;
  // A diacritic is near-proof of the language that has it.
  if (cues.letters?.test(word)) return 1;
  // Spelling patterns mean little in a short word, which would match half the alphabet.
  if (folded.length < 4) return 0;
  return Math.min(1, cues.spellings.filter((spelling) => spelling.test(folded)).length * 0.5);
}

// A word's score depends on the word alone, and customers use the same few hundred words:
// remembered per language (bounded, cleared when full), detection costs a lookup per word.
const SCORE_CACHE_LIMIT = 10_000;
const scoreCache = new Map<Locale, Map<string, number>>();

function cachedWordScore(word: string, locale: Locale): number {
  const scores = scoreCache.get(locale) ?? new Map<string, number>();
  if (scores.size === 0) scoreCache.set(locale, scores);
  let score = scores.get(word);
  if (score === undefined) {
    if (scores.size >= SCORE_CACHE_LIMIT) scores.clear();
    score = wordScore(word, CUES[locale]);
    scores.set(word, score);
  }
  return score;
}

// Most messages hold no link or address: skip the replace (and its backtracking) for them.
const MAY_HOLD_NON_LANGUAGE = /[@:]|www\.|⚠️ \[/iu;

/** A detection: the locale to use and whether the text really said so. */
export type LocaleDetection = { locale: Locale; confident: boolean };

/**
 * The language of a short customer message among `supported`, scored word by word on
 * frequent words (with or without Polish diacritics), letters and spelling. It is confident
 * only when the text holds at least one clear word and one language scores at least twice
 * any other and a whole word more; otherwise ("ok", "👍", "123", "Thanks! Dzięki!") it
 * returns `fallback`, not confident.
 */
export function detectLocale(
  text: string,
  options: { supported: readonly Locale[]; fallback: Locale },
): LocaleDetection {
  const language = MAY_HOLD_NON_LANGUAGE.test(text) ? text.replace(NOT_LANGUAGE, ' ') : text;
  const found = language.toLowerCase().match(WORD) ?? [];
  const scores = options.supported
    .map((locale) => ({ locale, score: found.reduce((sum, word) => sum + cachedWordScore(word, locale), 0) }))
    .sort((a, b) => b.score - a.score);
  const [best, second] = scores;
  const runnerUp = second?.score ?? 0;
  const clear =
    best !== undefined && best.score >= 1 && best.score >= 2 * runnerUp && best.score - runnerUp >= 1;
  return clear ? { locale: best.locale, confident: true } : { locale: options.fallback, confident: false };
}

/**
 * The locale to answer in: what the message confidently says, else the language the contact
 * last wrote in (remembered on the contact from an earlier confident message), else the
 * business default. The message comes first: a customer who switches language is answered
 * in the new one, and a call, a photo or an "ok" keeps the one we know.
 */
export function chooseLocale(input: {
  detected: LocaleDetection;
  contactLocale?: Locale | null | undefined;
  defaultLocale: Locale;
  supported: readonly Locale[];
}): Locale {
  const { detected, contactLocale, supported } = input;
  if (detected.confident && supported.includes(detected.locale)) return detected.locale;
  if (contactLocale && supported.includes(contactLocale)) return contactLocale;
  return input.defaultLocale;
}
