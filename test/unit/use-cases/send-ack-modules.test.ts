import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// send-ack.ts had grown to 669 lines in one file; it is split by responsibility into modules
// beside it (the claim, the send, what it settles, the reply window), house style: ~300.

const USE_CASES = new URL('../../../lib/use-cases/', import.meta.url);

describe('the ack worker modules', () => {
  it('should keep send-ack.ts and every use-case module it reaches at 300 lines or fewer', () => {
    // Prepare: send-ack.ts, then every module of lib/use-cases/ it (or one of those) imports
    const pending = ['send-ack.ts'];
    const read = new Map<string, string>();

    // Act
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (read.has(name)) continue;
      const text = readFileSync(new URL(name, USE_CASES), 'utf8');
      read.set(name, text);
      for (const match of text.matchAll(/ from '\.\/([\w-]+\.ts)';$/gm)) pending.push(match[1] as string);
    }

    // Assess
    for (const [name, text] of read) {
      expect({ name, lines: text.split('\n').length }).toEqual({
        name,
        lines: expect.toSatisfy((lines: number) => lines <= 300),
      });
    }
    expect([...read.keys()]).toEqual(expect.arrayContaining(['send-ack.ts', 'ack-lookups.ts']));
  });
});
