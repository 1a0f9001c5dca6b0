// Kody błędów API po polsku (wybiera je apiErrorText z reasons.js): to czyta agent zamiast
// komunikatu serwera, który jest po angielsku, dla narzędzi i logów. Angielski odpowiednik to
// errors-en.js, z tymi samymi kluczami i {polami}.

export const plErrors = {
  'apiError.UNAUTHORIZED': 'klucz API nie został przyjęty',
  'apiError.FORBIDDEN': 'ten klucz nie pozwala na to (brak uprawnienia)',
  'apiError.TOO_MANY_FAILED_LOGINS':
    'z tego adresu przyszło zbyt wiele błędnych kluczy: odczekaj minutę i spróbuj jeszcze raz',
  'apiError.RATE_LIMITED': 'zbyt wiele żądań z tym kluczem: odczekaj chwilę i spróbuj jeszcze raz',
  'apiError.INVALID_REQUEST': 'serwer nie przyjął żądania w postaci, w jakiej wysłała je strona',
  'apiError.INVALID_CURSOR': 'lista zmieniła się od wczytania jej ostatniej strony: pokaż listę od nowa',
  'apiError.NOT_FOUND': 'nie ma takiej rozmowy',
  'apiError.PAYLOAD_TOO_LARGE': 'tekst jest za duży, by go wysłać',
  'apiError.IDEMPOTENCY_KEY_REQUIRED':
    'strona nie wysłała Idempotency-Key (błąd strony: wczytaj ją ponownie)',
  'apiError.IDEMPOTENCY_KEY_REUSED':
    'to żądanie poszło już wcześniej z innym tekstem pod tym samym kluczem: wczytaj rozmowę, by zobaczyć, co wysłano',
  'apiError.REQUEST_IN_PROGRESS': 'to samo żądanie wciąż trwa: odczekaj chwilę i spróbuj jeszcze raz',
  'apiError.INTERNAL': 'błąd wewnętrzny; żądanie można powtórzyć',
  'apiError.AGENT_NOT_LISTED':
    'osoby, którą wskazuje ten klucz, nie ma w konfiguracji firmy z telefonem ani e-mailem, więc odpowiedzi nie da się podpisać jej bezpośrednim kontaktem: poproś osobę, która prowadzi Switchboard, o dopisanie jej albo użyj klucza kogoś z listy',
  'apiError.CHANNEL_MISCONFIGURED':
    'wysyłanie tym kanałem jest wyłączone, dopóki jego konfiguracja nie zostanie uzupełniona (osoba, która prowadzi Switchboard, dostała alarm): odpowiedź nie została wysłana; wyślij ją ponownie później albo odpowiedz innym kanałem',
  'apiError.CONTACT_HAS_OPEN_CONVERSATION': 'klient ma inną otwartą rozmowę: odpowiedz w niej',
  'apiError.CUSTOMER_WROTE': 'klient napisał ponownie, gdy czytałeś',
  'apiError.NO_ROUTE': 'temu klientowi nie da się odpowiedzieć tym kanałem (np. dzwoniącemu bez numeru)',
  'apiError.OUTSIDE_WINDOW':
    'okno wiadomości na tym kanale się zamknęło (Messenger i Instagram: 7 dni od ostatniej wiadomości klienta; WhatsApp: 24 godziny, potem tylko zatwierdzony szablon)',
  'apiError.OUTSIDE_WINDOW.configure':
    'minęło 24 godziny okna na kanale {channel}, więc odpowiedź może pójść tylko jako zatwierdzony szablon, a żaden nie jest ustawiony dla języka: {language} u dostawcy {provider}. Odpowiedz innym kanałem albo poczekaj, aż klient napisze; administrator może dodać {configure} do switchboard.config.json',
  'apiError.PROVIDER_REJECTED': 'dostawca odrzucił wiadomość',
  'apiError.SEND_UNCERTAIN': 'dostawca nie odpowiedział',
  'apiError.TEMPLATE_REFUSED': 'dostawca odrzucił ustawiony szablon odpowiedzi',
  'apiError.TEXT_TOO_LONG': 'odpowiedź jest za długa na ten kanał',
  'apiError.TEXT_TOO_LONG.signed':
    'odpowiedź jest za długa: {channel} mieści najwyżej {limit} razem z podpisem, który zajmuje {signature}; skróć tekst do {maxText}',
  'apiError.TEXT_TOO_LONG.template':
    'odpowiedź jest za długa: po 24-godzinnym oknie idzie jako szablon, którego tekst mieści najwyżej {limit} (podział wiersza liczy się jako „ / ”); skróć ją',
  'apiError.chars': {
    one: '{count} znak',
    few: '{count} znaki',
    many: '{count} znaków',
    other: '{count} znaku',
  },
  'apiError.bytes': {
    one: '{count} bajt',
    few: '{count} bajty',
    many: '{count} bajtów',
    other: '{count} bajta',
  },
  'apiError.locale.pl': 'polski',
  'apiError.locale.en': 'angielski',
};
