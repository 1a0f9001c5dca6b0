import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

// Long enough to span the gaps between a busy server's lines, short enough not to hold a file
// nobody writes to.
const IDLE_CLOSE_MS = 1_000;

type OpenFile = { handle: FileHandle; ino: number };

/**
 * A local file the adapters append lines to (events.jsonl, outbox.jsonl), kept open while lines
 * keep coming: opening and closing it for every line (fs.appendFile on the path) was about
 * 40-90 µs of CPU a line, the largest piece of our own CPU on a local webhook. Each line still
 * goes where the path leads: a file removed or replaced since (its folder gone, as tests take
 * the event bus down) is opened again, and a failed open or write fails the line as before.
 * The file is closed once no line came for a second (an unref'd timer keeps no process alive).
 */
export class AppendFile {
  readonly #path: string;
  #file: Promise<OpenFile> | null = null;
  /** The open file's inode, once known: the path must still lead to it. */
  #ino: number | null = null;
  #writing = 0;
  #idle: NodeJS.Timeout | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  async append(text: string): Promise<void> {
    this.#writing++;
    this.#armIdleClose();
    const file = this.#current();
    try {
      await (await file).handle.appendFile(text, 'utf8');
    } catch (error) {
      this.#drop(file);
      throw error;
    } finally {
      this.#writing--;
    }
  }

  /** The open file while the path still leads to it (one stat, no open), else the path opened anew. */
  #current(): Promise<OpenFile> {
    const file = this.#file;
    if (file && (this.#ino === null || statSync(this.#path, { throwIfNoEntry: false })?.ino === this.#ino))
      return file;
    if (file) this.#drop(file);
    const opening: Promise<OpenFile> = open(this.#path, 'a').then(async (handle) => {
      const { ino } = await handle.stat();
      if (this.#file === opening) this.#ino = ino;
      return { handle, ino };
    });
    this.#file = opening;
    return opening;
  }

  #armIdleClose(): void {
    if (this.#idle) {
      this.#idle.refresh();
      return;
    }
    this.#idle = setTimeout(() => {
      this.#idle = null;
      const file = this.#file;
      if (!file) return;
      if (this.#writing > 0) this.#armIdleClose();
      else this.#drop(file);
    }, IDLE_CLOSE_MS);
    this.#idle.unref();
  }

  /** Forgets the file and closes it (once the writes already on it are done). */
  #drop(file: Promise<OpenFile>): void {
    if (this.#file === file) {
      this.#file = null;
      this.#ino = null;
    }
    file.then(
      ({ handle }) => handle.close().catch(() => undefined),
      () => undefined,
    );
  }
}
