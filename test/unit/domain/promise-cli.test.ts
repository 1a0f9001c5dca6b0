import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliRun, PROJECT_ROOT, runCli } from '#test/support/cli.ts';

/** Runs the preview CLI as `npm run promise` would, with the repo's switchboard.config.json unless told. */
function run(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli('lib/local/promise-cli.ts', args, env);
}

describe('npm run promise', () => {
  it('should preview a Polish SMS sent just before Christmas, and its late notice', async () => {
    // Act
    const { code, stdout } = await run(['--at', '2026-12-23T16:40', '--channel', 'sms']);

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'Received    Wed 23 Dec 2026, 16:40 (2026-12-23T16:40:00+01:00) on sms, Europe/Warsaw',
      'Reply by    Mon 28 Dec 2026, 10:00 (2026-12-28T10:00:00+01:00)',
      'Target      12 working hours, capped',
      'Team away   until Mon 28 Dec 2026, 09:00 (2026-12-28T09:00:00+01:00)',
      'Signer      Anna Kowalska (anna), tel. 22 123 45 67, anna.kowalska@example.com',
      'Locale      pl, the business default',
      // 20 minutes before closing: the promise alone, never "we're back on Monday" while the team is in
      'Ack         sms, 2 SMS segments, UCS-2, 117 units',
      '    Dzień dobry, dostaliśmy Twoją wiadomość. Odpiszę najpóźniej w poniedziałek do 10:00.',
      '    Anna Kowalska, tel. 22 123 45 67',
      '',
      // Half an hour after the team is back, never before it (it was 08:30, from a person not at work yet)
      'Notice at   Mon 28 Dec 2026, 09:30 (2026-12-28T09:30:00+01:00), 30 min of working time before the promise',
      '  Reply by    Tue 29 Dec 2026, 09:30 (2026-12-29T09:30:00+01:00)',
      '  Target      12 working hours, capped',
      '  Team away   no',
      '  Signer      Anna Kowalska (anna), tel. 22 123 45 67, anna.kowalska@example.com',
      'Notice      sms, 2 SMS segments, UCS-2, 125 units',
      '    Dzień dobry, przepraszam, potrzebuję jeszcze trochę czasu. Odpiszę najpóźniej jutro do 9:30.',
      '    Anna Kowalska, tel. 22 123 45 67',
      '',
    ]);
  });

  it('should preview the SMS after a call as a promised call back, as the greeting says', async () => {
    // Act
    const { code, stdout } = await run(['--at', '2026-11-25T10:00', '--channel', 'voice']);

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'Ack         sms, 2 SMS segments, UCS-2, 105 units',
        '    Dzień dobry, dziękujemy za telefon. Oddzwonię najpóźniej jutro do 10:00.',
        '    Dzień dobry, przepraszam, potrzebuję jeszcze trochę czasu. Oddzwonię najpóźniej jutro do 9:30.',
      ]),
    );
  });

  it('should answer a message that clearly says otherwise in its own language, not the contact’s last one', async () => {
    // Act
    const { code, stdout } = await run([
      '--at',
      '2026-11-25T10:00',
      '--channel',
      'sms',
      '--locale',
      'en',
      '--text',
      'Dzień dobry, gdzie jest moja paczka?',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('Locale      pl, detected from --text');
  });

  it('should preview an English email on a Friday afternoon with subjects', async () => {
    // Act
    const { code, stdout } = await run(['--at', '2026-11-27T16:50', '--channel', 'email', '--locale', 'en']);

    // Assess
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Reply by    Mon 30 Nov 2026, 10:00 (2026-11-30T10:00:00+01:00)',
        "Locale      en, the contact's language, --locale",
        'Ack         email',
        "Subject     We'll reply on Monday by 10 am",
        "    Thanks for your message, it has reached us. We're here today until 5 pm, then back on Monday at 9 am, and I'll reply by 10 am.",
        'Notice at   Mon 30 Nov 2026, 09:30 (2026-11-30T09:30:00+01:00), 30 min of working time before the promise',
        'Notice      email',
        "Subject     Sorry for the wait: I'll reply tomorrow by 9:30 am",
        "    I'm sorry, I won't be able to reply today by 10 am as I promised: I need a little more time. I want to get your request right, and I'll reply tomorrow by 9:30 am.",
      ]),
    );
    expect(stdout).not.toContain('SMS segment');
  });

  it('should answer in the language it detects in the message', async () => {
    // Act
    const { code, stdout } = await run([
      '--at',
      '2027-03-27T10:00',
      '--channel',
      'whatsapp',
      '--text',
      'Hi, where is my order?',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'Received    Sat 27 Mar 2027, 10:00 (2027-03-27T10:00:00+01:00) on whatsapp, Europe/Warsaw',
        // Easter Monday, and the clocks changed on Sunday.
        'Reply by    Tue 30 Mar 2027, 10:00 (2027-03-30T10:00:00+02:00)',
        'Detected    en (confident) in "Hi, where is my order?"',
        'Locale      en, detected from --text',
        "    Hello, thanks for your message. We're out of the office now, back on Tuesday at 9 am, and I'll reply by 10 am.",
      ]),
    );
  });

  it('should read the config named by SWITCHBOARD_CONFIG, and an --at with an offset as absolute', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'promise-cli-'));
    const config = join(dir, 'london.json');
    await writeFile(
      config,
      JSON.stringify({
        timeZone: 'Europe/London',
        defaultLocale: 'en',
        hours: { mon: ['08:00-16:00'], tue: ['08:00-16:00'], wed: ['08:00-16:00'], thu: ['08:00-16:00'] },
        holidays: { country: 'GB' },
        people: { default: 'sam', rota: [{ id: 'sam', name: 'Sam Taylor', email: 'sam@example.co.uk' }] },
      }),
    );

    // Act
    const { code, stdout } = await run(['--at', '2026-11-30T16:50+01:00', '--channel', 'sms'], {
      SWITCHBOARD_CONFIG: config,
    });

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, 2)).toEqual([
      'Received    Mon 30 Nov 2026, 15:50 (2026-11-30T15:50:00+00:00) on sms, Europe/London',
      'Reply by    Tue 1 Dec 2026, 15:45 (2026-12-01T15:45:00+00:00)',
    ]);
    expect(stdout).toContain('    Sam Taylor, sam@example.co.uk');
    expect(stdout).toContain("If it's urgent, email me.");
  });

  it('should read a local --at that happens twice (clocks going back) as the first, whatever today is', async () => {
    // Prepare: Cuba falls back from 01:00 to 00:00 on Sunday 1 November 2026
    const dir = await mkdtemp(join(tmpdir(), 'promise-cli-'));
    const config = join(dir, 'havana.json');
    await writeFile(
      config,
      JSON.stringify({
        timeZone: 'America/Havana',
        hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] },
        holidays: { country: 'CU' },
        people: { default: 'ana', rota: [{ id: 'ana', name: 'Ana Pérez', phone: '7 123 4567' }] },
      }),
    );

    // Act
    const { code, stdout } = await run(['--at', '2026-11-01T00:30', '--channel', 'sms', '--config', config]);

    // Assess: -04:00, the first 00:30 (luxon alone guessed from the offset in force today)
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe(
      'Received    Sun 1 Nov 2026, 00:30 (2026-11-01T00:30:00-04:00) on sms, America/Havana',
    );
  });

  it.each([
    [
      'a bad --at',
      ['--at', '2026-12-32T10:00', '--channel', 'sms'],
      '--at "2026-12-32T10:00" is not a date-time',
    ],
    [
      'a date without a time',
      ['--at', '2026-12-23', '--channel', 'sms'],
      '--at "2026-12-23" is not a date-time',
    ],
    [
      'a bad --channel',
      ['--at', '2026-12-23T10:00', '--channel', 'fax'],
      '--channel "fax" is not one of sms, mms',
    ],
    ['no --channel', ['--at', '2026-12-23T10:00'], '--channel is required'],
    ['an unknown option', ['--channel', 'sms', '--when', 'now'], "Unknown option '--when'"],
  ])('should exit 2 with the usage for %s', async (_name, args, message) => {
    // Act
    const { code, stdout, stderr } = await run(args);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: npm run promise --');
  });

  // Found by a review of the developer's experience at stop 23: a stack trace.
  it('should exit 1 naming the closure, not with a stack trace, for a closure with a mistyped year', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'promise-cli-'));
    const config = JSON.parse(await readFile(join(PROJECT_ROOT, 'switchboard.config.json'), 'utf8'));
    const configPath = join(dir, 'switchboard.config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        ...config,
        closures: [{ from: '2026-12-21', to: '2029-01-03', reason: 'Christmas' }],
      }),
    );

    // Act
    const { code, stdout, stderr } = await run([
      '--at',
      '2026-12-22T10:00',
      '--channel',
      'sms',
      '--config',
      configPath,
    ]);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'Invalid business config:\n  - closures[0].to: "2029-01-03" closes the business for 745 days in a row, at most 366 (is the year right?)\n',
    );
  });

  it('should exit 1 naming a config file it cannot read', async () => {
    // Act
    const { code, stderr } = await run(['--channel', 'sms', '--config', '/nonexistent/switchboard.json']);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toBe('Cannot read SWITCHBOARD_CONFIG /nonexistent/switchboard.json: ENOENT\n');
  });
});
