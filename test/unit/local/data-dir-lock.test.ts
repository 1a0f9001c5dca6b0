import { spawn } from 'node:child_process';
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
    expect(held).toBe(`${process.pid}\n`);
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

  it('should take over a lock left by a process that died (kill -9), and never release another start’s', async () => {
    // Prepare
    await writeFile(pidFile, `${await deadPid()}\n`);

    // Act
    const lock = await lockDataDir(dataDir);
    const held = await readFile(pidFile, 'utf8');
    await writeFile(pidFile, `${process.ppid}\n`);
    await lock.release();

    // Assess
    expect(held).toBe(`${process.pid}\n`);
    expect(await readFile(pidFile, 'utf8')).toBe(`${process.ppid}\n`);
  });
});
