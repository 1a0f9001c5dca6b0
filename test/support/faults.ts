import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

export class InjectedFault extends Error {
  constructor(command: string, when: string) {
    super(`injected fault: ${command} ${when}`);
    this.name = 'InjectedFault';
  }
}

let counter = 0;

type Input = Record<string, unknown>;
type EdgeMiddleware = (
  next: (args: { input: Input }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: Input }) => Promise<unknown>;

/** Adds a middleware at the SDK client's edge (before serialization); returns its remover. */
function atTheEdge(
  client: DynamoDBClient | SQSClient,
  prefix: string,
  middleware: EdgeMiddleware,
): () => void {
  const name = `${prefix}-${++counter}`;
  const stack = client.middlewareStack as unknown as {
    add(middleware: unknown, options: { step: string; name: string }): void;
    remove(name: string): boolean;
  };
  stack.add(middleware, { step: 'initialize', name });
  return () => void stack.remove(name);
}

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
  let remaining = rule.times ?? 1;
  let fired = 0;
  const remove = atTheEdge(client, 'fault', (next, context) => async (args) => {
    const hit = context.commandName === rule.command && remaining > 0 && (rule.match?.(args.input) ?? true);
    if (!hit) return next(args);
    remaining--;
    fired++;
    if (rule.when === 'before') throw new InjectedFault(rule.command, rule.when);
    await next(args);
    throw new InjectedFault(rule.command, rule.when);
  });
  return {
    get fired() {
      return fired;
    },
    remove,
  };
}

/** Counts matching SDK calls from now on, at the client's edge, changing nothing. */
export function countCalls(
  client: DynamoDBClient | SQSClient,
  command: string,
  match: (input: Record<string, unknown>) => boolean = () => true,
): { readonly count: number; remove(): void } {
  let count = 0;
  const remove = atTheEdge(client, 'count', (next, context) => (args) => {
    if (context.commandName === command && match(args.input)) count++;
    return next(args);
  });
  return {
    get count() {
      return count;
    },
    remove,
  };
}

/**
 * Runs `meanwhile` once, right after the first matching call is answered and before its caller
 * hears back: another writer acting at that exact moment. Nothing is changed or stubbed.
 */
export function afterCall(
  client: DynamoDBClient | SQSClient,
  rule: { command: string; match: (input: Input, output: Record<string, unknown>) => boolean },
  meanwhile: () => Promise<void>,
): { readonly fired: boolean; remove(): void } {
  let fired = false;
  const remove = atTheEdge(client, 'meanwhile', (next, context) => async (args) => {
    const result = (await next(args)) as { output: Record<string, unknown> };
    if (!fired && context.commandName === rule.command && rule.match(args.input, result.output)) {
      fired = true;
      await meanwhile();
    }
    return result;
  });
  return {
    get fired() {
      return fired;
    },
    remove,
  };
}

/** Runs `meanwhile` once, right before the first matching call leaves the client (the twin of afterCall). */
export function beforeCall(
  client: DynamoDBClient | SQSClient,
  rule: { command: string; match: (input: Input) => boolean },
  meanwhile: () => Promise<void>,
): { readonly fired: boolean; remove(): void } {
  let fired = false;
  const remove = atTheEdge(client, 'before', (next, context) => async (args) => {
    if (!fired && context.commandName === rule.command && rule.match(args.input)) {
      fired = true;
      await meanwhile();
    }
    return next(args);
  });
  return {
    get fired() {
      return fired;
    },
    remove,
  };
}

/** Matches a DynamoDB write whose key's pk starts with the prefix (e.g. 'MSG#', 'CONV#'). */
export function pkStartsWith(prefix: string) {
  return (input: Record<string, unknown>) => {
    const item = (input.Item ?? input.Key) as { pk?: { S?: string } } | undefined;
    return item?.pk?.S?.startsWith(prefix) ?? false;
  };
}

/**
 * DynamoDB's `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, which dynalite ignores: a
 * conditional write that asked for it and failed its condition carries the item as it stood
 * (read here through `reader`, a second client to the same table). Lets a test take the path
 * the code takes on AWS.
 */
export function returnItemOnFailedCondition(client: DynamoDBClient, reader: DynamoDBClient): () => void {
  return atTheEdge(client, 'all-old', (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      const input = args.input as { TableName?: string; Key?: Record<string, never> };
      const wanted = (args.input as { ReturnValuesOnConditionCheckFailure?: string })
        .ReturnValuesOnConditionCheckFailure;
      if (!(error instanceof ConditionalCheckFailedException) || wanted !== 'ALL_OLD' || !input.Key)
        throw error;
      const { Item } = await reader.send(
        new GetItemCommand({ TableName: input.TableName, Key: input.Key, ConsistentRead: true }),
      );
      if (Item) error.Item = Item;
      throw error;
    }
  });
}

/**
 * DynamoDB refuses a Query whose ExclusiveStartKey lies outside its sort key condition ("The
 * provided starting key does not match the range key predicate"); dynalite does not check.
 * This checks it at the client's edge, as DynamoDB would, for conditions `<sk> <op> :value`.
 */
export function refuseStartKeysOutsideTheRange(client: DynamoDBClient): () => void {
  return atTheEdge(client, 'start-key-range', (next, context) => async (args) => {
    const input = args.input as {
      KeyConditionExpression?: string;
      ExclusiveStartKey?: Record<string, { S?: string }>;
      ExpressionAttributeValues?: Record<string, { S?: string }>;
    };
    const condition = /(\w+sk) (<=|>=|<|>) (:\w+)/.exec(input.KeyConditionExpression ?? '');
    if (context.commandName === 'QueryCommand' && condition && input.ExclusiveStartKey) {
      const [, attribute, operator, placeholder] = condition as unknown as [string, string, string, string];
      const start = input.ExclusiveStartKey[attribute]?.S ?? '';
      const bound = input.ExpressionAttributeValues?.[placeholder]?.S ?? '';
      const inRange = { '<': start < bound, '<=': start <= bound, '>': start > bound, '>=': start >= bound }[
        operator as '<' | '<=' | '>' | '>='
      ];
      if (!inRange) {
        throw new DynamoDBServiceException({
          name: 'ValidationException',
          $fault: 'client',
          message: 'The provided starting key does not match the range key predicate',
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    return next(args);
  });
}

/** Every call of `client` fails, as while the service is down (a 5xx from it), until `up()`. */
export function serviceDown(client: DynamoDBClient | SQSClient): { up(): void } {
  const remove = atTheEdge(client, 'down', () => async () => {
    throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
  });
  return { up: remove };
}
