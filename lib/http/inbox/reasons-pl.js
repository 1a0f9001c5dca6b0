// Co kody API znaczą dla konsultanta, po polsku (wybiera je reasons.js), i co strona mówi o
// odpowiedzi, zamknięciu rozmowy czy przypisaniu, których API nie przyjęło albo na które nie
// odpowiedziało. Angielski odpowiednik: reasons-en.js, z tymi samymi kluczami i {polami}.

export const plReasons = {
  'twilio.21211': 'numer jest nieprawidłowy',
  'twilio.21408': 'wysyłka do tego kraju nie jest włączona na naszym koncie',
  'twilio.21610': 'klient wypisał się z wiadomości (odpisał STOP)',
  'twilio.21612': 'z naszego numeru nie da się dotrzeć do tego numeru',
  'twilio.21614': 'to nie jest numer komórkowy',
  'twilio.21635': 'to numer stacjonarny',
  'twilio.30003': 'telefon jest wyłączony lub poza zasięgiem',
  'twilio.30004': 'wiadomość została zablokowana (przez klienta albo jego operatora)',
  'twilio.30005': 'numer nie istnieje albo nie jest już używany',
  'twilio.30006': 'numer stacjonarny albo operator, do którego nie da się dotrzeć',
  'twilio.30007': 'operator zablokował wiadomość jako spam',
  'twilio.30008': 'operator nie podał powodu',
  'twilio.63016': 'minęło 24 godziny od ostatniej wiadomości klienta na WhatsAppie',
  'twilio.63003': 'tego numeru nie ma na WhatsAppie',
  'meta.131026': 'WhatsApp nie mógł doręczyć wiadomości (numeru może nie być na WhatsAppie)',
  'meta.131047': 'minęły 24 godziny od ostatniej wiadomości klienta',
  'meta.131049': 'WhatsApp wstrzymał wiadomość, żeby klient nie dostawał ich zbyt wiele',
  'meta.131050': 'klient zablokował nasze wiadomości',
  'meta.551': 'z klientem nie da się teraz skontaktować',
  'meta.131000': 'WhatsApp miał chwilową awarię',
  'meta.131016': 'WhatsApp był przez chwilę niedostępny',
  'meta.130429': 'wysłaliśmy naraz zbyt wiele wiadomości',
  'meta.133004': 'WhatsApp był przez chwilę niedostępny',
  'error.known': '{text} (błąd {code})',
  'error.code': 'błąd {code}',

  'reason.opted-out': 'klient zrezygnował z naszych wiadomości',
  'reason.channel-cannot-send': 'na tym kanale nie możemy odpisać',
  'reason.recently-answered': 'ktoś odpowiedział chwilę wcześniej',
  'reason.recently-acknowledged': 'klient dostał potwierdzenie chwilę wcześniej, w innej rozmowie',
  'reason.anonymous-caller': 'dzwoniący ukrył swój numer',
  'reason.own-number': 'przyszła z jednego z naszych numerów',
  'reason.own-address': 'przyszła z jednego z naszych adresów',
  'reason.other-number': 'napisano na inny numer naszego konta',
  'reason.other-page': 'napisano na naszą stronę lub konto Instagram, dla których nie mamy tokenu',
  'reason.automated-sender': 'przyszła od nadawcy automatycznego',
  'reason.outside-window': 'okno na odpowiedź już się zamknęło',
  'reason.no-promise': 'nie dało się podać terminu odpowiedzi',
  'reason.answered': 'wcześniej ktoś odpowiedział',
  'reason.resolved': 'rozmowę wcześniej zamknięto',
  'reason.spoken-on-call': 'termin odpowiedzi padł w rozmowie telefonicznej',
  'reason.thanks': 'klient tylko podziękował',
  'reason.edited': 'klient poprawił wysłaną wiadomość',
  'reason.standby': 'klientem zajmowała się inna aplikacja strony na Facebooku',
  'reason.virus': 'w mailu był wirus',
  'reason.spam': 'mail był spamem',
  'reason.null-return-path': 'mail był zwrotem niedoręczonej poczty',
  'reason.delivery-report': 'mail był raportem doręczenia',
  'reason.system-sender': 'mail przyszedł z adresu systemowego, którego nikt nie czyta',
  'reason.error': 'błąd po naszej stronie',
  'reason.dead-lettered': 'zbyt wiele prób się nie udało; czeka w kolejce błędów (DLQ)',
  'reason.CHANNEL_MISCONFIGURED':
    'wysyłanie na tym kanale jest wyłączone, dopóki jego konfiguracja nie zostanie uzupełniona (obsługa techniczna ma alarm); wtedy wrócimy do niego',
  'reasons.keyword': 'klient wysłał słowo kluczowe {keyword}',
  'reasons.automatic': 'to była automatyczna odpowiedź albo poczta z listy ({reason})',
  'reasons.undelivered': 'nie zostało doręczone',
  'reasons.undeliveredWhy': '{why}',
  'reasons.unsent': 'nie udało się go wysłać',
  'reasons.unsentWhy': 'nie udało się go wysłać: {why}',
  'sendFailure.SEND_REJECTED': 'dostawca je odrzucił',
  'sendFailure.SEND_FAILED': 'dostawca był nieosiągalny albo zawiódł',
  'sendFailure.SEND_UNAUTHORIZED':
    'nasze konto u dostawcy je odrzuciło (dane logowania lub uprawnienia: daj znać osobie, która prowadzi Switchboard)',

  // Why the customer gets no acknowledgements or late notices (GET /api/conversations/{id} optedOut).
  'optOut.stop':
    'bez wiadomości automatycznych: klient wysłał STOP (jego START to cofa); Twoje odpowiedzi nadal są wysyłane',
  'optOut.bounce':
    'bez automatycznych maili: nasz mail na ten adres wrócił jako trwale niedoręczalny; jego następny mail z tego adresu to cofa; Twoje odpowiedzi nadal są wysyłane',
  'optOut.complaint':
    'bez automatycznych maili: klient oznaczył nasz mail jako spam; Twoje odpowiedzi nadal są wysyłane',
  'optOut.bounce-or-complaint':
    'bez automatycznych maili: nasz mail na ten adres wrócił jako trwale niedoręczalny albo został oznaczony jako spam (zapisane, zanim Switchboard zapamiętywał, które z nich); jego maile tego nie cofają; Twoje odpowiedzi nadal są wysyłane',
  'optOut.other': 'bez wiadomości automatycznych do tego klienta; Twoje odpowiedzi nadal są wysyłane',
  'ack.failed': 'potwierdzenie nie dotarło',
  'ack.skipped': 'bez potwierdzenia',
  'ack.retrying': 'potwierdzenie jeszcze nie wyszło, ponawiam: {why}',
  'ack.spoken': 'potwierdzenie: {why}',
  'ack.pending': 'potwierdzenie czeka na wysłanie',
  'ack.sending': 'potwierdzenie w drodze',
  'ack.sent': 'potwierdzenie wysłane',
  'delivery.queued': 'w kolejce',
  'delivery.sent': 'wysłana',
  'delivery.delivered': 'doręczona',
  'delivery.read': 'przeczytana',
  'delivery.undelivered': 'niedoręczona',
  'delivery.failed': 'niewysłana',
  'replyFailure.undelivered': 'nie została doręczona',
  'replyFailure.failed': 'nie mogła zostać wysłana',
  'replyFailure.retryable': 'wysłana ponownie może dotrzeć',

  'refusal.notSent': 'Nie wysłano',
  'refusal.notResolved': 'Nie zamknięto',
  'refusal.notReopened': 'Nie otwarto ponownie',
  'refusal.notAssigned': 'Nie przypisano',
  'refusal.notUnassigned': 'Nie usunięto przypisania',
  'refusal.noteNotAdded': 'Notatka niedodana',
  'refusal.windowConfigure': '{what}: {message}.',
  'refusal.window': '{what}: {message}. Odpowiedz innym kanałem albo wyślij szablon z konsoli dostawcy.',
  'refusal.template':
    '{what}: {provider} odrzucił szablon odpowiedzi {template}, w którym wychodzą odpowiedzi po upływie 24 godzin{code}. To ustawienie do poprawienia przez administratorów (whatsapp.replyTemplates w switchboard.config.json), a nie problem z klientem ani z twoim tekstem. Twoja odpowiedź czeka: naciśnij Odpowiedz jeszcze raz, gdy to poprawią, a do tego czasu skontaktuj się z klientem inaczej.',
  'refusal.templateConfigured': 'ustawiony',
  'refusal.templateCode': ' (błąd {code})',
  'refusal.forbidden': '{what}: ten klucz pozwala czytać, ale nie działać (brak uprawnienia „reply”).',
  'refusal.message': '{what} ({code}): {message}',
  'refusal.status': '{what}: serwer odpowiedział {status}.',
  'refusal.network': '{what}: zawiodła sieć; spróbuj jeszcze raz.',
  'resolve.wrote': 'Nie zamknięto: klient napisał ponownie w trakcie czytania. Jego wiadomość jest poniżej.',
  'resolve.wroteEarlier':
    'Nie zamknięto: wcześniejsza wiadomość klienta została zapisana z opóźnieniem i jest wyżej. Pokaż wcześniejsze wiadomości, przeczytaj ją, potem zamknij rozmowę.',
  'resolve.wroteAway': '{who}: nie zamknięto: klient napisał ponownie w trakcie czytania.',
  'moved.notOpened':
    'Nie wysłano: ta rozmowa jest zamknięta, a klient od tego czasu napisał ponownie. Nie udało się jeszcze otworzyć rozmowy, w której czeka: twoja odpowiedź czeka i trafi do jej okna, gdy tylko się otworzy.',

  'unanswered.network':
    'Zawiodła sieć: odpowiedź mogła wyjść albo nie. Naciśnij Odpowiedz jeszcze raz, to bezpieczne.',
  'unanswered.server':
    'Błąd serwera ({why}): odpowiedź mogła wyjść albo nie. Naciśnij Odpowiedz jeszcze raz, to bezpieczne.',
  'unanswered.running':
    'Wciąż wysyłam: Switchboard jeszcze pracuje nad tą odpowiedzią. Chwilę odczekaj, potem naciśnij Odpowiedz, żeby zobaczyć wynik; to bezpieczne.',
  'unanswered.again':
    'Ta odpowiedź została wysłana, ale nie wróciło potwierdzenie: mogła wyjść albo nie. Naciśnij Odpowiedz jeszcze raz, to bezpieczne.',
  'unanswered.sending': 'Wciąż wysyłam: potwierdzenie jeszcze nie wróciło. Pojawi się tutaj, gdy przyjdzie.',
  'unanswered.otherKey':
    'Ta odpowiedź poszła z innym kluczem API i nie wróciło potwierdzenie: mogła już dotrzeć do klienta. Przeczytaj wiadomości powyżej, zanim ją wyślesz: z tym kluczem byłaby nową odpowiedzią.',
  'moved.shown':
    'Nie wysłano: ta rozmowa jest zamknięta, a klient od tego czasu napisał ponownie. Teraz widzisz jego otwartą rozmowę, a w niej swoją odpowiedź: przeczytaj ją i naciśnij Odpowiedz, by wysłać ją tutaj.',
  'moved.held':
    'Twoja odpowiedź z jego zamkniętej rozmowy czeka: trafi do okna, gdy ta odpowiedź dostanie potwierdzenie.',
  'moved.next':
    'Twoja odpowiedź z jego zamkniętej rozmowy jest już w oknie: przeczytaj ją i naciśnij Odpowiedz, by ją też wysłać.',
  'moved.draft':
    'Szkic zaczęty tutaj jest pod nią, po pustej linii: połącz je w jedną odpowiedź, zanim wyślesz.',
};
