import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { phoneContactKey } from '#lib/domain/contact.ts';
import { newId } from '#lib/domain/ids.ts';
import { pollOnce } from '#lib/local/worker.ts';
import { createLog } from '#lib/runtime/log.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';
import { runAckFloor } from './ack-floor.ts';
import { type Backend, benchConfig, inParallel, startBackend } from './backend.ts';
import { createFrontApp } from './front.ts';
import {
  captureCalls,
  type IngestTemplate,
  ingestTemplate,
  itemSizes,
  runIngestFloor,
  summarizeCalls,
} from './ingest-floor.ts';
import { serveCalls } from './rpc.ts';
import { BENCH_AUTH_TOKEN, customerNumber, signedSms } from './twilio-load.ts';

// One bench process per role, on the core the load generator does not use (bench/rpc.ts).
const role = process.argv[2];
const log = createLog('switchboard-bench');

async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<number> {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return (server.address() as AddressInfo).port;
}

async function bare() {
  // The floor of the front figure: Hono answering 200, on the same Node server.
  const app = new Hono();
  app.post('*', (c) => c.text('ok'));
  const port = await listen(app.fetch);
  serveCalls({ ready: () => ({ port }) });
}

async function front() {
  const { app, store } = createFrontApp(await benchConfig(), log);
  const port = await listen(app.fetch);
  serveCalls({ ready: () => ({ port }), messages: () => store.messageCount });
}

/** Known contacts whose last conversation was resolved: the pointer is clear, the contact is there. */
async function prepareContacts(backend: Backend, first: number, count: number) {
  const store = backend.runtime.store;
  const now = new Date(Date.now() - 86_400_000);
  await inParallel(count, 10, async (i) => {
    const key = phoneContactKey(customerNumber(first + i));
    const { conversationId } = await store.claimOpenConversation(key, newId('conv', now), {
      channel: 'sms',
      now,
    });
    await store.releaseOpenConversation(key, conversationId, now);
  });
}

async function ingest() {
  const backend = await startBackend(log);
  const capture = captureCalls([backend.dynamodb, backend.sqs]);
  const port = await listen(backend.runtime.app.fetch);
  let template: IngestTemplate | undefined;
  serveCalls({
    ready: () => ({ port }),
    prepareContacts: (first: number, count: number) => prepareContacts(backend, first, count),
    /** Records one message's calls (customer n, sent by the parent meanwhile) as the floor's template. */
    startCapture: () => {
      capture.calls.length = 0;
      capture.on = true;
    },
    stopCapture: (n: number) => {
      capture.on = false;
      template = ingestTemplate(capture.calls, customerNumber(n));
      return {
        calls: capture.calls.length,
        summary: summarizeCalls(capture.calls),
        sizes: itemSizes(capture.calls),
      };
    },
    floor: (first: number, count: number, concurrency: number) => {
      if (!template) throw new Error('capture a message first');
      return runIngestFloor(backend, template, first, count, concurrency);
    },
  });
}

async function ack() {
  const backend = await startBackend(log);
  const capture = captureCalls([backend.dynamodb, backend.sqs]);
  /** `count` customers' first messages through the real app in this process: each leaves a pending ack and its job. */
  const prepare = async (floor: boolean, first: number, count: number) => {
    const { app } = floor ? backend.floorRuntime : backend.runtime;
    await inParallel(count, 10, async (i) => {
      const { path, headers, body } = signedSms(first + i, backend.config.publicUrl);
      const response = await app.request(path, { method: 'POST', headers, body });
      if (response.status !== 200) throw new Error(`preparing an ack: ${response.status}`);
    });
  };
  const worker = {
    sqs: backend.sqs,
    queueUrl: backend.config.aws.ackQueueUrl as string,
    handle: (record: { body: string; receiveCount: number; messageId: string }) =>
      handleWorkRecord(backend.runtime.workDeps, record),
    log,
    waitSeconds: 0,
  };
  serveCalls({
    ready: () => ({ authToken: BENCH_AUTH_TOKEN }),
    prepare,
    /** One worker (the local stand-in for the SQS event source) until `count` acks are handled. */
    worker: async (count: number, captureOne: boolean) => {
      const started = performance.now();
      let handled = 0;
      capture.calls.length = 0;
      capture.on = captureOne;
      while (handled < count) {
        const result = await pollOnce(worker);
        handled += result.handled;
        if (capture.on) {
          capture.on = false;
          return {
            acksPerSecond: 0,
            summary: `${summarizeCalls(capture.calls)} (items: ${itemSizes(capture.calls)})`,
            perBatch: result.received,
          };
        }
        if (performance.now() - started > 300_000) throw new Error('ack worker starved');
      }
      return { acksPerSecond: handled / ((performance.now() - started) / 1000), summary: '', perBatch: 0 };
    },
    floor: (count: number) =>
      runAckFloor(backend, backend.config.aws.tableName, backend.floorQueueUrl, count),
  });
}

const roles: Record<string, () => Promise<void>> = { bare, front, ingest, ack };
const start = role ? roles[role] : undefined;
if (!start) throw new Error(`unknown bench role ${role}`);
await start();
process.once('SIGTERM', () => process.exit(0));
