import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TestSwitchboard } from './switchboard.ts';

/** Every item of the test table, unmarshalled: what a fuzz run may have written. */
export async function scanItems(sb: TestSwitchboard): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await sb.backends.dynamodb.send(
      new ScanCommand({ TableName: sb.backends.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}
