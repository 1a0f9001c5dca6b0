import { open, readFile, rename, writeFile } from 'node:fs/promises';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { Log } from '#lib/ports/logger.ts';
import { parseEventBody } from '#lib/runtime/stats-records.ts';
import { countEvents, type StatsSinkDeps } from '#lib/use-cases/service-level.ts';

// Lines counted per stats write round: one write per day and channel for each of them.
const CHUNK = 100;

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
      const { size } = await file.stat();
      let offset = await this.#readOffset();
      // A shorter file is a new one (the data dir was reset): start from its beginning.
      if (offset > size) offset = 0;
      if (offset === size) return 0;
      const buffer = Buffer.alloc(size - offset);
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
    } finally {
      await file.close();
    }
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
