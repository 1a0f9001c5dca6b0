import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { newId, stableId } from '#lib/domain/ids.ts';
import { twilioSid } from '#lib/local/simulate-payloads.ts';
import { inParallel } from './backend.ts';
import { customerNumber } from './twilio-load.ts';

/** One SDK call as the runtime issued it: command name and input, as the middleware saw it. */
export type CapturedCall = { command: string; input: Record<string, unknown> };

/** Records every call a client sends while `on` is true (the bench's view of one request). */
export function captureCalls(clients: readonly (DynamoDBClient | SQSClient)[]): {
  calls: CapturedCall[];
  on: boolean;
} {
  const capture = { calls: [] as CapturedCall[], on: false };
  for (const client of clients) {
    // The two clients' stacks differ only in their input and output types.
    (client as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        if (capture.on) {
          const input = structuredClone(args.input) as Record<string, unknown>;
          capture.calls.push({ command: context.commandName ?? '?', input });
        }
        return next(args);
      },
      { step: 'initialize', name: 'benchCapture' },
    );
  }
  return capture;
}

/** `GetItem CONTACT`, `PutItem CONV`, `SendMessage`, …: what each captured call touched. */
export function describeCall(call: CapturedCall): string {
  const name = call.command.replace(/Command$/, '');
  const key = (call.input.Key ?? call.input.Item) as Record<string, { S?: string }> | undefined;
  const pk = key?.pk?.S ?? (typeof call.input.IndexName === 'string' ? `index ${call.input.IndexName}` : '');
  const what = pk.split('#')[0] ?? '';
  return what ? `${name} ${what}` : name;
}

/** The size of each item written (JSON of its plain value: close to DynamoDB's own count). */
export function itemSizes(calls: readonly CapturedCall[]): string {
  return calls
    .filter((call) => call.command === 'PutItemCommand')
    .map((call) => {
      const item = call.input.Item as Record<string, AttributeValue>;
      return `${describeCall(call).replace('PutItem ', '')} ${JSON.stringify(unmarshall(item), (_k, v) => (v instanceof Set ? [...v] : v)).length} B`;
    })
    .join(', ');
}

/** Counts per described call, in the order first seen: `PutItem CONV x2, …`. */
export function summarizeCalls(calls: readonly CapturedCall[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(describeCall(call), (counts.get(describeCall(call)) ?? 0) + 1);
  return [...counts].map(([call, count]) => (count > 1 ? `${call} x${count}` : call)).join(', ');
}

export type IngestTemplate = {
  number: string;
  conversationId: string;
  messageId: string;
  sid: string;
  claim: UpdateItemCommandInput;
  message: PutItemCommandInput;
  conversation: PutItemCommandInput;
  job: SendMessageCommandInput;
};

const pkOf = (input: Record<string, unknown>) =>
  ((input.Key ?? input.Item) as Record<string, { S?: string }> | undefined)?.pk?.S ?? '';

/**
 * The writes docs/store.md lists for a new message of a known contact with no open
 * conversation, taken from what recordInbound really sent (same items, same conditions):
 * 1 claim the contact (UpdateItem), 2 put the message, 3 put the new conversation, 4 send the job.
 */
export function ingestTemplate(calls: readonly CapturedCall[], number: string): IngestTemplate {
  const find = (command: string, prefix: string) => {
    const call = calls.find((c) => c.command === command && pkOf(c.input).startsWith(prefix));
    if (!call) throw new Error(`recordInbound sent no ${command} on ${prefix}: ${summarizeCalls(calls)}`);
    return call.input;
  };
  const claim = find('UpdateItemCommand', 'CONTACT#') as unknown as UpdateItemCommandInput;
  const message = find('PutItemCommand', 'MSG#') as unknown as PutItemCommandInput;
  const conversation = find('PutItemCommand', 'CONV#') as unknown as PutItemCommandInput;
  const job = calls.find((c) => c.command === 'SendMessageCommand')?.input as unknown as
    | SendMessageCommandInput
    | undefined;
  if (!job) throw new Error(`recordInbound sent no SQS job: ${summarizeCalls(calls)}`);
  const item = message.Item as Record<string, { S?: string }>;
  return {
    number,
    conversationId: item.conversationId?.S ?? '',
    messageId: item.id?.S ?? '',
    sid: item.providerMessageId?.S ?? '',
    claim,
    message,
    conversation,
    job,
  };
}

/** The template with one message's identifiers in place of the captured ones. */
function instantiate<T>(input: T, swaps: ReadonlyArray<readonly [string, string]>): T {
  let text = JSON.stringify(input);
  for (const [from, to] of swaps) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}

/**
 * The floor of "full ingest": the same four calls, issued straight through the SDK by
 * `concurrency` loops (as many as the load's connections), for customers first … first+count-1
 * (known contacts with no open conversation). Returns messages a second.
 */
export async function runIngestFloor(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  template: IngestTemplate,
  first: number,
  count: number,
  concurrency: number,
): Promise<number> {
  const started = performance.now();
  await inParallel(count, concurrency, async (i) => {
    const sid = twilioSid('SM');
    const swaps = [
      [template.number, customerNumber(first + i)],
      [template.conversationId, newId('conv', new Date())],
      [template.messageId, stableId('msg', `twilio:${sid}`)],
      [template.sid, sid],
    ] as const;
    await clients.dynamodb.send(new UpdateItemCommand(instantiate(template.claim, swaps)));
    await clients.dynamodb.send(new PutItemCommand(instantiate(template.message, swaps)));
    await clients.dynamodb.send(new PutItemCommand(instantiate(template.conversation, swaps)));
    await clients.sqs.send(new SendMessageCommand(instantiate(template.job, swaps)));
  });
  return count / ((performance.now() - started) / 1000);
}
