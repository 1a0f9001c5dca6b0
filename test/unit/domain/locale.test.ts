import { describe, expect, it } from 'vitest';
import { LOCALES, type Locale } from '#lib/domain/channel.ts';
import { chooseLocale, detectLocale } from '#lib/domain/locale.ts';

const both = { supported: LOCALES, fallback: 'pl' } as const;

describe('detectLocale', () => {
  it.each<[string, Locale]>([
    ['Dzień dobry', 'pl'],
    ['hej, gdzie paczka?', 'pl'],
    ['Dzięki!', 'pl'],
    ['dzien dobry, kiedy wysylka?', 'pl'],
    ['Witam', 'pl'],
    ['Witam, chciałbym zwrócić buty', 'pl'],
    ['cześć', 'pl'],
    ['czesc, mam pytanie', 'pl'],
    ['Gdzie jest moje zamówienie?', 'pl'],
    ['gdzie moje zamowienie', 'pl'],
    ['kiedy dostawa?', 'pl'],
    ['Zamówienie nr 12345 nie doszło', 'pl'],
    ['Dziękuję bardzo', 'pl'],
    ['dziekuje', 'pl'],
    ['Prosze o kontakt', 'pl'],
    ['Czy mogę zmienić adres dostawy?', 'pl'],
    ['nie działa mi karta', 'pl'],
    ['Halo, jest ktoś?', 'pl'],
    ['Potrzebuję faktury', 'pl'],
    ['tak', 'pl'],
    ['Ile kosztuje wysyłka do Niemiec?', 'pl'],
    ['Dobry wieczór', 'pl'],
    ['jak zwrocic towar', 'pl'],
    ['Super, dzięki 👍', 'pl'],
    ['Paczka przyszła uszkodzona', 'pl'],
    ['Oddzwonicie?', 'pl'],
    ['DZIEŃ DOBRY, GDZIE PACZKA', 'pl'],
    ['Pilne!!!', 'pl'],
    ['kurier nie przyjechal', 'pl'],
    ['Jest ok, dzięki', 'pl'],
    ['Hi, where is my order?', 'en'],
    ['Hello', 'en'],
    ['Thanks!', 'en'],
    ['Thank you', 'en'],
    ['Good morning', 'en'],
    ['where is my parcel', 'en'],
    ['my order hasnt arrived', 'en'],
    ['Can I return these shoes?', 'en'],
    ['Any update?', 'en'],
    ['I need an invoice please', 'en'],
    ['Is anyone there?', 'en'],
    ['How much is shipping to Germany?', 'en'],
    ['please call me back', 'en'],
    ['Hey', 'en'],
    ['yes', 'en'],
    ['The package arrived damaged', 'en'],
    ['Cheers', 'en'],
    ['I want to cancel my order', 'en'],
    ["what's the status of order 12345?", 'en'],
    ['Hi there!', 'en'],
    ['I don’t have the tracking number', 'en'],
    ['ok thanks', 'en'],
    ['HELLO WHERE IS MY PARCEL', 'en'],
  ])('should detect %j as %s', (text, locale) => {
    // Act
    const detected = detectLocale(text, both);

    // Assess
    expect(detected).toEqual({ locale, confident: true });
  });

  it.each([
    ['too short', 'ok'],
    ['too short, upper case', 'OK!'],
    ['an emoji', '👍'],
    ['emoji only', '🙂🙂'],
    ['a number', '123'],
    ['an order number', '#12345'],
    ['a code', 'PL12345678'],
    ['empty', ''],
    ['blank', '   '],
    ['punctuation', '?'],
    ['an ellipsis', '...'],
    ['ok and an emoji', 'ok 👍'],
    ['a word both languages use', 'no'],
    ['a loanword', 'super'],
    ['another loanword', 'problem'],
    ['a name', 'Anna'],
    ['a link', 'https://example.com/track/where'],
    ['an email address', 'where@example.com'],
    ['mixed half and half', 'Thanks! Dzięki!'],
    ['a stray diacritic', 'ż'],
    ['a WhatsApp message the Cloud API cannot pass on', '⚠️ [scheduled_call]'],
  ])('should not be confident about %s (%j)', (_name, text) => {
    // Act
    const pl = detectLocale(text, { supported: LOCALES, fallback: 'pl' });
    const en = detectLocale(text, { supported: LOCALES, fallback: 'en' });

    // Assess
    expect(pl).toEqual({ locale: 'pl', confident: false });
    expect(en).toEqual({ locale: 'en', confident: false });
  });

  it('should follow the stronger language in a mostly one-language mix', () => {
    // Act
    const pl = detectLocale('Hi, dzień dobry, gdzie jest paczka?', both);
    const en = detectLocale('Dzień dobry, where is my order please?', both);

    // Assess
    expect(pl).toEqual({ locale: 'pl', confident: true });
    expect(en).toEqual({ locale: 'en', confident: true });
  });

  it('should only answer with a supported locale', () => {
    // Act
    const onlyPolish = detectLocale('Hi, where is my order?', { supported: ['pl'], fallback: 'pl' });
    const polishInEnglishOnly = detectLocale('Dzień dobry', { supported: ['en'], fallback: 'en' });

    // Assess
    expect(onlyPolish).toEqual({ locale: 'pl', confident: false });
    expect(polishInEnglishOnly).toEqual({ locale: 'en', confident: false });
  });
});

describe('chooseLocale', () => {
  type Case = {
    text: string;
    contactLocale?: Locale | null;
    defaultLocale: Locale;
    supported: readonly Locale[];
  };
  it.each<[string, Case, Locale]>([
    // Before stop 23 the contact's language won over the text; it is now the language they last
    // wrote in (remembered from a confident message), so a confident message comes first.
    [
      'the text’s confident language over the one the contact last wrote in',
      { contactLocale: 'en', text: 'Dzień dobry', defaultLocale: 'pl', supported: LOCALES },
      'pl',
    ],
    [
      'the contact’s language for a message that says nothing (a call, a photo, "ok")',
      { contactLocale: 'en', text: '', defaultLocale: 'pl', supported: LOCALES },
      'en',
    ],
    [
      'the contact’s language for a short text',
      { contactLocale: 'en', text: 'ok', defaultLocale: 'pl', supported: LOCALES },
      'en',
    ],
    [
      'a confident detection without a known language',
      { text: 'Hi, where is my order?', defaultLocale: 'pl', supported: LOCALES },
      'en',
    ],
    [
      'a confident detection when the known language is null',
      { contactLocale: null, text: 'Dzięki!', defaultLocale: 'en', supported: LOCALES },
      'pl',
    ],
    ['the default for a short text', { text: 'ok', defaultLocale: 'pl', supported: LOCALES }, 'pl'],
    ['the default for an emoji', { text: '👍', defaultLocale: 'en', supported: LOCALES }, 'en'],
    [
      'detection when the known language is no longer supported',
      { contactLocale: 'en', text: 'Dzień dobry', defaultLocale: 'en', supported: ['pl'] },
      'pl',
    ],
    [
      'the default when the known language is no longer supported',
      { contactLocale: 'en', text: '', defaultLocale: 'pl', supported: ['pl'] },
      'pl',
    ],
  ])('should choose %s', (_name, { text, ...input }, locale) => {
    // Prepare
    const detected = detectLocale(text, { supported: input.supported, fallback: input.defaultLocale });

    // Act
    const chosen = chooseLocale({ detected, ...input });

    // Assess
    expect(chosen).toBe(locale);
  });
});
