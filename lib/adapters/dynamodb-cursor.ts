import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidCursorError } from '#lib/ports/errors.ts';

/** A paging cursor: the Query's LastEvaluatedKey, as opaque base64url text. */
export function encodeCursor(key: Record<string, AttributeValue> | undefined): string | null {
  if (!key) return null;
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

/**
 * Reads a cursor back, refusing anything we did not issue for this listing: exactly the
 * table and index keys as strings, on the same index partition (so a cursor can never
 * reach into another listing or another customer's items).
 */
export function decodeCursor(
  cursor: string | undefined,
  partition: string,
  index = 'gsi1',
): Record<string, AttributeValue> | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const fields = ['pk', 'sk', `${index}pk`, `${index}sk`];
  const record = key as Record<string, unknown>;
  if (
    typeof key !== 'object' ||
    key === null ||
    Object.keys(key).length !== fields.length ||
    !fields.every((field) => typeof record[field] === 'string') ||
    record[`${index}pk`] !== partition
  ) {
    throw new InvalidCursorError();
  }
  return marshall(record as Record<string, string>);
}
