import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { marshallStored } from '#lib/adapters/dynamodb-marshall.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';

// The reference: marshallStored as it was before it passed items without a `constructor` key as
// they are (every plain object copied, the ones with such a key as a Map). Frozen on purpose.
function referenceMarshall(item: Record<string, unknown>) {
  const isPlain = (value: object) => {
    const prototype = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null;
  };
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (value === null || typeof value !== 'object' || !isPlain(value)) return value;
    const entries = Object.entries(value).map(([key, inner]) => [key, copy(inner)] as const);
    return Object.hasOwn(value, 'constructor') ? new Map(entries) : Object.fromEntries(entries);
  };
  return marshall(copy(item) as Record<string, unknown>, {
    removeUndefinedValues: true,
    convertClassInstanceToMap: false,
  });
}

// Stored items' values: maps whose keys are sometimes `constructor` (a newer release's field),
// at any depth, in lists too, with sets and undefined fields as our own items hold them.
const keys = fc.oneof(fc.constantFrom('constructor', 'prototype', 'toString', 'id', 'text'), fc.string());
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }).map((list) => new Set(list)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
  ),
}));
const items = fc.dictionary(keys, value, { maxKeys: 6 });

describe('marshallStored', () => {
  it('should marshall any stored item as the copying reference does, `constructor` keys and all', () => {
    fc.assert(
      fc.property(items, (item) => {
        // Act
        const got = (() => {
          try {
            return { ok: marshallStored(item) };
          } catch (error) {
            return { error: (error as Error).message };
          }
        })();

        // Assess
        const expected = (() => {
          try {
            return { ok: referenceMarshall(item) };
          } catch (error) {
            return { error: (error as Error).message };
          }
        })();
        expect(got).toEqual(expected);
      }),
      fuzzRuns(2_000),
    );
  });

  it('should store a map with a `constructor` key deep in a list as a map', () => {
    // Act
    const got = marshallStored({
      pk: 'CONV#c',
      answers: [{ site: 'Kraków', nested: { constructor: 'Budimex' } }],
    });

    // Assess
    expect(got.answers).toEqual({
      L: [{ M: { site: { S: 'Kraków' }, nested: { M: { constructor: { S: 'Budimex' } } } } }],
    });
  });
});
