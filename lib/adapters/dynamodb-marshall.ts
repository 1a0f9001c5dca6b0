import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/**
 * An item read back and written whole (a conversation, a webhook delivery, a spilled event),
 * marshalled whatever maps it holds. The loose stored schemas keep fields a newer release (or
 * another writer) stored, and such a field may be a map with a key named `constructor`, which
 * DynamoDB stores as any other: the SDK's marshall takes an object's kind from
 * `value.constructor.name`, so it refused that map (or read it as a Set, a String...), and every
 * write of the item failed. Such a map goes to marshall as a `Map`, whose entries are its keys.
 */
export function marshallStored(item: Record<string, unknown>): Record<string, AttributeValue> {
  return marshall(withoutConstructorKeys(item) as Record<string, unknown>, MARSHALL);
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
