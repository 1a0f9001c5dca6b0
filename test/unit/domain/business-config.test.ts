import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  BusinessConfigError,
  type BusinessConfigInput,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import { businessCalendar } from '#lib/domain/calendar.ts';
import { computePromise } from '#lib/domain/promise.ts';

const MINIMAL = {
  timeZone: 'Europe/Warsaw',
  hours: { mon: ['09:00-17:00'] },
  people: { default: 'anna', rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67' }] },
};

function problemsOf(input: unknown): readonly string[] {
  try {
    parseBusinessConfig(input);
  } catch (error) {
    if (error instanceof BusinessConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseBusinessConfig', () => {
  it('should take a reply template per locale, and refuse at start one no provider could send, naming its path', () => {
    // Prepare
    const templates = {
      pl: {
        meta: { name: 'odpowiedz_konsultanta', language: 'pl' },
        twilio: { contentSid: `HX${'a'.repeat(32)}` },
      },
      en: { meta: { name: 'agent_reply', language: 'en_US' } },
    };

    // Act
    const config = parseBusinessConfig({ ...MINIMAL, whatsapp: { replyTemplates: templates } });
    const problems = problemsOf({
      ...MINIMAL,
      whatsapp: {
        replyTemplates: {
          pl: { meta: { name: 'Odpowiedź', language: 'polish' } },
          en: { twilio: { contentSid: 'MG123' } },
          de: { meta: { name: 'antwort', language: 'de' } },
        },
      },
    });
    const empty = problemsOf({ ...MINIMAL, whatsapp: { replyTemplates: { pl: {} } } });

    // Assess
    expect(config.whatsapp.replyTemplates).toEqual(templates);
    expect(problems).toEqual(
      expect.arrayContaining([
        'whatsapp.replyTemplates.pl.meta.name: must be lower-case letters, digits or _',
        'whatsapp.replyTemplates.pl.meta.language: must be a WhatsApp language code such as pl or en_US',
        'whatsapp.replyTemplates.en.twilio.contentSid: must be a Content SID (HX and 32 hex digits)',
        expect.stringMatching(/^whatsapp\.replyTemplates: .*"de"/),
      ]),
    );
    expect(empty).toEqual(['whatsapp.replyTemplates.pl: needs meta (name, language) or twilio (contentSid)']);
  });

  it('should parse the shipped switchboard.config.json to DEFAULT_BUSINESS_CONFIG', () => {
    // Prepare
    const shipped: unknown = JSON.parse(
      readFileSync(new URL('../../../switchboard.config.json', import.meta.url), 'utf8'),
    );

    // Act
    const parsed = parseBusinessConfig(shipped);

    // Assess
    expect(parsed).toEqual(DEFAULT_BUSINESS_CONFIG);
  });

  it('should fill every default from a minimal config', () => {
    // Act
    const config = parseBusinessConfig(MINIMAL);

    // Assess
    expect(config.defaultLocale).toBe('pl');
    expect(config.hours).toEqual({
      mon: ['09:00-17:00'],
      tue: [],
      wed: [],
      thu: [],
      fri: [],
      sat: [],
      sun: [],
    });
    expect(config.holidays).toEqual({ country: 'PL', types: ['public', 'bank'] });
    expect(config.closures).toEqual([]);
    expect(config.whatsapp).toEqual({ replyTemplates: {} });
    expect(config.openings).toEqual([]);
    expect(config.promise).toEqual({
      targets: { sms: 12, mms: 12, whatsapp: 12, voice: 12, messenger: 12, instagram: 12, email: 12 },
      capHours: 24,
      hoursAfterReturn: 1,
      roundToMinutes: 15,
    });
    expect(config.ack).toEqual({
      selfHelpUrl: null,
      smsTransliterate: false,
      voiceSms: 'mobile',
      quietMinutesAfterReply: 10,
      minutesBetweenAcks: 60,
    });
  });

  it.each([
    ['a day running to midnight', { hours: { mon: ['16:00-24:00'] } }],
    ['several ranges a day', { hours: { mon: ['09:00-12:00', '13:00-17:00'] } }],
    ['a date closure', { closures: [{ from: '2026-08-10', to: '2026-08-14', reason: 'Urlop' }] }],
    ['a date-time closure', { closures: [{ from: '2026-11-30T12:00', to: '2026-11-30T14:00' }] }],
    [
      'an opening with people',
      { openings: [{ date: '2026-12-19', hours: ['10:00-14:00'], people: ['anna'] }] },
    ],
    ['a state and region', { holidays: { country: 'DE', state: 'BY', region: 'A' } }],
    ['a self-help link', { ack: { selfHelpUrl: 'https://example.com/pomoc', smsTransliterate: true } }],
    ['UTC as the time zone', { timeZone: 'UTC' }],
    ['Etc/UTC as the time zone', { timeZone: 'Etc/UTC' }],
    ['a zone alias', { timeZone: 'Europe/Kiev' }],
    ['a closure of a whole year', { closures: [{ from: '2026-01-01', to: '2026-12-31' }] }],
    [
      'a person on duty only part of the opening hours',
      {
        people: {
          default: 'anna',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1', hours: { mon: ['16:00-20:00'] } }],
        },
      },
    ],
    [
      'a person whose name is their own id',
      { people: { default: 'ewa', rota: [{ id: 'ewa', name: 'Ewa', phone: '1' }] } },
    ],
  ])('should accept %s', (_name, patch) => {
    // Act
    const act = () => parseBusinessConfig({ ...MINIMAL, ...patch });

    // Assess
    expect(act).not.toThrow();
  });

  it.each([
    [{ timeZone: 'Europe/Nowhere' }, 'timeZone: "Europe/Nowhere" is not an IANA time zone'],
    [{ hours: { mon: ['9:00-17:00'] } }, 'hours.mon[0]: "9:00-17:00" is not HH:MM-HH:MM'],
    [{ hours: { tue: ['17:00-09:00'] } }, 'hours.tue[0]: "17:00-09:00" does not end after it starts'],
    [
      { hours: { wed: ['09:00-17:00', '12:00-18:00'] } },
      'hours.wed[1]: "12:00-18:00" overlaps "09:00-17:00"',
    ],
    [{ hours: { thu: ['24:00-24:30'] } }, 'hours.thu[0]: "24:00-24:30" is not a valid time'],
    [{ hours: { sat: [] } }, 'hours: at least one day needs opening hours'],
    [{ hours: { mon: ['09:00-17:00'], monday: [] } }, 'hours: Unrecognized key: "monday"'],
    [{ holidays: { country: 'XX' } }, 'holidays.country: "XX" is not a country date-holidays knows'],
    [{ holidays: { country: 'DE', state: 'ZZ' } }, 'holidays.state: "ZZ" is not a state of DE'],
    [
      { closures: [{ from: '2026-12-24', to: '2026-12-20' }] },
      'closures[0].to: "2026-12-20" is not after "2026-12-24"',
    ],
    [
      { closures: [{ from: '2026-12-24', to: '2026-12-24T12:00' }] },
      'closures[0].to: from and to must both be dates or both date-times',
    ],
    [
      { closures: [{ from: '2026-02-30', to: '2026-03-01' }] },
      'closures[0].from: "2026-02-30" is not YYYY-MM-DD or YYYY-MM-DDTHH:MM',
    ],
    [
      { openings: [{ date: '2026-12-19', hours: ['10:00-14:00'], people: ['bob'] }] },
      'openings[0].people[0]: "bob" is not on the rota',
    ],
    [
      {
        openings: [
          { date: '2026-12-19', hours: ['10:00-14:00'] },
          { date: '2026-12-19', hours: ['15:00-16:00'] },
        ],
      },
      'openings[1].date: "2026-12-19" already has an opening',
    ],
    [{ promise: { targets: { sms: 0 } } }, 'promise.targets.sms: Too small: expected number to be >0'],
    [{ promise: { targets: { fax: 3 } } }, 'promise.targets: Unrecognized key: "fax"'],
    [{ promise: { capHours: 0 } }, 'promise.capHours: Too small: expected number to be >0'],
    [{ promise: { capHours: 169 } }, 'promise.capHours: Too big: expected number to be <=168'],
    [{ promise: { roundToMinutes: 7 } }, 'promise.roundToMinutes: must divide 60'],
    [
      { people: { default: 'bob', rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }] } },
      'people.default: "bob" is not on the rota (anna)',
    ],
    [
      { people: { default: 'anna', rota: [{ id: 'anna', name: 'Anna Kowalska' }] } },
      'people.rota[0]: needs a phone or an email so customers can reach the signer directly',
    ],
    [
      { people: { default: 'bok', rota: [{ id: 'bok', name: 'Zespół obsługi klienta', phone: '1' }] } },
      'people.rota[0].name: "Zespół obsługi klienta" is not a person\'s name',
    ],
    [
      { people: { default: 'bok', rota: [{ id: 'bok', name: 'Customer Support Team', phone: '1' }] } },
      'people.rota[0].name: "Customer Support Team" is not a person\'s name',
    ],
    [
      {
        people: {
          default: 'anna',
          rota: [
            { id: 'anna', name: 'Anna Kowalska', phone: '1' },
            { id: 'anna', name: 'Anna Nowak', phone: '2' },
          ],
        },
      },
      'people.rota[1].id: "anna" is on the rota twice',
    ],
    // Found at stop 25: the people who sign a reply without being on the rota.
    [
      {
        people: {
          default: 'anna',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }],
          agents: [{ id: 'zofia', name: 'Zofia Zielińska' }],
        },
      },
      'people.agents[0]: needs a phone or an email so customers can reach the signer directly',
    ],
    [
      {
        people: {
          default: 'anna',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }],
          agents: [{ id: 'anna', name: 'Anna Nowak', phone: '2' }],
        },
      },
      'people.agents[0].id: "anna" is listed twice',
    ],
    [
      {
        people: {
          default: 'anna',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }],
          agents: [{ id: 'ania', name: ' anna  KOWALSKA', phone: '2' }],
        },
      },
      'people.agents[0].name: "Anna Kowalska" is listed twice: a key naming them could sign with either contact',
    ],
    // Found at stop 25: a key with agentName "Ewa" signed as Ewa Nowak (id "ewa"), not as the agent Ewa.
    [
      {
        people: {
          default: 'ewa',
          rota: [{ id: 'ewa', name: 'Ewa Nowak', phone: '22 111 11 11' }],
          agents: [{ id: 'ewa-k', name: 'Ewa', email: 'ewa.kowalska@example.com' }],
        },
      },
      'people.agents[0].name: "Ewa" is also the id of Ewa Nowak: a key naming "Ewa" could sign as either; list them by a fuller name',
    ],
    [
      {
        people: {
          default: 'ewa-k',
          rota: [
            { id: 'ewa-k', name: ' EWA ', email: 'ewa.kowalska@example.com' },
            { id: 'ewa', name: 'Ewa Nowak', phone: '22 111 11 11' },
          ],
        },
      },
      'people.rota[0].name: "EWA" is also the id of Ewa Nowak: a key naming "EWA" could sign as either; list them by a fuller name',
    ],
    [
      {
        people: {
          default: 'zofia',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }],
          agents: [{ id: 'zofia', name: 'Zofia Zielińska', phone: '2' }],
        },
      },
      'people.default: "zofia" is not on the rota (anna)',
    ],
    [
      {
        people: {
          default: 'anna',
          rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '1' }],
          agents: [{ id: 'zofia', name: 'Zofia Zielińska', phone: '2', hours: { mon: ['09:00-17:00'] } }],
        },
      },
      'people.agents[0]: Unrecognized key: "hours"',
    ],
    [{ ack: { selfHelpUrl: 'ftp://example.com' } }, 'ack.selfHelpUrl: Invalid URL'],
    [
      { timeZone: '-05:00' },
      'timeZone: "-05:00" is a UTC offset, not an IANA time zone such as Europe/Warsaw (an offset knows no daylight saving time)',
    ],
    [
      { timeZone: '+0100' },
      'timeZone: "+0100" is a UTC offset, not an IANA time zone such as Europe/Warsaw (an offset knows no daylight saving time)',
    ],
    [{ timeZone: 'UTC+1' }, 'timeZone: "UTC+1" is not an IANA time zone'],
    [
      { closures: [{ from: '2026-12-21', to: '2029-01-03', reason: 'Boże Narodzenie' }] },
      'closures[0].to: "2029-01-03" closes the business for 745 days in a row, at most 366 (is the year right?)',
    ],
    [
      {
        closures: [
          { from: '2027-06-01', to: '2028-01-10' },
          { from: '2026-12-01', to: '2027-05-31' },
        ],
      },
      'closures[0].to: "2028-01-10" closes the business for 406 days in a row, at most 366 (is the year right?)',
    ],
    [{ promise: { targets: { email: 169 } } }, 'promise.targets.email: Too big: expected number to be <=168'],
    [
      {
        hours: { mon: ['09:00-09:15'] },
        promise: { targets: { email: 8 } },
      },
      "promise.targets.email: 8 working hours take more than 26 weeks of the rota's 0.25 staffed hours a week",
    ],
    [
      {
        people: {
          default: 'anna',
          rota: [
            { id: 'anna', name: 'Anna Kowalska', phone: '1', hours: { sat: ['09:00-17:00'] } },
            { id: 'ewa', name: 'Ewa Nowak', phone: '2', hours: { mon: ['06:00-09:00', '17:00-20:00'] } },
          ],
        },
      },
      "people.rota: nobody on the rota is ever on duty within the opening hours (hours): each person's hours must overlap them on some day of the week",
    ],
  ])('should reject %j naming the path and reason', (patch, problem) => {
    // Act
    const problems = problemsOf({ ...MINIMAL, ...patch });

    // Assess
    expect(problems).toContain(problem);
  });

  it('should report every problem in one error with a stable code', () => {
    // Prepare
    const input = {
      ...MINIMAL,
      timeZone: 'Mars/Olympus',
      hours: { mon: ['9-17'] },
      promise: { capHours: -1 },
    };

    // Act
    const act = () => parseBusinessConfig(input);

    // Assess
    expect(act).toThrow(BusinessConfigError);
    try {
      act();
    } catch (error) {
      const configError = error as BusinessConfigError;
      expect(configError.code).toBe('BUSINESS_CONFIG_INVALID');
      expect(configError.problems).toHaveLength(3);
      expect(configError.message).toContain('hours.mon[0]: "9-17" is not HH:MM-HH:MM');
      expect(configError.message).toContain('timeZone: "Mars/Olympus" is not an IANA time zone');
      expect(configError.message).toContain('promise.capHours');
    }
  });

  it('should reject input that is not an object', () => {
    // Act
    const problems = problemsOf('switchboard');

    // Assess
    expect(problems).toEqual(['Invalid input: expected object, received string']);
  });
});

/** The shipped config with `patch`, or null when validation refused it (as it should). */
function acceptedConfig(patch: Partial<BusinessConfigInput>): BusinessConfig | null {
  try {
    return parseBusinessConfig({ ...DEFAULT_BUSINESS_CONFIG, ...patch });
  } catch (error) {
    expect(error).toBeInstanceOf(BusinessConfigError);
    return null;
  }
}

const EVERY_DAY = (ranges: string[]) =>
  Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ranges]));

// Found by a review of the developer's experience at stop 23: each was accepted, then every
// promise threw CalendarError (a 500 on every webhook) or the holidays fell in UTC.
describe('parseBusinessConfig on calendars that cannot keep a promise', () => {
  it('should refuse a rota whose duty hours never meet the opening hours, instead of failing every promise', () => {
    // Prepare: opening hours Monday to Friday (the shipped ones); the only person on the rota
    // works Saturdays. Each part is valid on its own; together nobody is ever on duty.
    const patch = {
      people: {
        default: 'anna',
        rota: [{ id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', hours: { sat: ['09:00-17:00'] } }],
      },
    };

    // Act
    const config = acceptedConfig(patch);

    // Assess: refused at start-up naming the rota; had it been accepted, an ordinary
    // Wednesday-morning SMS would have to get a promise
    expect(problemsOf({ ...DEFAULT_BUSINESS_CONFIG, ...patch })).toEqual([
      "people.rota: nobody on the rota is ever on duty within the opening hours (hours): each person's hours must overlap them on some day of the week",
    ]);
    if (config === null) return;
    const at = DateTime.fromISO('2026-11-25T10:00', { zone: 'Europe/Warsaw' }).toJSDate();
    expect(() => computePromise(config, { receivedAt: at, channel: 'sms' })).not.toThrow();
  });

  it('should not accept a UTC offset as the time zone and then put the public holidays in UTC', () => {
    // Prepare: "+01:00" passes the "IANA time zone" check (Intl takes offsets), but
    // date-holidays (moment-timezone) does not know it and computes the holidays in UTC.
    const patch = { timeZone: '+01:00', hours: EVERY_DAY(['00:00-24:00']) };

    // Act
    const config = acceptedConfig(patch);

    // Assess: refused; had it been accepted, 00:30 local time on Independence Day (11
    // November, a public holiday all day) would have to be closed
    expect(problemsOf({ ...DEFAULT_BUSINESS_CONFIG, ...patch })).toEqual([
      'timeZone: "+01:00" is a UTC offset, not an IANA time zone such as Europe/Warsaw (an offset knows no daylight saving time)',
    ]);
    if (config === null) return;
    expect(businessCalendar(config).isOpen(new Date('2026-11-11T00:30:00+01:00'))).toBe(false);
  });
});
