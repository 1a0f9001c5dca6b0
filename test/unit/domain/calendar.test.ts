import { DateTime, Settings } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  type BusinessConfigInput,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import {
  businessCalendar,
  CalendarError,
  closureAt,
  personCalendar,
  staffedCalendar,
} from '#lib/domain/calendar.ts';

const ZONE = 'Europe/Warsaw';
const warsaw = (local: string) => DateTime.fromISO(local, { zone: ZONE }).toJSDate();
const local = (at: Date) => DateTime.fromJSDate(at, { zone: ZONE }).toISO({ suppressMilliseconds: true });

function configWith(patch: Partial<BusinessConfigInput>) {
  return parseBusinessConfig({ ...DEFAULT_BUSINESS_CONFIG, ...patch });
}

describe('the public holidays from date-holidays', () => {
  it.each([
    ['2025-12-24T12:00', 'Wigilia Bożego Narodzenia'],
    ['2026-12-24T12:00', 'Wigilia Bożego Narodzenia'],
    ['2024-12-24T12:00', null],
    ['2026-12-25T12:00', 'Pierwszy dzień Bożego Narodzenia'],
    ['2027-03-29T12:00', 'Drugi dzień Wielkanocy'],
    ['2026-11-11T00:00', 'Narodowe Święto Niepodległości'],
    ['2026-11-12T00:00', null],
    ['2026-02-14T12:00', null],
  ])('should give %s as %j in Poland', (at, expected) => {
    // Act
    const closure = closureAt(DEFAULT_BUSINESS_CONFIG, warsaw(at));

    // Assess
    expect(closure).toBe(expected);
  });

  it('should close only the afternoon of a part-day holiday (Heiligabend in Bavaria)', () => {
    // Prepare
    const calendar = businessCalendar(
      configWith({ timeZone: 'Europe/Berlin', holidays: { country: 'DE', state: 'BY' } }),
    );
    const berlin = (at: string) => DateTime.fromISO(at, { zone: 'Europe/Berlin' }).toJSDate();

    // Act
    const morning = calendar.isOpen(berlin('2026-12-24T11:00'));
    const afternoon = calendar.isOpen(berlin('2026-12-24T15:00'));

    // Assess
    expect(morning).toBe(true);
    expect(afternoon).toBe(false);
  });
});

describe('businessCalendar', () => {
  const calendar = businessCalendar(DEFAULT_BUSINESS_CONFIG);

  it.each([
    ['2026-11-30T09:00', true, 'the opening instant'],
    ['2026-11-30T12:00', true, 'a working Monday'],
    ['2026-11-30T16:59', true, 'a minute before closing'],
    ['2026-11-30T17:00', false, 'the closing instant'],
    ['2026-11-30T08:59', false, 'before opening'],
    ['2026-11-28T12:00', false, 'a Saturday'],
    ['2026-11-29T12:00', false, 'a Sunday'],
    ['2026-11-11T12:00', false, 'Independence Day'],
    ['2026-12-24T12:00', false, 'Christmas Eve'],
    ['2027-03-29T12:00', false, 'Easter Monday 2027'],
    ['2026-03-30T09:00', true, 'the Monday after the spring DST change'],
    ['2026-10-26T16:59', true, 'the Monday after the autumn DST change'],
  ])('should say open at %s is %s (%s)', (at, expected) => {
    // Act
    const open = calendar.isOpen(warsaw(at));

    // Assess
    expect(open).toBe(expected);
  });

  it.each([
    ['2026-11-30T10:00', '2026-11-30T10:00:00+01:00'],
    ['2026-11-27T17:00', '2026-11-30T09:00:00+01:00'],
    ['2026-11-28T12:00', '2026-11-30T09:00:00+01:00'],
    ['2026-12-23T17:00', '2026-12-28T09:00:00+01:00'],
    ['2026-12-31T17:00', '2027-01-04T09:00:00+01:00'],
    ['2027-03-26T17:00', '2027-03-30T09:00:00+02:00'],
    ['2026-10-23T17:00', '2026-10-26T09:00:00+01:00'],
  ])('should find the next opening after %s at %s', (at, expected) => {
    // Act
    const opening = calendar.nextOpening(warsaw(at));

    // Assess
    expect(local(opening)).toBe(expected);
  });

  it.each([
    ['2026-11-27T16:30', 12, '2026-12-01T12:30:00+01:00'],
    ['2026-11-30T09:00', 8, '2026-11-30T17:00:00+01:00'],
    ['2026-11-30T07:00', 1, '2026-11-30T10:00:00+01:00'],
    ['2026-11-28T12:00', 0, '2026-11-30T09:00:00+01:00'],
    ['2026-03-27T16:00', 2, '2026-03-30T10:00:00+02:00'],
    ['2026-10-23T16:00', 2, '2026-10-26T10:00:00+01:00'],
    ['2026-12-23T16:00', 12, '2026-12-29T12:00:00+01:00'],
    ['2026-11-30T10:07', 0.5, '2026-11-30T10:37:00+01:00'],
  ])('should add working hours from %s + %d h = %s', (from, hours, expected) => {
    // Act
    const end = calendar.addWorkingHours(warsaw(from), hours);

    // Assess
    expect(local(end)).toBe(expected);
  });

  it('should return the same calendar for the same config, so its caches are shared', () => {
    // Act
    const again = businessCalendar(DEFAULT_BUSINESS_CONFIG);

    // Assess
    expect(again).toBe(calendar);
  });
});

describe('a calendar with several ranges a day, closures and special openings', () => {
  const config = configWith({
    hours: {
      mon: ['09:00-12:00', '13:00-17:00'],
      tue: ['09:00-17:00'],
      wed: ['09:00-17:00'],
      thu: ['09:00-17:00'],
      fri: ['09:00-17:00'],
    },
    closures: [
      { from: '2026-08-10', to: '2026-08-14', reason: 'Urlop firmowy' },
      { from: '2026-12-01T12:00', to: '2026-12-01T14:00', reason: 'Szkolenie' },
      { from: '2026-12-12', to: '2026-12-12', reason: 'Inwentaryzacja' },
    ],
    openings: [
      { date: '2026-12-19', hours: ['10:00-14:00'], reason: 'Sobota przed świętami' },
      { date: '2026-11-11', hours: ['10:00-12:00'] },
      { date: '2026-12-12', hours: ['10:00-14:00'] },
    ],
  });
  const calendar = businessCalendar(config);

  it.each([
    ['2026-11-30T12:30', false, 'the lunch break'],
    ['2026-11-30T13:00', true, 'the afternoon range'],
    ['2026-08-12T10:00', false, 'inside a closure of dates'],
    ['2026-08-14T16:00', false, 'the last day of that closure'],
    ['2026-08-17T09:00', true, 'the day after it'],
    ['2026-12-01T11:59', true, 'just before a closure of hours'],
    ['2026-12-01T12:00', false, 'the start of that closure'],
    ['2026-12-01T14:00', true, 'its end'],
    ['2026-12-19T11:00', true, 'a special opening on a Saturday'],
    ['2026-12-19T15:00', false, 'after that opening'],
    ['2026-11-11T11:00', true, 'a special opening on a public holiday'],
    ['2026-11-11T13:00', false, 'the holiday outside that opening'],
    ['2026-12-12T11:00', false, 'an opening that a closure overrides'],
  ])('should say open at %s is %s (%s)', (at, expected) => {
    // Act
    const open = calendar.isOpen(warsaw(at));

    // Assess
    expect(open).toBe(expected);
  });

  it('should skip the lunch break when adding working hours', () => {
    // Act
    const end = calendar.addWorkingHours(warsaw('2026-11-30T11:00'), 2);

    // Assess
    expect(local(end)).toBe('2026-11-30T14:00:00+01:00');
  });

  it('should name the closure covering a moment', () => {
    // Act
    const reason = closureAt(config, warsaw('2026-12-01T13:00'));

    // Assess
    expect(reason).toBe('Szkolenie');
  });

  it('should list the working intervals between two moments', () => {
    // Act
    const intervals = calendar.intervalsBetween(warsaw('2026-11-30T10:00'), warsaw('2026-12-01T13:00'));

    // Assess
    expect(intervals.map((i) => [local(new Date(i.start)), local(new Date(i.end))])).toEqual([
      ['2026-11-30T09:00:00+01:00', '2026-11-30T12:00:00+01:00'],
      ['2026-11-30T13:00:00+01:00', '2026-11-30T17:00:00+01:00'],
      ['2026-12-01T09:00:00+01:00', '2026-12-01T12:00:00+01:00'],
    ]);
  });
});

describe('a day running to midnight across the autumn DST change', () => {
  it('should count the extra hour of the long night', () => {
    // Prepare
    const calendar = businessCalendar(
      configWith({ hours: { sat: ['20:00-24:00'], sun: ['00:00-04:00'] }, holidays: { country: 'PL' } }),
    );

    // Act
    const end = calendar.addWorkingHours(warsaw('2026-10-24T20:00'), 8);

    // Assess
    expect(local(end)).toBe('2026-10-25T03:00:00+01:00');
  });
});

describe('a midnight that happens twice (America/Havana, DST ends at 01:00 on 1 November 2026)', () => {
  // Cuba falls back from 01:00 to 00:00, so 00:00-01:00 of Sunday 1 November happens twice.
  // luxon resolves such a local time with the offset in force *now*: the calendar must not
  // depend on the date the process builds it on (here December, on the second offset).
  const EVERY_DAY = (ranges: string[]) =>
    Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ranges]));
  const havana = (patch: Partial<BusinessConfigInput>) =>
    configWith({ timeZone: 'America/Havana', holidays: { country: 'CU' }, ...patch });
  const FIRST_PASS = new Date('2026-11-01T04:30:00Z'); // 00:30-04:00
  const SECOND_PASS = new Date('2026-11-01T05:30:00Z'); // 00:30-05:00
  let realNow: () => number;
  beforeEach(() => {
    realNow = Settings.now;
    Settings.now = () => Date.parse('2026-12-01T12:00:00Z');
  });
  afterEach(() => {
    Settings.now = realNow;
  });

  it('should keep a 24/7 desk open through the repeated midnight hour when DST ends (America/Havana), whatever today is', () => {
    // Prepare: the desk works 00:00-24:00 every day, so it is never closed
    const config = havana({ hours: EVERY_DAY(['00:00-24:00']) });

    // Act: 00:30 of the first pass (-04:00), after Saturday's 24:00 and before the fall-back
    const open = businessCalendar(config).isOpen(FIRST_PASS);

    // Assess: Sunday's 00:00-24:00 starts at the first 00:00, where Saturday's ends
    expect(open).toBe(true);
  });

  it('should start a closure dated that Sunday at its first midnight, whatever today is', () => {
    // Prepare
    const config = havana({
      hours: EVERY_DAY(['00:00-24:00']),
      closures: [{ from: '2026-11-01', to: '2026-11-01', reason: 'Inwentaryzacja' }],
    });

    // Act
    const closed = [FIRST_PASS, SECOND_PASS].map((at) => closureAt(config, at));

    // Assess: the whole Sunday, and not a minute of Saturday or Monday
    expect(closed).toEqual(['Inwentaryzacja', 'Inwentaryzacja']);
    expect(businessCalendar(config).isOpen(FIRST_PASS)).toBe(false);
    expect(closureAt(config, new Date('2026-11-01T03:59:00Z'))).toBeNull(); // Saturday 23:59
    expect(closureAt(config, new Date('2026-11-02T04:59:00Z'))).toBe('Inwentaryzacja'); // Sunday 23:59
    expect(closureAt(config, new Date('2026-11-02T05:00:00Z'))).toBeNull(); // Monday 00:00
  });

  it('should give a day its intervals from the first midnight, however it is asked for', () => {
    // Prepare
    const config = havana({ hours: EVERY_DAY(['00:00-24:00']) });

    // Act
    const [sunday] = businessCalendar(config).intervalsOn('2026-11-01');

    // Assess
    expect(sunday?.start).toBe(Date.parse('2026-11-01T04:00:00Z'));
  });
});

describe('closures on a desk that works around midnight', () => {
  it('should close a date from its local midnight to the next, and a local time at that time', () => {
    // Prepare
    const config = configWith({
      hours: Object.fromEntries(
        ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
      ),
      closures: [
        { from: '2026-12-28', to: '2026-12-28', reason: 'Inwentaryzacja' },
        { from: '2026-12-30T22:30', to: '2026-12-31T01:15', reason: 'Migracja' },
      ],
    });
    const calendar = businessCalendar(config);

    // Act
    const open = [
      '2026-12-27T23:59',
      '2026-12-28T00:00',
      '2026-12-28T23:59',
      '2026-12-29T00:00',
      '2026-12-30T22:29',
      '2026-12-30T22:30',
      '2026-12-31T01:14',
      '2026-12-31T01:15',
    ].map((at) => calendar.isOpen(warsaw(at)));

    // Assess
    expect(open).toEqual([true, false, false, true, true, false, false, true]);
  });
});

describe('personCalendar and staffedCalendar', () => {
  const config = configWith({
    hours: { mon: ['08:00-18:00'], sat: ['10:00-14:00'] },
    openings: [{ date: '2026-12-19', hours: ['10:00-14:00'], people: ['piotr'] }],
    people: {
      default: 'anna',
      rota: [
        { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', hours: { mon: ['08:00-12:00'] } },
        {
          id: 'piotr',
          name: 'Piotr Nowak',
          email: 'piotr.nowak@example.com',
          hours: { mon: ['14:00-20:00'] },
        },
      ],
    },
  });

  it.each([
    ['anna', '2026-11-30T09:00', true],
    ['anna', '2026-11-30T13:00', false],
    ['piotr', '2026-11-30T15:00', true],
    ['piotr', '2026-11-30T19:00', false],
    ['anna', '2026-11-28T11:00', false],
    ['anna', '2026-12-19T11:00', false],
    ['piotr', '2026-12-19T11:00', true],
  ])('should say %s is on duty at %s: %s', (id, at, expected) => {
    // Act
    const onDuty = personCalendar(config, id).isOpen(warsaw(at));

    // Assess
    expect(onDuty).toBe(expected);
  });

  it('should staff only the time someone is on duty within business hours', () => {
    // Act
    const intervals = staffedCalendar(config).intervalsOn('2026-11-30');

    // Assess
    expect(intervals.map((i) => [local(new Date(i.start)), local(new Date(i.end))])).toEqual([
      ['2026-11-30T08:00:00+01:00', '2026-11-30T12:00:00+01:00'],
      ['2026-11-30T14:00:00+01:00', '2026-11-30T18:00:00+01:00'],
    ]);
  });

  it('should refuse a person who is not on the rota', () => {
    // Act
    const act = () => personCalendar(config, 'bob');

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('a calendar with no working time', () => {
  it('should fail with CalendarError rather than search forever', () => {
    // Prepare: parseBusinessConfig refuses a closure this long; a config built in code is not parsed
    const config: BusinessConfig = {
      ...DEFAULT_BUSINESS_CONFIG,
      closures: [{ from: '2026-01-01', to: '2029-12-31', reason: 'Zamknięte' }],
    };

    // Act
    const act = () => businessCalendar(config).nextOpening(warsaw('2026-06-01T10:00'));

    // Assess
    expect(act).toThrow(CalendarError);
    expect(act).toThrow(expect.objectContaining({ code: 'CALENDAR_NO_WORKING_TIME' }));
  });
});
