import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strip } from '#lib/adapters/dynamodb-store-items.ts';
import { unmarshallWithout } from '#lib/adapters/dynamodb-unmarshall.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import { spelled } from '#test/support/spelled.ts';

const KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi5sk', 'type', 'deliveryRank'];

/** strip() as it was: the SDK's unmarshall, then the store's key attributes deleted. */
function referenceStrip(item: Record<string, AttributeValue>): Record<string, unknown> {
  const KEY_ATTRIBUTES = [
    ...['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'],
    ...['gsi4pk', 'gsi4sk', 'gsi5pk', 'gsi5sk', 'type', 'deliveryRank'],
  ];
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain;
}

/** The same answer, spelled out whole, or both throwing. */
function expectSame(ours: () => unknown, sdk: () => unknown) {
  let expected: { value: unknown } | { thrown: unknown };
  try {
    expected = { value: sdk() };
  } catch (thrown) {
    expected = { thrown };
  }
  if ('thrown' in expected) {
    expect(ours).toThrow();
    return;
  }
  expect(spelled(ours())).toBe(spelled(expected.value));
}

const name = fc.oneof(
  fc.constantFrom(...KEYS, '__proto__', 'constructor', 'toString', 'M', 'S'),
  fc.string(),
);
const numberText = fc.oneof(
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.integer().map(String),
  fc.constantFrom('9007199254740993', '-9007199254740993', '1e400', '-1e400', '1.5e300', 'NaN', 'abc', ''),
  fc.string(),
);
// What DynamoDB returns (one type a value), and what it never would: two types in one value,
// a type left undefined before the defined one, none at all, an unknown one.
const attribute: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string().map((S) => ({ S })),
    numberText.map((N) => ({ N })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.boolean().map((NULL) => ({ NULL })),
    fc.uint8Array({ maxLength: 4 }).map((B) => ({ B })),
    fc.array(fc.string(), { maxLength: 3 }).map((SS) => ({ SS })),
    fc.array(numberText, { maxLength: 3 }).map((NS) => ({ NS })),
    fc.array(fc.uint8Array({ maxLength: 2 }), { maxLength: 2 }).map((BS) => ({ BS })),
    fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L })),
    fc.dictionary(name, tie('value'), { maxKeys: 4 }).map((M) => ({ M })),
    fc.tuple(fc.string(), numberText).map(([S, N]) => ({ S, N }) as unknown as AttributeValue),
    fc.tuple(numberText, fc.string()).map(([N, S]) => ({ N, S }) as unknown as AttributeValue),
    fc.string().map((S) => ({ N: undefined, S }) as AttributeValue),
    fc.constant({} as AttributeValue),
    fc.constant({ $unknown: ['X', 1] } as unknown as AttributeValue),
  ),
})).value;
const item = fc.dictionary(name, attribute, { maxKeys: 8 });

describe('unmarshallWithout against the SDK unmarshall', () => {
  it('should read any item, malformed values included, as the SDK does, less the attributes left out', () => {
    fc.assert(
      fc.property(item, fc.subarray(KEYS), (stored, left) => {
        const without = new Set(left);
        expectSame(
          () => unmarshallWithout(stored, without),
          () => {
            const plain = unmarshall(stored);
            for (const key of left) delete plain[key];
            return plain;
          },
        );
      }),
      fuzzRuns(1000),
    );
  });

  it('should read a conversation-like item marshalled by the SDK back to the same object', () => {
    // Prepare
    const stored = marshall(
      {
        pk: 'CONV#conv_1',
        sk: 'CONV',
        type: 'conversation',
        id: 'conv_1',
        version: 3,
        big: 2n ** 70n,
        tags: new Set(['a', 'b']),
        outbox: [{ id: 'evt_1', data: { nested: [1, 'x', null, true] } }],
        empty: {},
      },
      { removeUndefinedValues: true, convertClassInstanceToMap: false },
    );

    // Act
    const plain = unmarshallWithout(stored, new Set(['pk', 'sk', 'type']));

    // Assess
    expect(plain).toStrictEqual({
      id: 'conv_1',
      version: 3,
      big: 2n ** 70n,
      tags: new Set(['a', 'b']),
      outbox: [{ id: 'evt_1', data: { nested: [1, 'x', null, true] } }],
      empty: {},
    });
  });
});

describe('strip against its old self (unmarshall, then delete the key attributes)', () => {
  it('should give the same object for any item', () => {
    fc.assert(
      fc.property(item, (stored) => {
        expectSame(
          () => strip(stored),
          () => referenceStrip(stored),
        );
      }),
      fuzzRuns(500),
    );
  });
});
