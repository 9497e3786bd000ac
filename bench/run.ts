/**
 * npm run bench: every benchmark, one after the other, each in its own process (so none disturbs
 * another's heap or JIT), printing figure, peer figure from the same run, and ratio.
 *   npm run bench                 everything (about 18 minutes on 2 cores; http needs wrk)
 *   npm run bench -- micro http   a subset: micro, store, middleware, memory, http, metrics
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const steps: Array<{ name: string; args: string[] }> = [
  { name: 'micro', args: ['--expose-gc', '--import', 'tsx', 'bench/micro.ts'] },
  { name: 'store', args: ['--import', 'tsx', 'bench/store-expiry.ts'] },
  { name: 'middleware', args: ['--import', 'tsx', 'bench/middleware.ts'] },
  { name: 'memory', args: ['--expose-gc', '--import', 'tsx', 'bench/cache-memory.ts', '--uses', '1'] },
  { name: 'memory', args: ['--expose-gc', '--import', 'tsx', 'bench/cache-memory.ts', '--uses', '2'] },
  { name: 'memory', args: ['--expose-gc', '--max-old-space-size=128', '--import', 'tsx', 'bench/cache-memory.ts', '--uses', '2'] },
  { name: 'memory', args: ['--expose-gc', '--import', 'tsx', 'bench/cache-memory.ts', '--real', '--tokens', '40000', '--uses', '2'] },
  { name: 'http', args: ['--import', 'tsx', 'bench/http.ts'] },
  { name: 'metrics', args: ['--import', 'tsx', 'bench/metrics-cost.ts'] },
];
const wanted = new Set(process.argv.slice(2).filter((a) => !a.startsWith('-')));
let failed = false;
for (const step of steps) {
  if (wanted.size > 0 && !wanted.has(step.name)) continue;
  process.stdout.write(`\n$ node ${step.args.join(' ')}\n`);
  const result = spawnSync(process.execPath, step.args, { cwd: ROOT, stdio: 'inherit', timeout: 10 * 60_000 });
  if (result.status !== 0) {
    process.stdout.write(`${step.name}: exited with ${result.status ?? result.signal}\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
