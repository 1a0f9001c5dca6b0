import { startChild } from '#lib/local/bench/rpc.ts';
import { closedLoop } from '#lib/local/bench/load.ts';
import { signedSmsBatch } from '#lib/local/bench/twilio-load.ts';
import { BENCH_PUBLIC_URL } from '#lib/local/bench/backend.ts';
const reqs = signedSmsBatch(0, 3000, BENCH_PUBLIC_URL);
for (const role of ['bare', 'front']) {
  const c = await startChild(role);
  const { port } = await c.call<{port:number}>('ready');
  for (let r=0;r<2;r++) console.log(role, await closedLoop({ origin: `http://127.0.0.1:${port}`, connections: 10, amount: 20000, requests: reqs }));
  if (role==='front') console.log('messages', await c.call('messages'));
  await c.stop();
}
