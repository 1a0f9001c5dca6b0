import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

export class InjectedFault extends Error {
  constructor(command: string, when: string) {
    super(`injected fault: ${command} ${when}`);
    this.name = 'InjectedFault';
  }
}

let counter = 0;

/**
 * Fails matching SDK calls at the client's edge, as a crash or an outage would: `before`
 * (the request never reaches the service) or `after` (the write is applied, the process
 * "dies" before it hears back). Our own functions are never stubbed.
 */
export function injectFault(
  client: DynamoDBClient | SQSClient,
  rule: {
    command: string;
    when: 'before' | 'after';
    times?: number;
    match?: (input: Record<string, unknown>) => boolean;
  },
): { readonly fired: number; remove(): void } {
  const name = `fault-${++counter}`;
  let remaining = rule.times ?? 1;
  let fired = 0;
  const stack = client.middlewareStack as unknown as {
    add(middleware: unknown, options: { step: string; name: string }): void;
    remove(name: string): boolean;
  };
  stack.add(
    (
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: { commandName?: string },
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        const hit =
          context.commandName === rule.command && remaining > 0 && (rule.match?.(args.input) ?? true);
        if (!hit) return next(args);
        remaining--;
        fired++;
        if (rule.when === 'before') throw new InjectedFault(rule.command, rule.when);
        await next(args);
        throw new InjectedFault(rule.command, rule.when);
      },
    { step: 'initialize', name },
  );
  return {
    get fired() {
      return fired;
    },
    remove: () => void stack.remove(name),
  };
}

/** Matches a DynamoDB write whose key's pk starts with the prefix (e.g. 'MSG#', 'CONV#'). */
export function pkStartsWith(prefix: string) {
  return (input: Record<string, unknown>) => {
    const item = (input.Item ?? input.Key) as { pk?: { S?: string } } | undefined;
    return item?.pk?.S?.startsWith(prefix) ?? false;
  };
}
