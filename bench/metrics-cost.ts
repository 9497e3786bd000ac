/**
 * What metrics cost per request and per scrape, in-process (CPU time, so load on the machine moves it less
 * than an HTTP figure): the request-duration observation the request logger makes per request, the
 * counting a verification or exchange does, and one scrape of a registry with every collector.
 *   node --import tsx bench/metrics-cost.ts [--ms 1500]
 */
import { InvalidTokenError } from '../src/errors';
import { createMetrics } from '../src/metrics/metrics';
import { OutcomeCounts } from '../src/outcomes';
import { type Row, fmt, printRows } from './common';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const MS = arg('ms', 1500);

/** Calls of `op` per second over about MS milliseconds (in batches, so the clock is read rarely). */
function perSecond(op: (i: number) => void, batch = 1000): number {
  for (let i = 0; i < batch * 20; i += 1) op(i); // warm-up (JIT)
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MS) {
    for (let i = 0; i < batch; i += 1) op(calls + i);
    calls += batch;
    elapsed = performance.now() - start;
  }
  return calls / (elapsed / 1000);
}

async function main(): Promise<void> {
  process.stdout.write(`# metrics cost (${new Date().toISOString()}, node ${process.version}, ${MS} ms per case)\n`);
  const counts = new OutcomeCounts();
  const refusal = new InvalidTokenError('expired', 'ERR_TOKEN_EXPIRED');
  const metrics = createMetrics({
    clock: Date.now,
    exchanges: counts,
    verifications: { firebase: counts, google: counts },
    keySets: [],
    googleApis: [],
  });
  const routes = ['/v1/me', '/v1/token/google', '/v1/authz', '/healthz'];
  const statuses = [200, 200, 200, 401];
  const observe = perSecond((i) => metrics.observeRequest(routes[i & 3], statuses[i & 3] as number, 0.0004));
  const succeeded = perSecond(() => counts.succeeded());
  const failed = perSecond(() => counts.failed(refusal));
  const empty = perSecond(() => undefined);
  const renders: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const t0 = performance.now();
    await metrics.render();
    renders.push(performance.now() - t0);
  }
  renders.sort((a, b) => a - b);
  const ns = (rate: number) => `${fmt(1e9 / rate)} ns`;
  const rows: Row[] = [
    { case: 'request-duration observation (per request with metrics on) vs an empty call', figure: ns(observe), peer: ns(empty), ratio: (1 / observe) / (1 / empty) },
    { case: 'a counted success (every verification and exchange) vs an empty call', figure: ns(succeeded), peer: ns(empty), ratio: (1 / succeeded) / (1 / empty) },
    { case: 'a counted refusal (map update keyed by error code) vs an empty call', figure: ns(failed), peer: ns(empty), ratio: (1 / failed) / (1 / empty) },
    { case: 'one scrape (render, process defaults included), median of 50', figure: `${(renders[25] as number).toFixed(2)} ms`, peer: `${(renders[49] as number).toFixed(2)} ms max`, ratio: (renders[25] as number) / (renders[49] as number) },
  ];
  printRows('metrics cost (in-process)', rows);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
