import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmStartArguments, PROJECT_ROOT } from '#lib/local/paths.ts';
import { closedLoop } from './load.ts';
import {
  BENCH_ACCOUNT_SID,
  BENCH_AGENT_TOKEN,
  BENCH_AUTH_TOKEN,
  customerNumber,
  type LoadRequest,
  signedSms,
} from './twilio-load.ts';

export type LocalFigures = {
  latencyMs: number[];
  rssStartBytes: number;
  rssAfterBytes: number;
  /** The same two moments split: private memory (RssAnon) and mapped files (RssFile, page cache). */
  splitStart: RssSplit;
  splitAfter: RssSplit;
  webhooks: number;
  webhookReqPerSec: number;
};

/** The resident set of a process, from /proc (Linux). */
export type RssSplit = { anonBytes: number; fileBytes: number };

async function statusBytes(pid: number, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1];
  if (!kb) throw new Error(`no ${field} for ${pid}`);
  return Number(kb) * 1024;
}

const rssBytes = (pid: number) => statusBytes(pid, 'VmRSS');
const rssSplit = async (pid: number): Promise<RssSplit> => ({
  anonBytes: await statusBytes(pid, 'RssAnon'),
  fileBytes: await statusBytes(pid, 'RssFile'),
});

/** Reads the lines appended to a file since the last call. */
function tail(path: string): () => Promise<string[]> {
  let offset = 0;
  let rest = '';
  return async () => {
    const file = await open(path, 'r').catch(() => null);
    if (!file) return [];
    try {
      const { size } = await file.stat();
      if (size <= offset) return [];
      const buffer = Buffer.alloc(size - offset);
      await file.read(buffer, 0, buffer.length, offset);
      offset = size;
      const lines = (rest + buffer.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      return lines.filter(Boolean);
    } finally {
      await file.close();
    }
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `npm start`'s program (node lib/local/main.ts) on a fresh data dir and a free port. */
async function startNpmStart(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(SWITCHBOARD_|PUBLIC_URL|ACK_QUEUE_URL|TABLE_NAME)/.test(name)) delete env[name];
  const child = spawn(process.execPath, npmStartArguments(), {
    cwd: PROJECT_ROOT,
    env: {
      ...env,
      NODE_ENV: 'development',
      PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      TWILIO_AUTH_TOKEN: BENCH_AUTH_TOKEN,
      TWILIO_ACCOUNT_SID: BENCH_ACCOUNT_SID,
      AGENT_API_TOKEN: BENCH_AGENT_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /listening on (http:\/\/localhost:\d+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${seen.slice(-500)}`)));
  });
  // Keep reading its log (one JSON line per event, as on Lambda), so the pipe never fills.
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return { child, url };
}

/**
 * `npm start` as a developer runs it (on-disk emulators, worker, sweeper) in its own process:
 * inbound -> ack latency (signed SMS from new customers at a steady `ratePerSecond`, each
 * timed from the request to its ack's line in outbox.jsonl), then RSS at start against RSS
 * after `webhooks` more webhooks (10 connections) and their acks.
 */
export async function measureNpmStart(options: {
  latencyMessages: number;
  ratePerSecond: number;
  webhooks: number;
  firstCustomer: number;
}): Promise<LocalFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-start-'));
  const { child, url } = await startNpmStart(dataDir);
  const pid = child.pid as number;
  const origin = url.replace('localhost', '127.0.0.1');
  const outbox = tail(join(dataDir, 'outbox.jsonl'));
  try {
    await sleep(1000);
    const rssStartBytes = await rssBytes(pid);
    const splitStart = await rssSplit(pid);

    // Latency: an open loop at a steady rate, each message from a new customer (so each is acked).
    const sentAt = new Map<string, number>();
    const latencyMs: number[] = [];
    const posts: Promise<unknown>[] = [];
    const collect = async () => {
      for (const line of await outbox()) {
        const entry = JSON.parse(line) as { to: string; at: string };
        const sent = sentAt.get(entry.to);
        if (sent !== undefined) latencyMs.push(Date.parse(entry.at) - sent);
      }
    };
    for (let i = 0; i < options.latencyMessages; i++) {
      const n = options.firstCustomer + i;
      const request = signedSms(n, url);
      sentAt.set(customerNumber(n), Date.now());
      posts.push(post(origin, request));
      await sleep(1000 / options.ratePerSecond);
      await collect();
    }
    await Promise.all(posts);
    for (let waited = 0; latencyMs.length < options.latencyMessages && waited < 60_000; waited += 50) {
      await sleep(50);
      await collect();
    }

    // Memory: many webhooks, five messages per customer (one conversation and one ack each).
    const customers = Math.max(1, Math.floor(options.webhooks / 5));
    const first = options.firstCustomer + options.latencyMessages;
    const requests = Array.from({ length: options.webhooks }, (_, i) =>
      signedSms(first + (i % customers), url),
    );
    const load = await closedLoop({ origin, connections: 10, amount: options.webhooks, requests });
    if (load.failed > 0) throw new Error(`npm start failed ${load.failed} of ${options.webhooks} webhooks`);
    let acks = 0;
    for (let waited = 0; acks < customers && waited < 180_000; waited += 200) {
      acks += (await outbox()).length;
      await sleep(200);
    }
    await sleep(2000);
    const rssAfterBytes = await rssBytes(pid);
    const splitAfter = await rssSplit(pid);
    return {
      latencyMs,
      rssStartBytes,
      rssAfterBytes,
      splitStart,
      splitAfter,
      webhooks: options.webhooks,
      webhookReqPerSec: load.reqPerSec,
    };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function post(origin: string, request: LoadRequest): Promise<void> {
  const response = await fetch(`${origin}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`npm start answered ${response.status}`);
}
