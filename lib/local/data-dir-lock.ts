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
 * When a process started, as Linux counts it (field 22 of /proc/<pid>/stat: clock ticks since
 * boot): with the pid it names one process, never a later one that got the same pid. Null
 * where there is no /proc (macOS) or no such process.
 */
async function startTimeOf(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19] ?? null;
}

/** Whether the process a pid file names still runs: the same pid, and the same start time if both are known. */
async function holds(holder: { pid: number; startTime: string | null }): Promise<boolean> {
  if (!isRunning(holder.pid)) return false;
  if (holder.startTime === null) return true;
  const now = await startTimeOf(holder.pid);
  return now === null || now === holder.startTime;
}

/**
 * Takes the data dir for this process: a pid file created exclusively. A second npm
 * start finds it and stops with DataDirInUseError instead of dynalite's "Database is closed"
 * (LevelDB's own lock refuses it, and dynalite throws that from a callback, uncatchable). A
 * pid file left by kill -9 or a crash names a process that no longer runs (or this one, in a
 * container that restarted), or one that started later than the file says (a restarted
 * container gave its pid to another program): it is taken over, so a stale lock never blocks
 * a start. The start time is Linux's (/proc); elsewhere (macOS) the file holds the pid alone
 * and a live pid holds the dir, as does a file written without a start time.
 * Hand-written: no lock package here checks liveness without a refresh timer (proper-lockfile's
 * mtime staleness would refuse the start right after a kill -9 for its whole stale period).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'npm-start.pid');
  const startTime = await startTimeOf(process.pid);
  const mine = `${process.pid}${startTime === null ? '' : ` ${startTime}`}\n`;
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
    // "<pid> <start time>", or "<pid>" alone where there is no /proc.
    const [pidField, startField] = (await readFile(path, 'utf8').catch(() => '')).trim().split(/\s+/);
    const pid = Number.parseInt(pidField ?? '', 10);
    const held = Number.isInteger(pid) && pid > 0 && pid !== process.pid;
    if (held && (await holds({ pid, startTime: startField || null }))) {
      throw new DataDirInUseError(dataDir, pid, path);
    }
    // Stale. Two starts taking over the same stale file at the same instant could both win
    // here; LevelDB's own lock still stops the second (with dynalite's stack).
    await rm(path, { force: true });
  }
  throw new Error(`Could not take ${path}: another npm start keeps taking it`);
}
