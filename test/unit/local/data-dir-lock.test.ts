import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '#lib/local/data-dir-lock.ts';

/** The pid of a process that has exited: what a pid file left by kill -9 names. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

/** What this process's pid file holds: its pid, and its start time where Linux's /proc tells it. */
const MINE = new RegExp(`^${process.pid}( \\d+)?\n$`);

/** Linux's start time of a process (field 22 of /proc/<pid>/stat). */
async function startTimeOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
}

describe('lockDataDir', () => {
  let dataDir: string;
  let pidFile: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-lock-'));
    pidFile = join(dataDir, 'npm-start.pid');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should take a free data dir, and give it back on release', async () => {
    // Act
    const lock = await lockDataDir(dataDir);
    const held = await readFile(pidFile, 'utf8');
    await lock.release();

    // Assess
    expect(held).toMatch(MINE);
    await expect(readFile(pidFile, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('should refuse a data dir a running process holds, naming it', async () => {
    // Prepare: the parent process (the test runner) is alive
    await writeFile(pidFile, `${process.ppid}\n`);

    // Act
    const attempt = lockDataDir(dataDir);

    // Assess
    await expect(attempt).rejects.toThrow(DataDirInUseError);
    await expect(lockDataDir(dataDir)).rejects.toThrow(
      `the data dir ${dataDir} is in use by another npm start (pid ${process.ppid})`,
    );
    expect(await readFile(pidFile, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it.skipIf(!existsSync('/proc/self/stat'))(
    'should refuse a data dir a running process holds, its start time recorded',
    async () => {
      // Prepare: the file as a running npm start on Linux writes it
      await writeFile(pidFile, `${process.ppid} ${await startTimeOf(process.ppid)}\n`);

      // Act
      const attempt = lockDataDir(dataDir);

      // Assess
      await expect(attempt).rejects.toThrow(`in use by another npm start (pid ${process.ppid})`);
    },
  );

  it('should take over a lock left by a process that died (kill -9), and never release another start’s', async () => {
    // Prepare
    await writeFile(pidFile, `${await deadPid()}\n`);

    // Act
    const lock = await lockDataDir(dataDir);
    const held = await readFile(pidFile, 'utf8');
    await writeFile(pidFile, `${process.ppid}\n`);
    await lock.release();

    // Assess
    expect(held).toMatch(MINE);
    expect(await readFile(pidFile, 'utf8')).toBe(`${process.ppid}\n`);
  });

  describe('a pid that went to another program', () => {
    let other: ChildProcess | undefined;

    afterEach(() => {
      if (other?.pid && other.exitCode === null) process.kill(other.pid, 'SIGKILL');
    });

    // Found at stop 23: a container restart reuses pids, and the lock refused the start.
    it.skipIf(!existsSync('/proc/self/stat'))(
      'should take over a pid file left by a killed npm start whose pid now belongs to another program (a restarted container reuses pids)',
      async () => {
        // Prepare: npm start was killed with -9; after the container restarted, its pid went to
        // some other program (here a `sleep`), which holds no data dir and started at another time
        other = spawn('sleep', ['30'], { stdio: 'ignore' });
        await new Promise((resolve) => other?.once('spawn', resolve));
        const killedStart = String(Number(await startTimeOf(other.pid as number)) - 1);
        await writeFile(pidFile, `${other.pid} ${killedStart}\n`);

        // Act
        const attempt = lockDataDir(dataDir).then(
          async (lock) => {
            const held = await readFile(pidFile, 'utf8');
            await lock.release();
            return held;
          },
          (error: Error) => `refused: ${error.message}`,
        );

        // Assess: the stale lock does not block the start ("a stale lock never blocks a start")
        expect(await attempt).toMatch(MINE);
      },
    );
  });
});
