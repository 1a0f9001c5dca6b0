import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Another npm start holds the data dir: its LevelDB and SQLite files are not for two processes. */
export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';

  constructor(dataDir: string, pid: number, path: string) {
    super(
      `the data dir ${dataDir} is in use by another npm start (pid ${pid}): stop it first, or set SWITCHBOARD_DATA_DIR to another dir (if no npm start runs, delete ${path})`,
    );
    this.name = 'DataDirInUseError';
  }
}

export type DataDirLock = { release(): Promise<void> };

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data dir for this process: a pid file created exclusively. A second npm
 * start finds it and stops with DataDirInUseError instead of dynalite's "Database is closed"
 * (LevelDB's own lock refuses it, and dynalite throws that from a callback, uncatchable). A
 * pid file left by kill -9 or a crash names a process that no longer runs (or this one, in a
 * container that restarted): it is taken over, so a stale lock never blocks a start.
 * Hand-written: no lock package here checks liveness without a refresh timer (proper-lockfile's
 * mtime staleness would refuse the start right after a kill -9 for its whole stale period).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'npm-start.pid');
  const mine = `${process.pid}\n`;
  // Written whole, then linked into place (fails if it exists): never seen half written.
  const draft = `${path}.${process.pid}`;
  await writeFile(draft, mine);
  try {
    return await takeOrThrow(dataDir, path, draft, mine);
  } finally {
    await rm(draft, { force: true });
  }
}

async function takeOrThrow(dataDir: string, path: string, draft: string, mine: string): Promise<DataDirLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await link(draft, path);
      return {
        async release() {
          // Only our own: never the file of a start that took over after us.
          if ((await readFile(path, 'utf8').catch(() => '')) === mine) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
      throw new DataDirInUseError(dataDir, holder, path);
    }
    // Stale. Two starts taking over the same stale file at the same instant could both win
    // here; LevelDB's own lock still stops the second (with dynalite's stack).
    await rm(path, { force: true });
  }
  throw new Error(`Could not take ${path}: another npm start keeps taking it`);
}
