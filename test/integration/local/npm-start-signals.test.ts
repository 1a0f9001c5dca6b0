import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type StartedProcess, startNpmRun, startNpmStart } from '#test/support/npm-start-process.ts';
import { signTwilio, twilioForm } from '#test/support/twilio-factory.ts';

// A process manager (systemd, supervisord, a container's init, `timeout`) stops `npm start` by
// sending SIGTERM to the npm process alone, not to its group as Ctrl-C does. npm forwards it to
// the shell it runs the script with, and a shell that forks node instead of exec-ing it (dash,
// Debian's and Ubuntu's /bin/sh) died without passing it on: the server kept running, orphaned,
// holding the port and the data dir's lock, and the next start refused the data dir.

/** Every process under `root` (its children, theirs...), read once from `ps`. */
function descendantsOf(root: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [pid, ppid] of table) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        walk(pid);
      }
    }
  };
  walk(root);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return false;
  } catch {
    return true;
  }
}

/** Polls `probe` every 100 ms for up to `ms`; the last answer. */
async function eventually(probe: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start stopped by SIGTERM to the npm process alone', () => {
  let dataDir: string | undefined;
  let leftovers: number[] = [];
  let restarted: StartedProcess | undefined;

  afterEach(async () => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    restarted?.child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('should stop the server it started, free its port and keep what it recorded for the next start', async () => {
    // Prepare
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-sigterm-'));
    const { child: npm, url } = await startNpmRun('start', dataDir);
    const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
    const path = '/webhooks/twilio/messaging';
    const form = twilioForm('sms-polish', { From: '+48601234567', Body: 'Dzień dobry' });
    const { body, headers } = signTwilio(`${url}${path}`, form, secrets.TWILIO_AUTH_TOKEN);
    const recorded = await fetch(`${url}${path}`, { method: 'POST', headers, body });
    leftovers = descendantsOf(npm.pid as number);

    // Act
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    npm.kill('SIGTERM');
    await exited;
    const stopped = await eventually(async () => leftovers.every((pid) => !alive(pid)));
    const portFree = await eventually(() => refusesConnections(url));
    // The next start on the same data dir: refused while the old server holds it.
    restarted = stopped ? await startNpmStart(dataDir) : undefined;
    const list = restarted
      ? await fetch(`${restarted.url}/api/conversations`, {
          headers: { authorization: `Bearer ${secrets.AGENT_API_TOKEN}` },
        })
      : undefined;
    const { items } = ((await list?.json()) ?? { items: [] }) as {
      items: Array<{ contact: { key: string } }>;
    };

    // Assess
    expect(recorded.status).toBe(200);
    expect(leftovers.length).toBeGreaterThan(0);
    expect(stopped).toBe(true);
    expect(portFree).toBe(true);
    expect(items.map((conversation) => conversation.contact.key)).toEqual(['phone:+48601234567']);
  }, 90_000);
});
