/**
 * Profile of the protected route's hot path: runs bench/server.ts with --cpu-prof, drives one
 * route with autocannon for a few seconds, and prints the functions with the most self time.
 *   node --import tsx bench/profile.ts [--route me|unguarded|me-uncached|exchange] [--seconds 4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeGoogle } from '../test/support/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../test/support/harness';

const ROOT = path.resolve(__dirname, '..');
const routeArg = process.argv.indexOf('--route');
const ROUTE = routeArg >= 0 ? (process.argv[routeArg + 1] as string) : 'me';
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 4;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function main(): Promise<void> {
  const fake = await FakeGoogle.start('bench-project-1');
  const keysDir = keysDirWith(fake.createServiceAccount());
  const idToken = await fake.firebaseIdToken({ email: 'ada@example.com', name: 'Ada Lovelace' });
  const profDir = mkdtempSync(path.join(tmpdir(), 'firebridge-prof-'));
  const env = {
    ...configuredEnv(fake, keysDir),
    LOG_LEVEL: 'warn',
    BENCH_BODY_TOKEN: idToken,
    ...(ROUTE === 'me-uncached' ? { VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' } : {}),
  };
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--import', 'tsx', path.join(ROOT, 'bench/server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1] as string);
    });
  });
  const opts: autocannon.Options =
    ROUTE === 'exchange'
      ? { url: `${url}/v1/token/google`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ idToken: await fake.googleIdToken({ aud: WEB_CLIENT_ID }) }) }
      : { url: `${url}${ROUTE === 'unguarded' ? '/bench/unguarded' : '/v1/me'}`, headers: { authorization: `Bearer ${idToken}` } };
  const result = await autocannon({ ...opts, connections: 64, duration: SECONDS });
  process.stdout.write(`${ROUTE}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms\n`);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) as string;
  const profile = JSON.parse(readFileSync(path.join(profDir, file), 'utf8')) as { nodes: ProfileNode[] };
  const total = profile.nodes.reduce((sum, n) => sum + n.hitCount, 0);
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '';
    const name = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + n.hitCount);
  }
  const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [name, hits] of top) process.stdout.write(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}\n`);
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
