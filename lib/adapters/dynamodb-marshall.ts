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
 * An item without one (every item our own code writes) goes as it is: copying the whole item for
 * nothing was a conversation write's largest piece of our own CPU after marshall itself.
 */
export function marshallStored(item: Record<string, unknown>): Record<string, AttributeValue> {
  const safe = hasConstructorKey(item) ? (withoutConstructorKeys(item) as Record<string, unknown>) : item;
  return marshall(safe, MARSHALL);
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
