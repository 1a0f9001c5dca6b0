// `npm run bench [-- --quick] [-- --check]`: one table of ratios, each subject against a floor
// measured in the same run on this machine (never absolute numbers: they do not travel).
import { BENCH_PUBLIC_URL } from './backend.ts';
import { measureBundles } from './bundles.ts';
import { closedLoop } from './load.ts';
import { measureNpmStart } from './npm-start.ts';
import { CONNECTIONS, enforced, flags, only, quick, SIZES } from './options.ts';
import { fmt, log, notes, rows, spread, table } from './report.ts';
import { startChild } from './rpc.ts';
import { type Budget, describeBudget, judge, median, percentile, type Sample, sample } from './stats.ts';
import { customerNumber, signedSms, signedSmsBatch } from './twilio-load.ts';

function addRatioRow(figure: string, subject: Sample, floor: Sample, unit: string, budget: Budget) {
  const verdict = judge(subject.median, floor.median, budget);
  rows.push({
    group: current,
    figure,
    subject: spread(subject, unit),
    floor: spread(floor, unit),
    ratio: verdict.ratio,
    budget,
    ok: verdict.ok,
  });
}

/** Hands out consecutive customer numbers: each call reserves `count` and returns the first. */
function customerRange(first: number): (count: number) => number {
  let next = first;
  return (count) => {
    const start = next;
    next += count;
    return start;
  };
}

/** Webhook front: the real app with in-memory ports against bare Hono, on the same server. */
async function front() {
  log('front: bare Hono vs the real app with in-memory ports');
  const bare = await startChild('bare');
  const app = await startChild('front');
  try {
    const origin = async (child: typeof bare) =>
      `http://127.0.0.1:${(await child.call<{ port: number }>('ready')).port}`;
    const [bareOrigin, appOrigin] = [await origin(bare), await origin(app)];
    // Enough distinct messages that the subject never sees a duplicate (it would answer faster).
    let customer = 0;
    const batch = (count: number) => {
      const requests = signedSmsBatch(customer, count, BENCH_PUBLIC_URL);
      customer += count;
      return requests;
    };
    const warm = { connections: CONNECTIONS, durationSeconds: SIZES.warmSeconds };
    await closedLoop({ ...warm, origin: bareOrigin, requests: batch(1_000) });
    await closedLoop({ ...warm, origin: appOrigin, requests: batch(SIZES.warmSeconds * 12_000) });
    const floor: number[] = [];
    const subject: number[] = [];
    for (let run = 0; run < SIZES.runs; run++) {
      const timed = { connections: CONNECTIONS, durationSeconds: SIZES.httpSeconds };
      const f = await closedLoop({ ...timed, origin: bareOrigin, requests: batch(1_000) });
      const s = await closedLoop({
        ...timed,
        origin: appOrigin,
        requests: batch(SIZES.httpSeconds * 12_000),
      });
      if (f.failed || s.failed)
        throw new Error(`front: ${f.failed} floor / ${s.failed} subject requests failed`);
      if (s.reused) notes.push('front: the subject ran out of distinct messages and saw duplicates');
      floor.push(f.reqPerSec);
      subject.push(s.reqPerSec);
    }
    addRatioRow(
      'webhook front (signed Twilio SMS, in-memory ports)',
      sample(subject),
      sample(floor),
      'req/s',
      { kind: 'atLeast', ratio: 0.5 },
    );
    notes.push(
      `front floor: bare Hono on @hono/node-server answering 200; ${CONNECTIONS} connections, ${SIZES.httpSeconds} s a run`,
    );
  } finally {
    await Promise.all([bare.stop(), app.stop()]);
  }
}

/** Full ingest over HTTP against the embedded emulators vs recordInbound's writes issued directly. */
async function ingest() {
  log('ingest: the real runtime over the embedded emulators vs the same writes through the SDK');
  const child = await startChild('ingest');
  try {
    const { port } = await child.call<{ port: number }>('ready');
    const origin = `http://127.0.0.1:${port}`;
    const warm = Math.min(200, SIZES.ingest);
    const total = 1 + 2 * warm + 2 * SIZES.runs * SIZES.ingest;
    await child.call('prepareContacts', 0, total);
    // One message of a known contact, captured call by call: the floor's template.
    await child.call('startCapture');
    const response = await fetch(`${origin}/webhooks/twilio/messaging`, {
      method: 'POST',
      ...signedSms(0, BENCH_PUBLIC_URL),
    });
    if (response.status !== 200) throw new Error(`ingest: the app answered ${response.status}`);
    const captured = await child.call<{ calls: number; summary: string; sizes: string }>('stopCapture', 0);
    notes.push(`one recordInbound over HTTP issued ${captured.calls} SDK calls: ${captured.summary}`);
    notes.push(`items it put: ${captured.sizes}`);
    notes.push(
      'ingest floor: UpdateItem CONTACT (claim), PutItem MSG, PutItem CONV, SendMessage (docs/store.md steps 1-4)',
    );
    const take = customerRange(1);
    const httpRun = async (count: number) => {
      const first = take(count);
      const requests = signedSmsBatch(first, count, BENCH_PUBLIC_URL);
      const result = await closedLoop({ origin, connections: CONNECTIONS, amount: count, requests });
      if (result.failed) throw new Error(`ingest: ${result.failed} of ${count} webhooks failed`);
      return result.reqPerSec;
    };
    const floorRun = (count: number) => child.call<number>('floor', take(count), count, CONNECTIONS);
    await floorRun(warm);
    await httpRun(warm);
    const floor: number[] = [];
    const subject: number[] = [];
    for (let run = 0; run < SIZES.runs; run++) {
      floor.push(await floorRun(SIZES.ingest));
      subject.push(await httpRun(SIZES.ingest));
    }
    addRatioRow('full ingest, embedded emulators (msg/s)', sample(subject), sample(floor), 'msg/s', {
      kind: 'atLeast',
      ratio: 0.7,
    });
  } finally {
    await child.stop();
  }
}

/** One ack worker against the raw SDK calls one ack needs. */
async function acks() {
  log('acks: one worker vs the raw SDK calls of one ack');
  const child = await startChild('ack');
  try {
    const take = customerRange(10_000_000);
    await child.call('prepare', false, take(1), 1);
    const one = await child.call<{ summary: string }>('worker', 1, true);
    notes.push(`one ack by the worker issued: ${one.summary}`);
    notes.push(
      'ack floor: ReceiveMessage (10), GetItem CONV, PutItem CONV (claim), GetItem MSG, PutItem MSG, PutItem CONV (sent), DeleteMessage',
    );
    const warm = Math.min(100, SIZES.acks);
    const perRun = SIZES.acks;
    await child.call('prepare', true, take(warm + SIZES.runs * perRun), warm + SIZES.runs * perRun);
    await child.call('prepare', false, take(warm + SIZES.runs * perRun), warm + SIZES.runs * perRun);
    await child.call('floor', warm);
    await child.call('worker', warm, false);
    const floor: number[] = [];
    const subject: number[] = [];
    for (let run = 0; run < SIZES.runs; run++) {
      floor.push(await child.call<number>('floor', perRun));
      subject.push((await child.call<{ acksPerSecond: number }>('worker', perRun, false)).acksPerSecond);
    }
    addRatioRow('ack worker, one worker (acks/s)', sample(subject), sample(floor), 'acks/s', {
      kind: 'atLeast',
      ratio: 0.7,
    });
  } finally {
    await child.stop();
  }
}

async function bundles() {
  log('bundles: the http function vs bare Hono + hono/aws-lambda + DynamoDB + SQS');
  const figures = await measureBundles(SIZES.imports);
  const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`;
  const gzip = judge(figures.http.gzipBytes, figures.bare.gzipBytes, { kind: 'atMost', ratio: 1.5 });
  rows.push({
    group: current,
    figure: 'http function bundle, gzip',
    subject: kb(figures.http.gzipBytes),
    floor: kb(figures.bare.gzipBytes),
    ratio: gzip.ratio,
    budget: { kind: 'atMost', ratio: 1.5 },
    ok: gzip.ok,
  });
  const ms = (values: number[]) =>
    `${fmt(median(values))} ms (${fmt(Math.min(...values))}-${fmt(Math.max(...values))})`;
  const cold = judge(median(figures.http.importMs), median(figures.bare.importMs), {
    kind: 'atMost',
    ratio: 1.5,
  });
  rows.push({
    group: current,
    figure: `cold import of the http bundle (median of ${SIZES.imports})`,
    subject: ms(figures.http.importMs),
    floor: ms(figures.bare.importMs),
    ratio: cold.ratio,
    budget: { kind: 'atMost', ratio: 1.5 },
    ok: cold.ok,
  });
  notes.push(
    `http bundle, heaviest packages (raw): ${figures.http.largest
      .slice(0, 6)
      .map((p) => `${p.name} ${kb(p.bytes)}`)
      .join(', ')}`,
  );
}

async function local() {
  log(`npm start: latency of ${SIZES.latency} messages, then RSS around ${fmt(SIZES.webhooks)} webhooks`);
  const figures = await measureNpmStart({
    latencyMessages: SIZES.latency,
    ratePerSecond: 20,
    webhooks: SIZES.webhooks,
    firstCustomer: 20_000_000,
  });
  const acked = figures.latencyMs.length;
  rows.push({
    group: current,
    figure: `inbound -> ack in the outbox, npm start (${acked}/${SIZES.latency} acked, 20 msg/s)`,
    subject: `p50 ${fmt(percentile(figures.latencyMs, 50))} ms, p99 ${fmt(percentile(figures.latencyMs, 99))} ms`,
    floor: '-',
  });
  if (acked < SIZES.latency)
    notes.push(`latency: only ${acked} of ${SIZES.latency} acks reached the outbox in time`);
  const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;
  const rss = judge(figures.rssAfterBytes, figures.rssStartBytes, { kind: 'atMost', ratio: 1.5 });
  rows.push({
    group: current,
    figure: `RSS of npm start after ${fmt(figures.webhooks)} webhooks`,
    subject: mb(figures.rssAfterBytes),
    floor: `${mb(figures.rssStartBytes)} at start`,
    ratio: rss.ratio,
    budget: { kind: 'atMost', ratio: 1.5 },
    ok: rss.ok,
  });
  const { splitStart: a, splitAfter: b } = figures;
  notes.push(
    `RSS split: private (RssAnon) ${mb(a.anonBytes)} -> ${mb(b.anonBytes)} (${fmt(b.anonBytes / a.anonBytes, 2)}x), mapped files (RssFile: dynalite's LevelDB tables, the node binary) ${mb(a.fileBytes)} -> ${mb(b.fileBytes)}`,
  );
  notes.push(
    `npm start took the ${fmt(figures.webhooks)} webhooks at ${fmt(figures.webhookReqPerSec)} req/s (on-disk emulators)`,
  );
}

const started = performance.now();
const failures: string[] = [];
let current = '';
for (const [name, figure] of [
  ['front', front],
  ['ingest', ingest],
  ['acks', acks],
  ['bundles', bundles],
  ['npm start', local],
] as const) {
  current = name.replace(' ', '-');
  if (only && !only.includes(current)) continue;
  try {
    await figure();
  } catch (error) {
    failures.push(`${name}: ${(error as Error).message}`);
    rows.push({ group: current, figure: name, subject: 'not measured', floor: '-', ok: false });
  }
}
process.stdout.write(`\n${table()}\n\n`);
for (const note of notes) process.stdout.write(`- ${note}\n`);
process.stdout.write(
  `\n${quick ? 'quick' : 'full'} run, ${fmt((performance.now() - started) / 1000)} s, Node ${process.versions.node}, customer ${customerNumber(0)}…\n`,
);
const judged = flags.check ? rows : rows.filter((row) => enforced?.includes(row.group));
const broken = judged.filter((row) => row.ok === false);
for (const failure of failures) process.stdout.write(`failed to measure: ${failure}\n`);
if (broken.length > 0 && (flags.check || enforced)) {
  for (const row of broken) {
    process.stdout.write(
      `budget broken: ${row.figure}: ${row.ratio === undefined ? 'not measured' : `${fmt(row.ratio, 2)} (${row.budget ? describeBudget(row.budget) : ''})`}\n`,
    );
  }
  process.exit(1);
}
process.exit(0);
