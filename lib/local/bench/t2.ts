import { createFrontApp } from '#lib/local/bench/front.ts';
import { benchConfig, BENCH_PUBLIC_URL } from '#lib/local/bench/backend.ts';
import { signedSmsBatch } from '#lib/local/bench/twilio-load.ts';
import { createLog } from '#lib/runtime/log.ts';
const { app } = createFrontApp(await benchConfig(), createLog('x', process.env.LVL as 'SILENT' | undefined));
const reqs = signedSmsBatch(0, 6000, BENCH_PUBLIC_URL);
let t = performance.now();
for (let i = 0; i < 6000; i++) {
  const r = reqs[i]!;
  const res = await app.request(r.path, { method: 'POST', headers: r.headers, body: r.body });
  if (res.status !== 200) throw new Error(String(res.status));
  if (i === 999) { console.error('warm', performance.now() - t); t = performance.now(); }
}
console.error('per req us', (performance.now() - t) / 5000 * 1000);
