import { type FileHandle, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { Log } from '#lib/ports/logger.ts';
import { parseEventBody } from '#lib/runtime/stats-records.ts';
import { countEvents, type StatsSinkDeps } from '#lib/use-cases/service-level.ts';

// Lines counted per stats write round: one write per day and channel for each of them.
const CHUNK = 100;
// Bytes read per pass at most: a long backlog is counted a slice at a time.
const MAX_READ = 4 * 1024 * 1024;

/**
 * The local stand-in for AWS's stats feed (the EventBridge rule that copies every event to the
 * stats queue): it reads the events appended to events.jsonl since the offset it last
 * recorded and counts them, after the request that produced them has been answered, as on
 * AWS. The offset file is written after each counted chunk, so a crash counts a chunk again
 * and the stats markers drop what was already counted.
 */
export class LocalEventFeed {
  readonly #eventsPath: string;
  readonly #offsetPath: string;
  readonly #deps: StatsSinkDeps;
  readonly #log: Log;
  #running: Promise<number> | null = null;

  constructor(options: { eventsPath: string; offsetPath: string; deps: StatsSinkDeps; log: Log }) {
    this.#eventsPath = options.eventsPath;
    this.#offsetPath = options.offsetPath;
    this.#deps = options.deps;
    this.#log = options.log;
  }

  /**
   * For a data dir from before the feed existed (its events were counted as they were
   * published): records the file's current end as the first offset, so they are not counted
   * again. Call before the server takes requests; a dir that already has an offset is left as is.
   */
  async adoptExisting(): Promise<void> {
    const hasOffset = await readFile(this.#offsetPath, 'utf8').then(
      () => true,
      () => false,
    );
    if (hasOffset) return;
    const size = await stat(this.#eventsPath).then(
      (stats) => stats.size,
      () => 0,
    );
    await this.#writeOffset(size);
  }

  /** Counts every complete line not counted yet; concurrent callers share one pass. Returns lines read. */
  catchUp(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const file = await open(this.#eventsPath, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!file) return 0;
    try {
      let total = 0;
      for (;;) {
        const lines = await this.#slice(file);
        if (lines === 0) return total;
        total += lines;
      }
    } finally {
      await file.close();
    }
  }

  /** Counts the complete lines of the next slice (at most MAX_READ bytes); returns how many. */
  async #slice(file: FileHandle): Promise<number> {
    const { size } = await file.stat();
    let offset = await this.#readOffset();
    // A shorter file is a new one (the data dir was reset): start from its beginning.
    if (offset > size) offset = 0;
    if (offset === size) return 0;
    const buffer = Buffer.alloc(Math.min(size - offset, MAX_READ));
    await file.read(buffer, 0, buffer.length, offset);
    const complete = buffer.lastIndexOf(0x0a) + 1;
    const lines = buffer.subarray(0, complete).toString('utf8').split('\n').slice(0, -1);
    for (let i = 0; i < lines.length; i += CHUNK) {
      const chunk = lines.slice(i, i + CHUNK);
      const events = chunk
        .map((line) => parseEventBody(line))
        .filter((event): event is DomainEvent => event !== null);
      if (events.length < chunk.length)
        this.#log.warn('events.jsonl lines that are not events skipped', {
          lines: chunk.length - events.length,
        });
      await countEvents(this.#deps, events);
      offset += chunk.reduce((bytes, line) => bytes + Buffer.byteLength(line) + 1, 0);
      await this.#writeOffset(offset);
    }
    return lines.length;
  }

  async #readOffset(): Promise<number> {
    const text = await readFile(this.#offsetPath, 'utf8').catch(() => '0');
    const offset = Number(text.trim());
    return Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
  }

  async #writeOffset(offset: number): Promise<void> {
    const temporary = `${this.#offsetPath}.tmp`;
    await writeFile(temporary, String(offset));
    await rename(temporary, this.#offsetPath);
  }
}
