import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * `unmarshall(item)` of @aws-sdk/util-dynamodb (3.996, without options), value for value, less the
 * attributes named in `without`. The SDK's converts every value through `Object.entries` (an array
 * per value, another per map) and every map through a `reduce`: 15 µs of CPU for a conversation
 * item of 37 attributes with its outbox, against 4 µs here, and the store reads one (and a
 * contact) on most webhooks. Kept step for step, so it answers as the SDK does for anything a
 * table can hold and for what it cannot (each value's first defined type wins, an unknown type or
 * none throws, numbers past the safe integers become BigInts):
 * test/unit/adapters/dynamodb-unmarshall.test.ts holds it to the SDK's answers. Every attribute is
 * converted, the left-out ones too, so a value the SDK would refuse is refused here as well.
 */
export function unmarshallWithout(
  item: Record<string, AttributeValue>,
  without: ReadonlySet<string>,
): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const name in item) {
    if (!Object.hasOwn(item, name)) continue;
    const converted = toNative(item[name] as AttributeValue);
    // An assignment, as the SDK's: a `__proto__` attribute sets the prototype there too.
    if (!without.has(name)) plain[name] = converted;
  }
  return plain;
}

function toNative(data: AttributeValue): unknown {
  // for…in, not Object.keys: no array a value. Only own keys count, as in Object.entries.
  for (const type in data) {
    const value = (data as unknown as Record<string, unknown>)[type];
    if (value === undefined || !Object.hasOwn(data, type)) continue;
    switch (type) {
      case 'NULL':
        return null;
      case 'BOOL':
        return Boolean(value);
      case 'N':
        return toNumber(value as string);
      case 'B':
      case 'S':
        return value;
      case 'L':
        return (value as AttributeValue[]).map((item) => toNative(item));
      case 'M':
        return toMap(value as Record<string, AttributeValue>);
      case 'NS':
        return new Set((value as string[]).map((item) => toNumber(item)));
      case 'BS':
      case 'SS':
        return new Set((value as unknown[]).map((item) => item));
      default:
        throw new Error(`Unsupported type passed: ${type}`);
    }
  }
  throw new Error(`No value defined: ${JSON.stringify(data)}`);
}

function toMap(map: Record<string, AttributeValue>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const name in map) if (Object.hasOwn(map, name)) plain[name] = toNative(map[name] as AttributeValue);
  return plain;
}

function toNumber(text: string): number | bigint {
  const number = Number(text);
  const largeFinite =
    (number > Number.MAX_SAFE_INTEGER || number < Number.MIN_SAFE_INTEGER) &&
    number !== Number.POSITIVE_INFINITY &&
    number !== Number.NEGATIVE_INFINITY;
  if (!largeFinite) return number;
  try {
    return BigInt(text);
  } catch {
    throw new Error(`${text} can't be converted to BigInt. Set options.wrapNumbers to get string value.`);
  }
}
