import { describe, expect, it } from 'vitest';
import { type InboundMessage, type Media, WHOLE_TEXT_MEDIA } from '#lib/domain/message.ts';
import { markThanks, onlyThanks } from '#lib/domain/thanks.ts';

const MESSAGE: InboundMessage = {
  provider: 'twilio',
  providerMessageId: 'SM1',
  channel: 'sms',
  kind: 'message',
  contactKey: 'phone:+48601234567',
  from: '+48601234567',
  to: '+48221234567',
  text: 'Dziękuję!',
  media: [],
};

/** A file in the name and type a long mail's own whole text is kept under. */
const TEXT_FILE: Media = { url: 'k1', ...WHOLE_TEXT_MEDIA, size: 120 };

describe('onlyThanks', () => {
  it.each([
    'Dziękuję!',
    'dziekuje',
    'Dzięki 😊',
    'Bardzo dziękuję.',
    'Ok, dzięki!',
    'Dziękuję za pomoc, pozdrawiam',
    'DZIĘKUJĘ BARDZO',
    'Thanks!',
    'Thank you very much :)',
    'ok thanks',
    '👍',
    '🙏🏻',
    '❤️',
  ])('should read %j as only thanks', (text) => {
    expect(onlyThanks(text)).toBe(true);
  });

  it.each([
    'Dziękuję, ale paczka nie doszła',
    'Dzięki, a kiedy kurier?',
    'thanks, where is my order?',
    'Nie dziękuję',
    'ok',
    'Tak',
    '❓',
    '?',
    '',
    'Dzień dobry',
    // A question mark asks: "Dziękuję?" after an answer that did not answer is no thanks.
    'Dziękuję?',
    'Thanks?!',
    'ok, dzięki… ?',
  ])('should read %j as more than thanks', (text) => {
    expect(onlyThanks(text)).toBe(false);
  });

  // Customers of a Polish company write in their own language too: a thanks alone in any of
  // them needs no answer, as "Dziękuję!" does (found: "Danke!" was promised a reply).
  it.each([
    ['German', 'Danke!'],
    ['German', 'Vielen Dank für die Hilfe, viele Grüße'],
    ['German', 'Alles klar, danke schön 😊'],
    ['French', 'Merci'],
    ['French', 'Merci beaucoup pour votre aide !'],
    ['French', "D'accord, merci. Cordialement"],
    ['Spanish', '¡Gracias!'],
    ['Spanish', 'Vale, muchas gracias por la ayuda. Saludos'],
    ['Italian', 'Grazie mille!'],
    ['Italian', "Perfetto, grazie per l'aiuto"],
    ['Portuguese', 'Obrigado!'],
    ['Portuguese', 'Muito obrigada pela ajuda'],
    ['Dutch', 'Dank je wel!'],
    ['Dutch', 'Bedankt voor de hulp, groetjes'],
    ['Czech', 'Děkuji!'],
    ['Czech', 'Moc děkuju za pomoc, s pozdravem'],
    ['Slovak', 'Ďakujem pekne'],
    ['Hungarian', 'Köszönöm szépen!'],
    ['Hungarian', 'Köszönöm a segítséget'],
    ['Swedish', 'Tack så mycket!'],
    ['Norwegian', 'Tusen takk'],
    ['Danish', 'Mange tak!'],
    ['Finnish', 'Kiitos paljon!'],
    ['Lithuanian', 'Labai ačiū'],
    ['Latvian', 'Liels paldies!'],
    ['Estonian', 'Aitäh!'],
    ['Romanian', 'Mulțumesc frumos'],
    ['Croatian', 'Hvala lijepa!'],
    ['Bulgarian', 'Благодаря!'],
    ['Greek', 'Ευχαριστώ πολύ!'],
    ['Turkish', 'Teşekkürler'],
    ['Ukrainian', 'Дякую!'],
    ['Ukrainian', 'Щиро дякую за допомогу 🙏'],
    ['Ukrainian', 'Добре, дякую. З повагою'],
    ['Russian', 'Спасибо!'],
    ['Russian', 'Спасибо большое)))'],
    ['Russian', 'Понятно, благодарю за ответ'],
    ['Russian', 'СПАСИБО'],
    ['Belarusian', 'Дзякуй!'],
  ])('should read %s thanks %j as only thanks', (_language, text) => {
    expect(onlyThanks(text)).toBe(true);
  });

  // As strict as the Polish and English rules: thanks that ask or tell anything more, thanks in
  // advance (a request still waiting), "no, thanks" (an answer to something) are for a person.
  it.each([
    ['German', 'Danke, und wann kommt das Paket?'],
    ['German', 'Danke, aber das Paket ist noch nicht da'],
    ['German', 'Danke im Voraus'],
    ['German', 'Nein danke'],
    ['French', 'Merci de me rappeler'],
    ['French', "Merci d'avance"],
    ['French', 'Non merci'],
    ['Spanish', 'Gracias, pero todavía no ha llegado'],
    ['Spanish', '¿Gracias?'],
    ['Spanish', 'No, gracias'],
    ['Italian', 'Grazie, ma il pacco non è arrivato'],
    ['Italian', 'Grazie in anticipo'],
    ['Portuguese', 'Obrigado, mas a encomenda ainda não chegou'],
    ['Dutch', 'Alvast bedankt'],
    ['Czech', 'Děkuji, ale balík stále nedorazil'],
    ['Czech', 'Předem děkuji'],
    ['Hungarian', 'Előre is köszönöm'],
    ['Swedish', 'Tack på förhand'],
    ['Swedish', 'Nej tack'],
    ['Finnish', 'Kiitos etukäteen'],
    ['Greek', 'Ευχαριστώ;'],
    ['Ukrainian', 'Дякую, але посилка не прийшла'],
    ['Ukrainian', 'Дякую, коли буде доставка?'],
    ['Russian', 'Спасибо, но заказ так и не пришёл'],
    ['Russian', 'Заранее спасибо'],
    // Danish "tak" alone is the Polish "yes": an answer, never a thanks.
    ['Polish', 'Tak'],
    ['Polish', 'Tak, dziękuję'],
    // The Hungarian "kösz" folds to the Polish "kosz" (a basket, a bin): an answer, never a thanks.
    ['Polish', 'Kosz'],
    ['Polish', 'Ok, kosz'],
    ['Polish', 'Z góry dziękuję'],
    ['English', 'Thanks in advance'],
  ])('should read %s %j as more than thanks', (_language, text) => {
    expect(onlyThanks(text)).toBe(false);
  });

  // A closing after the thanks, however many: "Thanks, best regards" was read as "thanks best".
  it.each([
    'Thanks, best regards',
    'Thank you for your help. Kind regards',
    'Merci, bonne journée, cordialement',
    'Dziękuję bardzo za odpowiedź, pozdrawiam',
  ])('should read %j, thanks closed with a courtesy, as only thanks', (text) => {
    expect(onlyThanks(text)).toBe(true);
  });

  // A mail's thanks come signed: "Dziękuję,\nJan" is thanks from Jan Nowak, not a question.
  it.each([
    ['Dziękuję,\nJan', 'Jan Nowak'],
    ['Dziękuję, pozdrawiam\nJan Nowak', 'Jan Nowak'],
    ['Thanks,\nJohn', 'John Smith'],
    ['Bardzo dziękuję!\n\nZofia Wójcik', 'Zofia Wójcik'],
  ])('should read %j signed by its sender (%s) as only thanks', (text, name) => {
    expect(onlyThanks(text, 0, name)).toBe(true);
  });

  // What a mail program or phone adds below the thanks: a signature after "-- " (RFC 3676), the
  // phone's "Sent from my iPhone" in Polish or English.
  it.each([
    "Dziękuję!\n\nWysłane z iPhone'a",
    'Dzięki\n\nWysłane z mojego Galaxy',
    'Thanks!\n\nSent from my iPhone',
    'Dziękuję\n\n-- \nJan Nowak\ntel. 600 100 200',
    'Thank you\n-- \nJohn Smith\nAcme Ltd\n+44 20 7946 0000',
    'Thanks\n\nGet Outlook for Android',
  ])('should read %j, a mail signed by the mail program or phone, as only thanks', (text) => {
    expect(onlyThanks(text, 0, null, { mail: true })).toBe(true);
  });

  // Found by the thanks-edges review: "-- " (dash dash space, RFC 3676) starts a mail's signature,
  // and only a mail's. A text or a chat message has none: what follows a bare "--" there is the
  // customer's ("Proszę o zwrot pieniędzy" was dropped as a signature, the thanks then resolved).
  it.each([
    'Dziękuję\n--\nProszę o zwrot pieniędzy',
    'Dziękuję\n-- \nProszę o zwrot pieniędzy',
    'Thanks\n--\nJohn',
  ])('should read the chat message %j as more than thanks', (text) => {
    expect(onlyThanks(text)).toBe(false);
  });

  it('should read a request after a bare "--" in a mail as more than thanks', () => {
    expect(onlyThanks('Dziękuję\n--\nProszę o zwrot pieniędzy', 0, null, { mail: true })).toBe(false);
  });

  // Found by the thanks-edges review: the emoji were dropped before matching, so "Dzięki 😡" was
  // thanks, and resolved the conversation. An angry, eye-rolling or disappointed one says the
  // opposite of thanks: a person reads it. A warm one (🙏 😊 👍 ❤️) still closes.
  it.each([
    'Dzięki 😡',
    'Thanks 🙄',
    'dzięki... 😤',
    'Dziękuję bardzo 👎',
    'Super, dzięki 🤬',
    'Thanks a lot 😒',
    'Dzięki 🙃',
    'Dziękuję 😢',
    '😡',
    'Dzięki :(',
    'Thanks :/',
    // Found by the review of ed0bd69: a sour emoticon typed against the word or its punctuation
    'Dzięki:(',
    'Thanks!:/',
    'dzięki..:(',
    'Dziękuję.:-(',
  ])('should read %j, thanks with a sour face, as more than thanks', (text) => {
    expect(onlyThanks(text)).toBe(false);
  });

  it.each([
    'Dzięki 🙏',
    'Dziękuję 😊',
    'Thanks 👍🏻',
    'Dziękuję ❤️',
    'Dzięki wielkie 😀🙏',
    'Thank you 🥰',
    'Dziękuję 😉',
    'Dzięki:)',
    'Thanks!:-)',
  ])('should still read %j, thanks with a warm face, as only thanks', (text) => {
    expect(onlyThanks(text)).toBe(true);
  });

  it.each([
    'Dziękuję\n-- \nA kiedy paczka?',
    'Dziękuję\n\nWysłane z iPhone’a. Kiedy dostanę zwrot?',
    'Dziękuję\n-- \n1\n2\n3\n4\n5\n6\n7',
  ])('should not take %j for a signed thanks', (text) => {
    expect(onlyThanks(text, 0, null, { mail: true })).toBe(false);
  });

  it('should not take another name than the sender’s for a signature', () => {
    expect(onlyThanks('Dziękuję,\nJan', 0, 'Zofia Wójcik')).toBe(false);
    expect(onlyThanks('Dziękuję,\nJan')).toBe(false);
  });

  it('should never take a message with an attachment for thanks alone', () => {
    expect(onlyThanks('Dziękuję', 1)).toBe(false);
  });
});

describe('markThanks', () => {
  it('should mark thanks as needing no answer', () => {
    expect(markThanks(MESSAGE).noAckReason).toBe('thanks');
  });

  it.each([
    ['a call', { kind: 'call' as const }],
    ['a message a channel already gave a reason', { noAckReason: 'auto-submitted' }],
    ['a keyword', { consent: 'opt-in' as const }],
  ])('should leave %s as it is', (_name, patch) => {
    const message = { ...MESSAGE, ...patch };
    expect(markThanks(message)).toBe(message);
  });

  it.each([
    ['sms', 'Dziękuję\n--\nProszę o zwrot pieniędzy', undefined],
    ['whatsapp', 'Dziękuję\n-- \nJan', undefined],
    ['messenger', 'Dziękuję\n--\nProszę o zwrot pieniędzy', undefined],
    ['email', 'Dziękuję\n-- \nJan Nowak\ntel. 600 100 200', 'thanks'],
    ['email', 'Dziękuję\n--\nProszę o zwrot pieniędzy', undefined],
  ] as const)('should read a signature block only in a mail (%s: %j)', (channel, text, reason) => {
    const email = channel === 'email' ? { email: { subject: '', references: [] } } : {};
    expect(markThanks({ ...MESSAGE, channel, text, ...email }).noAckReason).toBe(reason);
  });

  it.each([
    ['', 'thanks'],
    ['Re: Pytanie o fakturę', 'thanks'],
    ['ODP: RE: Zwrot', 'thanks'],
    ['Dziękuję!', 'thanks'],
    ['AW: Ihre Bestellung 4711', 'thanks'],
    ['SV: Order 4711', 'thanks'],
    ['R: Ordine 4711', 'thanks'],
    ['RES: Pedido 4711', 'thanks'],
    ['Ответ: Заказ 4711', 'thanks'],
    ['Відп: Замовлення 4711', 'thanks'],
    ['Gdzie jest moja paczka?', undefined],
    ['Fwd: Faktura 4711', undefined],
  ])('should read a mail with the subject "%s" and only thanks in its text as %s', (subject, reason) => {
    const mail = { ...MESSAGE, channel: 'email' as const, email: { subject, references: [] } };
    expect(markThanks(mail).noAckReason).toBe(reason);
  });
  it.each<[string, Media, string | undefined]>([
    ['our own whole text of a long mail', { ...TEXT_FILE, wholeText: true }, 'thanks'],
    [
      'Outlook’s winmail.dat',
      { url: 'k2', contentType: 'application/ms-tnef', name: 'winmail.dat', outlookBundle: true },
      'thanks',
    ],
    [
      'Outlook’s winmail.dat that carries the customer’s files',
      {
        url: 'k3',
        contentType: 'application/ms-tnef',
        name: 'winmail.dat',
        outlookBundle: true,
        bundledFiles: true,
      },
      undefined,
    ],
    ['the customer’s own message.txt, in our name and type but without our mark', TEXT_FILE, undefined],
  ])('should judge thanks beside %s', (_file, media, reason) => {
    const mail = {
      ...MESSAGE,
      channel: 'email' as const,
      media: [media],
      email: { subject: '', references: [] },
    };
    expect(markThanks(mail).noAckReason).toBe(reason);
  });
});
