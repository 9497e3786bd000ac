/**
 * Profile of the protected route's hot path: runs bench/server.ts with --cpu-prof, drives one
 * route with autocannon for a few seconds, and prints the functions with the most self time.
 *   node --import tsx bench/profile.ts [--route me|unguarded|me-uncached|exchange] [--seconds 4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeGoogle } from '../testkit/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../testkit/harness';
import { googleIdTokens } from './common';
import { topFunctions } from './cpu-profile';

const ROOT = path.resolve(__dirname, '..');
const routeArg = process.argv.indexOf('--route');
const ROUTE = routeArg >= 0 ? (process.argv[routeArg + 1] as string) : 'me';
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 4;

async function main(): Promise<void> {
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
  // Exchanges need a Google ID token each (replay protection is on).
  const googlePool = ROUTE === 'exchange' ? await googleIdTokens(fake.google.keys[0]!, WEB_CLIENT_ID, SECONDS * 6000) : [];
  let next = 0;
  const opts: autocannon.Options =
    ROUTE === 'exchange'
      ? {
          url,
          requests: [
            {
              method: 'POST',
              path: '/v1/token/google',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify({ idToken: googlePool[next++ % googlePool.length] }) }),
            },
          ],
        }
      : { url: `${url}${ROUTE === 'unguarded' ? '/bench/unguarded' : '/v1/me'}`, headers: { authorization: `Bearer ${idToken}` } };
  const result = await autocannon({ ...opts, connections: 64, duration: SECONDS });
  process.stdout.write(`${ROUTE}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms\n`);
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
