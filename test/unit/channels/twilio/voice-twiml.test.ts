import { describe, expect, it } from 'vitest';
import {
  NOTHING_RECORDED,
  TWILIO_SAY_VOICES,
  type VoiceGreetingOptions,
  voiceGreetingTwiml,
  voiceRecordedTwiml,
} from '#lib/channels/twilio/voice-twiml.ts';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const BASE = 'https://hooks.switchboard.example/webhooks/twilio';

const polish: VoiceGreetingOptions = {
  locale: 'pl',
  sentences: [
    'Dzień dobry, tu sklep Kwiaciarnia Róża.',
    'Oddzwonimy do jutra do 12:00. Proszę zostawić wiadomość po sygnale.',
  ],
  recordingStatusCallback: `${BASE}/recording?tenant=acme`,
  transcribeCallback: `${BASE}/transcription?tenant=acme`,
  recordAction: `${BASE}/record-action?tenant=acme`,
};

/**
 * A small XML well-formedness check without a parser: one root, tags nested and closed,
 * attribute values quoted, and no raw `<` or stray `&` in text or attribute values.
 */
function assertWellFormed(xml: string): void {
  if (!xml.startsWith(DECLARATION)) throw new Error('no XML declaration');
  const stack: string[] = [];
  let roots = 0;
  let at = DECLARATION.length;
  const checkText = (text: string) => {
    for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
      const end = text.indexOf(';', i);
      const entity = end === -1 ? '' : text.slice(i, end + 1);
      if (!['&amp;', '&lt;', '&gt;', '&quot;', '&apos;'].includes(entity)) throw new Error(`stray & at ${i}`);
    }
  };
  while (at < xml.length) {
    const open = xml.indexOf('<', at);
    if (open === -1) {
      checkText(xml.slice(at));
      break;
    }
    checkText(xml.slice(at, open));
    const close = xml.indexOf('>', open);
    if (close === -1) throw new Error('unclosed tag');
    const tag = xml.slice(open + 1, close);
    // Inside a tag, a `<` or `>` may only appear escaped; an unquoted value breaks the split.
    if (tag.includes('<')) throw new Error(`raw < in tag ${tag}`);
    if (tag.startsWith('/')) {
      if (stack.pop() !== tag.slice(1)) throw new Error(`mismatched </${tag.slice(1)}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const space = body.indexOf(' ');
      const name = space === -1 ? body : body.slice(0, space);
      let rest = space === -1 ? '' : body.slice(space + 1);
      while (rest.trim() !== '') {
        const eq = rest.indexOf('="');
        const end = rest.indexOf('"', eq + 2);
        if (eq === -1 || end === -1) throw new Error(`unquoted attribute in <${name}>`);
        checkText(rest.slice(eq + 2, end));
        rest = rest.slice(end + 1);
      }
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    at = close + 1;
  }
  if (stack.length > 0 || roots !== 1) throw new Error('not one closed root');
}

describe('voiceGreetingTwiml', () => {
  it('should say each Polish sentence, record the voicemail and say goodbye when nothing was recorded', () => {
    // Prepare, Act
    const twiml = voiceGreetingTwiml(polish);

    // Assess
    const say = '<Say language="pl-PL" voice="Polly.Ola-Neural">';
    expect(twiml).toBe(
      `${DECLARATION}<Response>` +
        `${say}Dzień dobry, tu sklep Kwiaciarnia Róża.</Say>` +
        `${say}Oddzwonimy do jutra do 12:00. Proszę zostawić wiadomość po sygnale.</Say>` +
        '<Record maxLength="120" playBeep="true" timeout="5" finishOnKey="#"' +
        ` recordingStatusCallback="${BASE}/recording?tenant=acme"` +
        ' recordingStatusCallbackEvent="completed absent"' +
        ` action="${BASE}/record-action?tenant=acme"/>` +
        `${say}Nie nagraliśmy żadnej wiadomości. Dziękujemy za telefon, do usłyszenia.</Say>` +
        '<Hangup/></Response>',
    );
    assertWellFormed(twiml);
  });

  it('should ask for a transcription on English calls, in an English voice', () => {
    // Prepare
    const options: VoiceGreetingOptions = {
      ...polish,
      locale: 'en',
      sentences: ['Hello, this is Rose Florist. We will call you back by 12 noon tomorrow.'],
    };

    // Act
    const twiml = voiceGreetingTwiml(options);

    // Assess
    const say = '<Say language="en-GB" voice="Polly.Amy-Neural">';
    expect(twiml).toBe(
      `${DECLARATION}<Response>` +
        `${say}Hello, this is Rose Florist. We will call you back by 12 noon tomorrow.</Say>` +
        '<Record maxLength="120" playBeep="true" timeout="5" finishOnKey="#"' +
        ` recordingStatusCallback="${BASE}/recording?tenant=acme"` +
        ' recordingStatusCallbackEvent="completed absent"' +
        ` transcribe="true" transcribeCallback="${BASE}/transcription?tenant=acme"` +
        ` action="${BASE}/record-action?tenant=acme"/>` +
        `${say}We did not record a message. Thank you for calling, goodbye.</Say>` +
        '<Hangup/></Response>',
    );
    assertWellFormed(twiml);
  });

  it('should follow the options: transcription, length, voice and closing sentence', () => {
    // Prepare
    const options: VoiceGreetingOptions = {
      ...polish,
      sentences: ['Dzień dobry.'],
      transcribe: true,
      maxLengthSeconds: 60,
      voice: { language: 'pl-PL', voice: 'Polly.Ewa' },
      closingSentence: 'Do usłyszenia.',
    };

    // Act
    const twiml = voiceGreetingTwiml(options);

    // Assess
    expect(twiml).toContain('<Say language="pl-PL" voice="Polly.Ewa">Dzień dobry.</Say>');
    expect(twiml).toContain('<Record maxLength="60" ');
    expect(twiml).toContain(` transcribe="true" transcribeCallback="${BASE}/transcription?tenant=acme"`);
    expect(twiml).toContain('<Say language="pl-PL" voice="Polly.Ewa">Do usłyszenia.</Say><Hangup/>');
    expect(voiceGreetingTwiml({ ...options, locale: 'en', transcribe: false })).not.toContain('transcribe');
  });

  it('should escape text and URLs and drop characters XML cannot carry', () => {
    // Prepare
    const options: VoiceGreetingOptions = {
      ...polish,
      sentences: ['A & B <Sp. z o.o.> "Róża" \'24h\'\u0007', '   '],
      recordingStatusCallback: `${BASE}/recording?tenant=acme&x="1"`,
      recordAction: `${BASE}/record-action?a=1&b=<2>`,
    };

    // Act
    const twiml = voiceGreetingTwiml(options);

    // Assess
    expect(twiml).toContain('>A &amp; B &lt;Sp. z o.o.&gt; &quot;Róża&quot; &apos;24h&apos;</Say>');
    expect(twiml).toContain(`recordingStatusCallback="${BASE}/recording?tenant=acme&amp;x=&quot;1&quot;"`);
    expect(twiml).toContain(`action="${BASE}/record-action?a=1&amp;b=&lt;2&gt;"`);
    expect(twiml.match(/<Say /g)).toHaveLength(2);
    assertWellFormed(twiml);
  });

  it('should always set the record action, so Twilio never re-requests the greeting', () => {
    // Prepare, Act
    const twiml = voiceGreetingTwiml(polish);

    // Assess
    expect(twiml).toMatch(/<Record [^>]*action="https:\/\/[^"]+record-action[^"]*"/);
    expect(twiml.split('<Record ')).toHaveLength(2);
  });

  it.each([
    ['recordAction', ''],
    ['recordAction', '/webhooks/twilio/record-action'],
    ['recordingStatusCallback', 'recording'],
    ['transcribeCallback', 'ftp://hooks.switchboard.example/t'],
  ])('should refuse a %s that is not an absolute http(s) URL (%j)', (name, value) => {
    // Prepare
    const options = { ...polish, locale: 'en' as const, [name]: value };

    // Act
    const act = () => voiceGreetingTwiml(options);

    // Assess
    expect(act).toThrow(new RegExp(name));
  });

  it.each([1, 0, 60.5, 14_401, Number.NaN])('should refuse maxLengthSeconds %s', (maxLengthSeconds) => {
    // Prepare, Act
    const act = () => voiceGreetingTwiml({ ...polish, maxLengthSeconds });

    // Assess
    expect(act).toThrow(/maxLengthSeconds/);
  });

  it('should export the default voices and closings per locale for configuration', () => {
    // Prepare, Act, Assess
    expect(TWILIO_SAY_VOICES).toEqual({
      pl: { language: 'pl-PL', voice: 'Polly.Ola-Neural' },
      en: { language: 'en-GB', voice: 'Polly.Amy-Neural' },
    });
    expect(Object.keys(NOTHING_RECORDED).sort()).toEqual(['en', 'pl']);
  });
});

describe('voiceRecordedTwiml', () => {
  it('should thank the caller and hang up', () => {
    // Prepare, Act
    const twiml = voiceRecordedTwiml({
      locale: 'pl',
      sentence: 'Dziękujemy, wiadomość nagrana. Do usłyszenia!',
    });

    // Assess
    expect(twiml).toBe(
      `${DECLARATION}<Response>` +
        '<Say language="pl-PL" voice="Polly.Ola-Neural">Dziękujemy, wiadomość nagrana. Do usłyszenia!</Say>' +
        '<Hangup/></Response>',
    );
    assertWellFormed(twiml);
  });

  it.each(['pl', 'en'] as const)(
    'should never record again (no loop back to the greeting) in %s',
    (locale) => {
      // Prepare, Act
      const twiml = voiceRecordedTwiml({ locale, sentence: 'Thank you <& goodbye>' });

      // Assess
      expect(twiml).not.toContain('<Record');
      expect(twiml).not.toContain('<Redirect');
      expect(twiml).not.toContain('<Gather');
      expect(twiml).toContain('Thank you &lt;&amp; goodbye&gt;</Say><Hangup/></Response>');
      assertWellFormed(twiml);
    },
  );
});

describe('assertWellFormed', () => {
  it.each([
    ['an unclosed element', `${DECLARATION}<Response><Say>x</Response>`],
    ['a raw ampersand', `${DECLARATION}<Response><Say>A & B</Say></Response>`],
    ['an unquoted attribute', `${DECLARATION}<Response><Say voice=x>y</Say></Response>`],
    ['two roots', `${DECLARATION}<Response/><Response/>`],
    ['a raw < in an attribute', `${DECLARATION}<Response><Record action="a<b"/></Response>`],
  ])('should catch %s', (_case, xml) => {
    // Prepare, Act
    const act = () => assertWellFormed(xml);

    // Assess
    expect(act).toThrow();
  });
});
