/**
 * Profile of the protected route's hot path: runs bench/server.ts with --cpu-prof, drives one
 * route with wrk (bench/wrk.ts) for a few seconds, and prints the functions with the most self time.
 *   node --import tsx bench/profile.ts [--route me|unguarded|me-uncached|exchange] [--seconds 4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeGoogle } from '../testkit/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../testkit/harness';
import { googleIdTokens } from './common';
import { topFunctions } from './cpu-profile';
import { type WrkTarget, requireWrk, runWrk } from './wrk';

const ROOT = path.resolve(__dirname, '..');
const routeArg = process.argv.indexOf('--route');
const ROUTE = routeArg >= 0 ? (process.argv[routeArg + 1] as string) : 'me';
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 4;

async function main(): Promise<void> {
  requireWrk();
  const fake = await FakeGoogle.start('bench-project-1');
  const keysDir = keysDirWith(fake.createServiceAccount());
  const idToken = await fake.firebaseIdToken({ email: 'ada@example.com', name: 'Ada Lovelace' });
  const profDir = mkdtempSync(path.join(tmpdir(), 'firebridge-prof-'));
  const env = {
    ...configuredEnv(fake, keysDir),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_EXCHANGE_PER_MINUTE: '0',
    BENCH_BODY_TOKEN: idToken,
    ...(ROUTE === 'me-uncached' ? { VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' } : {}),
  };
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--import', 'tsx', path.join(ROOT, 'bench/server.ts')], {
    cwd: ROOT,
    // UV_THREADPOOL_SIZE passes through (Node's default 4 otherwise).
    env: { PATH: process.env.PATH ?? '', PORT: '0', UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '4', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1] as string);
    });
  });
  // Exchanges need a Google ID token each (replay protection is on); wrk (bench/wrk.ts) sends each once.
  const target: WrkTarget = { url: '', pid: child.pid as number, mode: 'static' };
  if (ROUTE === 'exchange') {
    const tokens = await googleIdTokens(fake.google.keys[0]!, WEB_CLIENT_ID, SECONDS * 8000);
    const file = path.join(profDir, 'google.txt');
    writeFileSync(file, `${tokens.join('\n')}\n`);
    Object.assign(target, { url: `${url}/v1/token/google`, mode: 'exchange', file, offset: 0, limit: tokens.length });
  } else {
    Object.assign(target, { url: `${url}${ROUTE === 'unguarded' ? '/bench/unguarded' : '/v1/me'}`, headers: { authorization: `Bearer ${idToken}` } });
  }
  const result = await runWrk(target, SECONDS, 64);
  process.stdout.write(
    `${ROUTE}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms.toFixed(1)} ms, server CPU ${result.cpuMsPerRequest.toFixed(3)} ms per request ` +
      `(main thread ${result.mainCpuMsPerRequest.toFixed(3)} ms), ${result.cores.toFixed(2)} cores, non-2xx ${result.non2xx}\n`,
  );
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  process.stdout.write(`${topFunctions(profDir)}\n`);
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
