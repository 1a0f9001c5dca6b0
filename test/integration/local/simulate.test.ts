import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#lib/local/paths.ts';
import { type StartedProcess, startNpmStart } from '#test/support/npm-start-process.ts';

type Ran = { code: number | null; output: string };

function childEnv(dataDir: string): NodeJS.ProcessEnv {
  // The dev SNS topic is used only when no real one is configured; signatures use the real URL.
  const { SES_TOPIC_ARNS: _topics, PUBLIC_URL: _publicUrl, ...inherited } = process.env;
  return {
    ...inherited,
    SWITCHBOARD_DATA_DIR: dataDir,
    NODE_ENV: 'development',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
}

/** What `child` writes, its stdout and stderr as they come, and its exit code once it ends. */
function ran(child: ChildProcessByStdio<null, Readable, Readable>): Promise<Ran> {
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

/** Runs `node lib/local/simulate.ts …` (what npm run simulate runs) to its end. */
function simulate(dataDir: string, args: string[]): Promise<Ran> {
  const child = spawn(process.execPath, ['lib/local/simulate.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: childEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return ran(child);
}

/** Runs one command line as a developer pastes it into a terminal. */
function shell(line: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const child = spawn('sh', ['-c', line], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return ran(child);
}

// One contact per channel: simulate shows the newest conversation, and phone channels share one.
const CASES = [
  { channel: 'sms', from: '+48601000001', contact: 'phone:+48601000001', shows: 'outbound ack (sms)' },
  {
    channel: 'whatsapp',
    from: '+48601000002',
    contact: 'phone:+48601000002',
    shows: 'outbound ack (whatsapp)',
  },
  { channel: 'voicemail', from: '+48601000004', contact: 'phone:+48601000004', shows: 'outbound ack' },
  {
    channel: 'messenger',
    from: '7214568800000005',
    contact: 'messenger:7214568800000005',
    shows: 'outbound ack (messenger)',
  },
  {
    channel: 'instagram',
    from: '7214568800000006',
    contact: 'instagram:7214568800000006',
    shows: 'outbound ack (instagram)',
  },
  {
    channel: 'wa-cloud',
    from: '+48601000007',
    contact: 'phone:+48601000007',
    shows: 'outbound ack (whatsapp)',
  },
  {
    channel: 'email-mailgun',
    from: 'Ewa Kowalska <ewa.mailgun@example.net>',
    contact: 'email:ewa.mailgun@example.net',
    shows: 'outbound ack (email)',
  },
  {
    channel: 'email-ses',
    from: 'Zofia Wójcik <Zofia.SES@example.net>',
    contact: 'email:zofia.ses@example.net',
    shows: 'outbound ack (email)',
  },
] as const;

describe('npm run simulate', () => {
  let dataDir: string;
  let running: StartedProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-simulate-'));
    running = await startNpmStart(dataDir, { env: childEnv(dataDir) });
  });
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  // Found by a review of the developer's experience at stop 23: parseArgs' stack trace.
  it('should print the usage, not a stack trace, for a mistyped option', async () => {
    // Act: --frm instead of --from
    const ran = await simulate(dataDir, ['sms', '--frm', '+48601234567', '--url', running.url]);

    // Assess: like keys, report and promise do (exit 2 with the usage)
    expect(ran.output).not.toMatch(/^\s+at .+[:(]/m);
    expect(ran.code).toBe(2);
    expect(ran.output).toContain("Unknown option '--frm'");
    expect(ran.output).toContain('Usage: npm run simulate');
  });

  it.each(CASES)('should record a simulated $channel contact and show its ack', async (c) => {
    // Act
    const ran = await simulate(dataDir, [c.channel, '--from', c.from, '--url', running.url]);

    // Assess
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toMatch(/ -> 200\n/);
    expect(ran.output).toContain(`(${c.contact}), reply by `);
    expect(ran.output).toContain(c.shows);
  });

  it("should post Twilio's delivery status for the newest local send, refuse an unknown send or status, and keep a delivered ack sent after a late failure", async () => {
    // Prepare: an SMS acknowledged into the outbox
    const from = '+48601000009';
    const sms = await simulate(dataDir, ['sms', '--from', from, '--url', running.url]);
    expect(sms.code, sms.output).toBe(0);

    // Act
    const delivered = await simulate(dataDir, ['status', '--url', running.url]);
    const undelivered = await simulate(dataDir, ['status', '--status', 'undelivered', '--url', running.url]);
    const unknown = await simulate(dataDir, ['status', '--sid', `SM${'0'.repeat(32)}`, '--url', running.url]);
    const wrong = await simulate(dataDir, ['status', '--status', 'bounced', '--url', running.url]);

    // Assess: delivered is stored on the ack; undelivered does not outrank it (a late failure
    // of a delivered message is noise), so the ack stays sent
    expect(delivered.code, delivered.output).toBe(0);
    expect(delivered.output).toContain('POST /webhooks/twilio/status -> 200');
    expect(delivered.output).toContain(`(phone:${from}), reply by `);
    expect(delivered.output).toContain('ack sent');
    expect(delivered.output).toContain('outbound ack (sms) [delivered]');
    expect(undelivered.code, undelivered.output).toBe(0);
    expect(undelivered.output).toContain('outbound ack (sms) [delivered]');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain(`No Twilio send SM${'0'.repeat(32)} in `);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toContain('npm run simulate -- status');
  });

  it('should mark the ack failed when the newest local send is reported undelivered', async () => {
    // Prepare: an SMS acknowledged into the outbox
    const from = '+48601000010';
    expect((await simulate(dataDir, ['sms', '--from', from, '--url', running.url])).code).toBe(0);

    // Act
    const ran = await simulate(dataDir, ['status', '--status', 'undelivered', '--url', running.url]);

    // Assess
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain(`(phone:${from}), reply by `);
    expect(ran.output).toContain('ack failed (delivery-undelivered:30003)');
    expect(ran.output).toContain('outbound ack (sms) [undelivered]');
  });

  it('should speak the acknowledgement to a landline caller', async () => {
    // Act
    const ran = await simulate(dataDir, ['voice', '--from', '+48226543210', '--url', running.url]);

    // Assess
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('POST /webhooks/twilio/voice -> 200');
    expect(ran.output).toMatch(/<Say [^>]*>[^<]*oddzwoni najpóźniej/);
    expect(ran.output).toContain('(phone:+48226543210), reply by ');
    expect(ran.output).toContain('ack sent (spoken-on-call)');
    expect(ran.output).not.toContain('outbound ack');
    // A call has no text: its line ends with the channel, not a colon and nothing
    expect(ran.output).toMatch(/^ {2}inbound call \(voice\)$/m);
  });

  it('should have kept the dev SNS identity that email-ses made private, and named the dev topic at start', async () => {
    // Act
    const key = await stat(join(dataDir, 'dev-sns-key.pem'));
    const cert = await readFile(join(dataDir, 'dev-sns-cert.pem'), 'utf8');

    // Assess
    expect(key.mode & 0o777).toBe(0o600);
    expect(cert).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(running.output()).toContain('arn:aws:sns:eu-central-1:000000000000:switchboard-dev-mail');
  });

  // Found by a review of the first hour at stop 31: npm start on its own data dir and port, then the
  // banner's simulate line as printed: "Nothing answers at http://localhost:3000"; with PORT alone,
  // simulate made up dev secrets in .switchboard/ and got 403 SIGNATURE_INVALID, saying nothing more.
  it("should reach this npm start with the banner's own simulate line, naming its data dir and port", async () => {
    // Prepare: the line as printed, run by a shell without the test's SWITCHBOARD_DATA_DIR or PORT
    const line = running
      .output()
      .split('\n')
      .find((l) => l.includes('npm run simulate -- sms'))
      ?.trim();
    expect(line).toBeDefined();
    const { SWITCHBOARD_DATA_DIR: _dir, PORT: _port, ...env } = childEnv(dataDir);

    // Act
    const ran = await shell(line ?? '', env);

    // Assess: it names where this npm start keeps its secrets and where it listens
    expect(line).toContain(`SWITCHBOARD_DATA_DIR=${dataDir} `);
    expect(line).toContain(`PORT=${new URL(running.url).port} `);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('POST /webhooks/twilio/messaging -> 200');
  });

  it('should say which data dir it needs, and sign nothing, when the data dir has no dev secrets', async () => {
    // Prepare: a data dir no npm start ever used
    const other = await mkdtemp(join(tmpdir(), 'switchboard-simulate-other-'));
    try {
      // Act
      const ran = await simulate(other, ['sms', '--url', running.url]);

      // Assess: no secrets made up (no server knows them), no webhook posted
      expect(ran.code).toBe(1);
      expect(ran.output).toContain(`No dev secrets in ${other}`);
      expect(ran.output).toContain('SWITCHBOARD_DATA_DIR');
      expect(ran.output).not.toContain('POST /webhooks');
      await expect(stat(join(other, 'dev-secrets.json'))).rejects.toThrow();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('should say how to point it at npm start, as keys and report do, when nothing answers where it looked', async () => {
    // Act: a port nothing listens on (npm start on another one)
    const ran = await simulate(dataDir, ['sms', '--url', 'http://127.0.0.1:9']);

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.output).toContain(
      'Nothing answers at http://127.0.0.1:9: is Switchboard running (npm start)?',
    );
    expect(ran.output).toContain('Pass --url or set PORT');
  });

  it("should say the running Switchboard uses other secrets when it refuses simulate's signature", async () => {
    // Prepare: another data dir, with dev secrets of its own (an npm start of last week)
    const other = await mkdtemp(join(tmpdir(), 'switchboard-simulate-stale-'));
    try {
      const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
      await writeFile(
        join(other, 'dev-secrets.json'),
        JSON.stringify({ ...secrets, TWILIO_AUTH_TOKEN: 'f'.repeat(32) }),
      );

      // Act
      const ran = await simulate(other, ['sms', '--url', running.url]);

      // Assess: the 403, then what to check
      expect(ran.code).toBe(1);
      expect(ran.output).toContain('-> 403');
      expect(ran.output).toContain(`signed with the dev secrets in ${other}`);
      expect(ran.output).toContain('SWITCHBOARD_DATA_DIR');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  // Found by the same review: the README showed "(MessageSid SM…)" on the POST line, no contact key
  // and no channels, none of which simulate printed.
  it("should print what the README's example shows", async () => {
    // Prepare: the README's command and the output it shows, each line a pattern (ids, times and
    // message texts vary)
    const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const command = 'npm run simulate -- sms --from +48601234567 --body "Dzień dobry"';
    const commandBlock = readme.indexOf(`\`\`\`sh\n${command}\n\`\`\`\n`);
    const open = readme.indexOf('```\n', commandBlock + command.length + 10) + 4;
    const lines = readme.slice(open, readme.indexOf('\n```', open)).split('\n');
    const patterns = lines
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const escaped = line
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/conv_[a-z0-9]+/g, 'conv_[a-z0-9]+')
          .replace(/\d{4}-\d\d-\d\dT[\d:]+\\\.\d+\\\+\d\d:\d\d/g, '\\S+');
        return new RegExp(
          `^${/^ {2}\S/.test(line) ? escaped.replace(/\\\): .*$/, '\\): .*') : escaped}$`,
          'm',
        );
      });

    // Act
    const ran = await simulate(dataDir, [
      'sms',
      '--from',
      '+48601234567',
      '--body',
      'Dzień dobry',
      '--url',
      running.url,
    ]);

    // Assess
    expect(ran.code, ran.output).toBe(0);
    expect(patterns.length).toBeGreaterThan(4);
    expect(patterns.filter((pattern) => !pattern.test(ran.output)).map(String)).toEqual([]);
  });
});
