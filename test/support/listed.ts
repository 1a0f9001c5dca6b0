import type { TestSwitchboard } from '#test/support/switchboard.ts';

/**
 * Every conversation the agents' API lists, open then resolved (the first page of each, 100 at
 * most), as the test reads it: `T` names the fields it asserts on.
 */
export async function listedConversations<T>(sb: TestSwitchboard): Promise<T[]> {
  const listed: T[] = [];
  for (const status of ['open', 'resolved']) {
    const page = (await (await sb.api(`/api/conversations?status=${status}&limit=100`)).json()) as {
      items: T[];
    };
    listed.push(...page.items);
  }
  return listed;
}
