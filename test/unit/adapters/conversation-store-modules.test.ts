import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// dynamodb-conversation-store.ts had grown to 1,046 lines in one class; the class now delegates
// to collaborators by responsibility in modules beside it (house style: ~300).

const ADAPTERS = new URL('../../../lib/adapters/', import.meta.url);

describe('the conversation store modules', () => {
  it('should keep dynamodb-conversation-store.ts and every adapter module it reaches at 300 lines or fewer', () => {
    // Prepare: the store's file, then every module of lib/adapters/ it (or one of those) imports
    const pending = ['dynamodb-conversation-store.ts'];
    const read = new Map<string, string>();

    // Act
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (read.has(name)) continue;
      const text = readFileSync(new URL(name, ADAPTERS), 'utf8');
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
    expect([...read.keys()]).toEqual(
      expect.arrayContaining(['dynamodb-conversation-store.ts', 'dynamodb-contact-carry.ts']),
    );
  });
});
