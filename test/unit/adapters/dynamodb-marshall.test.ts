import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { marshallItem, marshallStored } from '#lib/adapters/dynamodb-marshall.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import { spelled } from '#test/support/spelled.ts';

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
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

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

// Anything an item might hold, and what the SDK refuses: numbers it will not store (NaN, the
// infinities, past the safe integers), BigInts, bytes, Sets of each kind (empty ones too), Maps,
// functions, undefined, Dates and Boolean objects (class instances), null-prototype objects,
// `constructor` keys naming a Set, a Map or nothing, `__proto__` keys, holes and undefined in lists.
const anyKey = fc.oneof(fc.constantFrom('constructor', '__proto__', 'name', 'M', 'L', 'S'), fc.string());
const { anything } = fc.letrec((tie) => ({
  anything: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.constantFrom(2 ** 60, -(2 ** 60), Number.NaN, Number.POSITIVE_INFINITY, -0),
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(() => 1),
    fc.uint8Array({ maxLength: 3 }),
    fc.array(fc.string(), { maxLength: 3 }).map((list) => new Set(list)),
    fc.array(fc.integer(), { maxLength: 3 }).map((list) => new Set(list)),
    fc.constant(new Set([1, 'a'])),
    fc.array(fc.tuple(fc.string(), tie('anything')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.constantFrom(new Date(0), new Boolean(true), new String('s')),
    fc.constantFrom({ constructor: { name: 'Set' } }, { constructor: { name: 'Map' } }, { constructor: 0 }),
    fc.array(tie('anything'), { maxLength: 4 }),
    fc.array(tie('anything'), { maxLength: 3 }).map((list) => {
      const holed = [...list, undefined];
      holed.length += 1; // a hole at the end
      return holed;
    }),
    fc.dictionary(anyKey, tie('anything'), { maxKeys: 4 }),
    fc
      .dictionary(fc.string(), tie('anything'), { maxKeys: 3 })
      .map((entries) => Object.assign(Object.create(null), entries)),
  ),
}));

describe('marshallItem against the SDK marshall (removeUndefinedValues, no class instances as maps)', () => {
  it('should convert any value as the SDK does, or refuse it as the SDK does', () => {
    fc.assert(
      fc.property(anything, (data) => {
        let expected: { value: unknown } | { error: string };
        try {
          expected = { value: marshall(data as Record<string, unknown>, MARSHALL) };
        } catch (error) {
          expected = { error: String(error) };
        }
        if ('error' in expected) {
          expect(() => marshallItem(data)).toThrow();
          return;
        }
        expect(spelled(marshallItem(data))).toBe(spelled(expected.value));
      }),
      fuzzRuns(2_000),
    );
  });
});
