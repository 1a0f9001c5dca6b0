import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// conversation.ts had grown to 1,806 lines in one file; it is split by responsibility into
// modules under lib/domain/conversation/, which conversation.ts re-exports (house style: ~300).

const DOMAIN = new URL('../../../lib/domain/', import.meta.url);

describe('the conversation modules', () => {
  it('should keep conversation.ts and every module it reaches in lib/domain/conversation/ at 300 lines or fewer', () => {
    // Prepare: conversation.ts, then every module of the folder it (or one of those) names
    const pending = ['conversation.ts'];
    const read = new Map<string, string>();

    // Act
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (read.has(name)) continue;
      const text = readFileSync(new URL(name, DOMAIN), 'utf8');
      read.set(name, text);
      const folder = name.startsWith('conversation/') ? 'conversation/' : '';
      for (const match of text.matchAll(/ from '\.\/(conversation\/)?([\w-]+\.ts)';$/gm)) {
        if (match[1] || folder) pending.push(`conversation/${match[2]}`);
      }
    }

    // Assess
    for (const [name, text] of read) {
      expect({ name, lines: text.split('\n').length }).toEqual({
        name,
        lines: expect.toSatisfy((lines: number) => lines <= 300),
      });
    }
    expect([...read.keys()]).toEqual(
      expect.arrayContaining(['conversation/apply-inbound.ts', 'conversation/schema.ts']),
    );
  });
});
