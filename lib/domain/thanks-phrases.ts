/**
 * How customers say only thanks, language by language, spelled as they write it (thanks.ts folds
 * every phrase as it folds a message: lower case, no diacritics, no punctuation). A message is
 * thanks alone when, without the courtesies around it, it is one of a language's `thanks`, perhaps
 * followed by one of its `objects` ("za pomoc", "für die Hilfe"). Whole phrases only: "Danke, aber
 * das Paket fehlt" is a message. Left out on purpose: thanks in advance ("z góry dziękuję", "Danke
 * im Voraus", "Alvast bedankt": a request still waits), "no, thanks" ("Nie dziękuję", "Nein
 * danke": an answer to something), and the Danish "tak" alone, which is the Polish "yes".
 */
export type ThanksPhrases = {
  readonly thanks: readonly string[];
  /** What the thanks are for; each may follow any of the language's `thanks`. */
  readonly objects?: readonly string[];
  /** Words before the thanks that ask nothing ("ok, dzięki", "alles klar, danke"). */
  readonly before?: readonly string[];
  /** Closings after the thanks ("pozdrawiam", "viele Grüße"), any number of them. */
  readonly after?: readonly string[];
};

/** Phrases separated by "|", as they read; line breaks and spaces around them do not count. */
const list = (phrases: string): string[] =>
  phrases
    .split('|')
    .map((phrase) => phrase.trim().replace(/\s+/g, ' '))
    .filter((phrase) => phrase !== '');

const POLISH: ThanksPhrases = {
  thanks: list(`dziękuję | dziękujemy | dzięki | dziękuję bardzo | bardzo dziękuję | bardzo dziękujemy |
    dziękuję serdecznie | serdecznie dziękuję | dziękuję pięknie | pięknie dziękuję | dzięki wielkie |
    wielkie dzięki`),
  objects: list('za pomoc | za odpowiedź | za informację | za info'),
  before: list('ok | okej | okay | super | dobrze | świetnie'),
  after: list('pozdrawiam serdecznie | pozdrawiam'),
};

const ENGLISH: ThanksPhrases = {
  thanks: list(`thanks | thank you | thanks a lot | thank you very much | thank you so much | thanks so much |
    thanks very much | many thanks | thx | cheers`),
  objects: list('for your help | for the help'),
  before: list('great | perfect'),
  after: list('regards | best regards | kind regards'),
};

/** The languages of the EU and its neighbours a Polish company's customers write in. */
const OTHER_LANGUAGES: readonly ThanksPhrases[] = [
  {
    // German
    thanks: list(`danke | danke schön | dankeschön | danke sehr | danke vielmals | danke dir | danke ihnen |
      vielen dank | vielen lieben dank | vielen herzlichen dank | herzlichen dank | besten dank |
      tausend dank | ich danke ihnen`),
    objects: list('für die hilfe | für ihre hilfe | für deine hilfe | für die antwort | für die info'),
    before: list('alles klar | prima | perfekt | toll'),
    after: list('viele grüße | liebe grüße | beste grüße | viele grüsse | liebe grüsse | mfg | lg | vg'),
  },
  {
    // French
    thanks: list(`merci | merci beaucoup | merci bien | merci infiniment | merci mille fois | mille mercis |
      un grand merci | merci à vous | je vous remercie`),
    objects: list("pour votre aide | pour l'aide | pour votre réponse | pour la réponse | pour l'info"),
    before: list("d'accord | parfait | très bien"),
    after: list('cordialement | bonne journée | bonne soirée | bien à vous'),
  },
  {
    // Spanish
    thanks: list(
      'gracias | muchas gracias | muchísimas gracias | mil gracias | se lo agradezco | te lo agradezco',
    ),
    objects: list('por la ayuda | por tu ayuda | por su ayuda | por la respuesta | por la información'),
    before: list('vale | perfecto | genial | muy bien'),
    after: list('saludos | un saludo'),
  },
  {
    // Italian
    thanks: list(
      'grazie | grazie mille | grazie tante | molte grazie | grazie infinite | la ringrazio | ti ringrazio',
    ),
    objects: list(
      "per l'aiuto | per il suo aiuto | per la risposta | per l'informazione | per le informazioni",
    ),
    before: list('perfetto | va bene | ottimo'),
    after: list('saluti | cordiali saluti | buona giornata'),
  },
  {
    // Portuguese
    thanks: list('obrigado | obrigada | muito obrigado | muito obrigada | valeu'),
    objects: list('pela ajuda | pela resposta | pela informação | pelas informações'),
    before: list('perfeito | ótimo | certo'),
    after: list('cumprimentos | atenciosamente'),
  },
  {
    // Dutch
    thanks:
      list(`dank je | dank je wel | dankjewel | dank u | dank u wel | dankuwel | bedankt | heel erg bedankt |
      hartelijk dank | hartelijk bedankt`),
    objects: list('voor de hulp | voor je hulp | voor uw hulp | voor het antwoord | voor de info'),
    before: list('oké | prima | top'),
    after: list('groeten | groetjes | met vriendelijke groet'),
  },
  {
    // Czech
    thanks:
      list(`děkuji | děkuju | děkujeme | díky | moc děkuji | děkuji moc | moc děkuju | děkuju moc | moc díky |
      díky moc | mnohokrát děkuji | děkuji mnohokrát | děkuji pěkně | děkuji vám`),
    objects: list('za pomoc | za odpověď | za informaci | za info'),
    before: list('dobře | v pořádku'),
    after: list('s pozdravem | hezký den'),
  },
  {
    // Slovak
    thanks: list(
      'ďakujem | ďakujeme | vďaka | ďakujem pekne | ďakujem veľmi pekne | veľmi pekne ďakujem | ďakujem vám',
    ),
    objects: list('za pomoc | za odpoveď | za informáciu | za info'),
    before: list('v poriadku'),
    after: list('s pozdravom | pekný deň'),
  },
  {
    // Hungarian
    // Never "kösz" alone: folded it is the Polish "kosz" (a basket, a bin), an answer.
    thanks: list('köszönöm | köszönjük | köszi | köszönöm szépen | nagyon köszönöm | nagyon szépen köszönöm'),
    objects: list('a segítséget | a választ | az információt'),
    before: list('rendben | oké | szuper'),
    after: list('üdvözlettel | üdv'),
  },
  {
    // Swedish
    thanks: list('tack | tack så mycket | tusen tack | stort tack | tack ska du ha'),
    objects: list('för hjälpen | för svaret | för informationen'),
    before: list('okej | bra | toppen'),
    after: list('hälsningar | med vänliga hälsningar | mvh'),
  },
  {
    // Norwegian
    thanks: list('takk | tusen takk | mange takk | takk skal du ha'),
    objects: list('for hjelpen | for svaret | for informasjonen'),
    before: list('flott'),
    after: list('hilsen | vennlig hilsen'),
  },
  // Danish: never "tak" alone, the Polish "yes"
  {
    thanks: list('mange tak | tusind tak | tak skal du have | tak for hjælpen | tak for svaret'),
    after: ['venlig hilsen'],
  },
  {
    // Finnish
    thanks: list('kiitos | kiitoksia | kiitos paljon | paljon kiitoksia | kiitti'),
    objects: list('avusta | vastauksesta | tiedosta'),
    after: list('terveisin | ystävällisin terveisin'),
  },
  // Estonian, Latvian, Lithuanian
  { thanks: list('aitäh | suur aitäh | tänan | tänan väga'), objects: list('abi eest | vastuse eest') },
  {
    thanks: list('paldies | liels paldies'),
    objects: list('par palīdzību | par atbildi'),
    after: ['ar cieņu'],
  },
  { thanks: list('ačiū | labai ačiū | dėkoju | labai dėkoju'), objects: list('už pagalbą | už atsakymą') },
  {
    // Romanian
    thanks: list(
      'mulțumesc | mulțumim | mulțumesc mult | mulțumesc frumos | vă mulțumesc | mersi | mersi mult',
    ),
    objects: list('pentru ajutor | pentru răspuns'),
    after: list('cu stimă | o zi bună'),
  },
  {
    // Croatian, Serbian, Bosnian, Slovenian
    thanks: list(
      'hvala | hvala lijepa | hvala lepa | hvala puno | puno hvala | hvala vam | najljepša hvala | хвала',
    ),
    objects: list('na pomoći | na odgovoru | za pomoć | za pomoč'),
    after: list('lijep pozdrav | lep pozdrav | srdačan pozdrav'),
  },
  {
    // Bulgarian
    thanks: list('благодаря | благодаря много | много благодаря | благодаря ви'),
    objects: list('за помощта | за отговора'),
    after: ['поздрави'],
  },
  {
    // Greek (its question mark is ";": thanks.ts)
    thanks: list('ευχαριστώ | ευχαριστώ πολύ | ευχαριστούμε | σας ευχαριστώ | σε ευχαριστώ'),
    objects: list('για τη βοήθεια | για την απάντηση'),
  },
  // Turkish
  {
    thanks: list('teşekkürler | teşekkür ederim | çok teşekkürler | çok teşekkür ederim | sağ ol | sağ olun'),
  },
  {
    // Ukrainian
    thanks: list(
      'дякую | дякуємо | дуже дякую | щиро дякую | дякую вам | дякую дуже | спасибі | велике спасибі',
    ),
    objects: list('за допомогу | за відповідь | за інформацію'),
    before: list('добре | чудово | зрозуміло | ок'),
    after: list('з повагою | гарного дня'),
  },
  {
    // Russian
    thanks:
      list(`спасибо | спасибо большое | большое спасибо | огромное спасибо | спасибо огромное | спасибо вам |
      спасибо вам большое | благодарю | благодарю вас | спс | мерси`),
    objects: list('за помощь | за ответ | за информацию'),
    before: list('хорошо | отлично | понятно | ясно'),
    after: list('с уважением | хорошего дня'),
  },
  // Belarusian
  { thanks: list('дзякуй | вялікі дзякуй | дзякуй вялікі') },
];

export const THANKS_PHRASES: readonly ThanksPhrases[] = [POLISH, ENGLISH, ...OTHER_LANGUAGES];
