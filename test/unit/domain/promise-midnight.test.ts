import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CONFIG, parseBusinessConfig } from '#lib/domain/business-config.ts';
import { computePromise } from '#lib/domain/promise.ts';
import { composeAck } from '#lib/domain/texts/index.ts';

const ZONE = 'Europe/Warsaw';
const warsaw = (local: string) => DateTime.fromISO(local, { zone: ZONE }).toJSDate();

describe('a promise due at midnight', () => {
  // An evening desk, open until midnight (24:00 is an allowed end, "a day can run to midnight").
  const EVENINGS = ['16:00-24:00'];
  const config = parseBusinessConfig({
    ...DEFAULT_BUSINESS_CONFIG,
    hours: { mon: EVENINGS, tue: EVENINGS, wed: EVENINGS, thu: EVENINGS, fri: EVENINGS, sat: [], sun: [] },
    promise: {
      ...DEFAULT_BUSINESS_CONFIG.promise,
      targets: { ...DEFAULT_BUSINESS_CONFIG.promise.targets, sms: 6 },
    },
  });

  it('should tell the customer the reply is due tonight, not "tomorrow by midnight"', () => {
    // Prepare: Monday 30 November 2026, 18:00; six working hours end at the 24:00 closing
    const now = warsaw('2026-11-30T18:00');
    const promise = computePromise(config, { receivedAt: now, channel: 'sms' });
    expect(promise.replyBy).toBe('2026-12-01T00:00:00.000+01:00');

    // Act
    const en = composeAck(config, { locale: 'en', channel: 'email', now, promise });
    const pl = composeAck(config, { locale: 'pl', channel: 'email', now, promise });

    // Assess: "tomorrow by midnight" reads as the end of Tuesday, 24 hours after the real promise
    expect(en.subject).not.toContain('tomorrow by midnight');
    expect(en.subject).toBe("We'll reply today by midnight");
    expect(pl.subject).not.toContain('jutro do 0:00');
  });
});
