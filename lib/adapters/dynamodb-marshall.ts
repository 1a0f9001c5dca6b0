import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr } from '@aws-sdk/util-dynamodb';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/**
 * An item read back and written whole (a conversation, a webhook delivery, a spilled event),
 * marshalled whatever maps it holds. The loose stored schemas keep fields a newer release (or
 * another writer) stored, and such a field may be a map with a key named `constructor`, which
 * DynamoDB stores as any other: the SDK's marshall takes an object's kind from
 * `value.constructor.name`, so it refused that map (or read it as a Set, a String...), and every
 * write of the item failed. Such a map goes to marshall as a `Map`, whose entries are its keys.
 * An item without one (every item our own code writes) goes as it is: copying the whole item for
 * nothing was a conversation write's largest piece of our own CPU after marshall itself.
 */
export function marshallStored(item: Record<string, unknown>): Record<string, AttributeValue> {
  const safe = hasConstructorKey(item) ? (withoutConstructorKeys(item) as Record<string, unknown>) : item;
  return marshallItem(safe) as Record<string, AttributeValue>;
}

/** `marshall(data, MARSHALL)` of @aws-sdk/util-dynamodb: a map's (or list's) members, anything else as it is. */
export function marshallItem(
  data: unknown,
): Record<string, AttributeValue> | AttributeValue[] | AttributeValue {
  const converted = toAttribute(data);
  const [type, value] = Object.entries(converted)[0] as [string, unknown];
  return type === 'M' || type === 'L'
    ? (value as Record<string, AttributeValue> | AttributeValue[])
    : converted;
}

/**
 * The SDK's convertToAttr (util-dynamodb 3.996) with MARSHALL's options, step for step, with the
 * strings, numbers, booleans, arrays and plain objects an item is made of converted here: the SDK asks
 * each value for its constructor's name up to five times and builds an array of sixteen type
 * names (isBinary) for every string, 14.5 µs of CPU for a conversation item against ~5 µs here,
 * and every webhook writes one. Anything else (numbers it refuses, Sets, Maps, bytes, BigInts, null, class
 * instances) goes to the SDK's own, in the same order of checks, so it is converted, or refused,
 * as before (test/unit/adapters/dynamodb-marshall.test.ts holds it to the SDK's marshall).
 */
function toAttribute(data: unknown): AttributeValue {
  if (typeof data === 'string') return { S: data };
  if (typeof data === 'boolean') return { BOOL: data };
  // The SDK refuses NaN, the infinities and what is past the safe integers: those go to it.
  if (typeof data === 'number' && data <= Number.MAX_SAFE_INTEGER && data >= Number.MIN_SAFE_INTEGER) {
    return { N: data.toString() };
  }
  if (data === null || typeof data !== 'object') return convertToAttr(data, MARSHALL);
  if (Array.isArray(data)) {
    const members: AttributeValue[] = [];
    for (const item of data.filter((item) => typeof item !== 'function' && item !== undefined)) {
      members.push(toAttribute(item));
    }
    return { L: members };
  }
  // A map when its constructor is named Object or there is none, as the SDK decides it.
  const kind = (data as { constructor?: { name?: unknown } }).constructor;
  if (kind && kind.name !== 'Object') return convertToAttr(data, MARSHALL);
  const map: Record<string, AttributeValue> = {};
  // for…in, inherited enumerable keys included, and an assignment (`__proto__` sets the prototype), as the SDK's.
  for (const key in data) {
    const value = (data as Record<string, unknown>)[key];
    if (typeof value !== 'function' && value !== undefined) map[key] = toAttribute(value);
  }
  return { M: map };
}

/** Whether a plain object anywhere in `value` has an own key named `constructor`. */
function hasConstructorKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasConstructorKey);
  if (value === null || typeof value !== 'object' || !isPlain(value)) return false;
  if (Object.hasOwn(value, 'constructor')) return true;
  for (const inner of Object.values(value)) if (hasConstructorKey(inner)) return true;
  return false;
}

function withoutConstructorKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutConstructorKeys);
  if (value === null || typeof value !== 'object' || !isPlain(value)) return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, withoutConstructorKeys(inner)] as const);
  return Object.hasOwn(value, 'constructor') ? new Map(entries) : Object.fromEntries(entries);
}

/** A plain object (read from a table or built in code), not a Set, Map, Uint8Array or Date. */
function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
