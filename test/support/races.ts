import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterCall, beforeCall, injectFault, pkStartsWith } from './faults.ts';
import type { TestSwitchboard } from './switchboard.ts';

type Item = Record<string, { S?: string }>;
const itemOf = (input: Record<string, unknown>) => (input.Item ?? input.Key) as Item | undefined;

/**
 * Arranges the race in which a reopen of `conversationId` gives way with a message joining it
 * (docs/store.md, "Concurrency"): right after the reopen's claim, message A reads the
 * conversation still resolved and is held there; the reopen writes it open and message B joins
 * it; then A opens a new conversation before the reopen renews its claim. Start the reopen
 * after this; `answers()` then gives A's and B's webhook statuses.
 */
export function reopenGivingWay(
  dynamodb: DynamoDBClient,
  conversationId: string,
  messages: { a: () => Promise<Response>; b: () => Promise<Response> },
): { answers(): Promise<[number, number]> } {
  const { promise: read, resolve: messageRead } = Promise.withResolvers<void>();
  const { promise: gate, resolve: letGo } = Promise.withResolvers<void>();
  let messageA: Promise<Response> | undefined;
  let deliveredB = 0;
  afterCall(
    dynamodb,
    { command: 'UpdateItemCommand', match: (input) => pkStartsWith('CONTACT#')(input) },
    async () => {
      afterCall(
        dynamodb,
        {
          command: 'GetItemCommand',
          match: (input, output) =>
            itemOf(input)?.pk?.S === `CONV#${conversationId}` &&
            (output.Item as Item | undefined)?.status?.S === 'resolved',
        },
        async () => {
          messageRead();
          await gate;
        },
      );
      afterCall(
        dynamodb,
        { command: 'PutItemCommand', match: (input) => itemOf(input)?.pk?.S === `CONV#${conversationId}` },
        async () => {
          deliveredB = (await messages.b()).status;
          letGo();
          await messageA;
        },
      );
      messageA = messages.a();
      await read;
    },
  );
  return {
    async answers() {
      return [(await messageA)?.status ?? 0, deliveredB];
    },
  };
}

/**
 * Arranges Twilio's "undelivered" callback for the ack to land between the worker storing the ack
 * and storing its provider-id alias; `callbackStatus` is then the webhook's answer to it.
 */
export function undeliveredBeforeAlias(sb: TestSwitchboard): {
  readonly fired: boolean;
  readonly callbackStatus: number;
} {
  let callbackStatus = 0;
  let sid = '';
  const race = beforeCall(
    sb.backends.dynamodb,
    {
      command: 'UpdateItemCommand',
      match: (input) => {
        const pk = (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
        sid = pk.slice('PMID#twilio:'.length);
        return pk.startsWith('PMID#twilio:');
      },
    },
    async () => {
      callbackStatus = (
        await sb.postTwilio('status', 'status-undelivered-30007', { MessageSid: sid, SmsSid: sid })
      ).status;
    },
  );
  return {
    get fired() {
      return race.fired;
    },
    get callbackStatus() {
      return callbackStatus;
    },
  };
}

/**
 * A customer's SMS from `from` whose ack worker sends and stores the ack, then dies before its
 * provider-id alias; the fault is removed again and says how often it `fired`.
 */
export async function ackWorkerDiedBeforeAlias(
  sb: TestSwitchboard,
  from: string,
): Promise<ReturnType<typeof injectFault>> {
  await sb.postSms({ From: from, Body: 'Dzień dobry, gdzie paczka?' });
  const fault = injectFault(sb.backends.dynamodb, {
    command: 'UpdateItemCommand',
    when: 'before',
    match: pkStartsWith('PMID#'),
  });
  await sb.drain();
  fault.remove();
  return fault;
}
