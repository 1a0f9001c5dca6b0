import type { Page } from '#lib/ports/conversation-store.ts';

/** Runs `work` over the items in order, at most `size` at once; rejects with the first failure. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/**
 * Reads page after page (each continuing after the last, from the cursor) and hands each to
 * `handle`, until the pages end or `deadline` (a performance.now() time) has passed; `behind`
 * when time ran out with more to read.
 */
export async function forEachPage<T>(
  read: (cursor: string | undefined) => Promise<Page<T>>,
  handle: (items: readonly T[]) => Promise<void>,
  deadline: number,
): Promise<{ pages: number; behind: boolean }> {
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await read(cursor);
    await handle(page.items);
    if (page.nextCursor === null) return { pages, behind: false };
    if (performance.now() >= deadline) return { pages, behind: true };
    cursor = page.nextCursor;
  }
}
