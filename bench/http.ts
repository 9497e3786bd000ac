/**
 * HTTP benchmark. The server runs in its own process (bench/server.ts, the real app plus bench-only
 * peer routes); autocannon runs here against 127.0.0.1, each case bounded in time. The fake
 * Google (test/support/fake-google.ts) runs here too; firebase-admin reaches it via a TLS relay.
 *   node --import tsx bench/http.ts [--seconds 3] [--connections 64]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeGoogle } from '../test/support/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../test/support/harness';
import { spawnServer } from '../test/support/spawn-server';
import { type Row, fmt, printRows } from './common';
import { startGoogleTls } from './google-tls';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SECONDS = arg('seconds', 3);
const CONNECTIONS = arg('connections', 64);
const ROOT = path.resolve(__dirname, '..');

interface BenchServer {
  child: ChildProcess;
  url: string;
  readyMs: number;
  startedAt: number;
  stop(): Promise<void>;
}

function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench server did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /\{"url":"(http:\/\/[^"]+)","readyMs":(\d+),"msg":"listening"\}/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1] as string,
          readyMs: Number(match[2]),
          startedAt,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with ${code}:\n${out}`));
    });
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function load(opts: autocannon.Options): Promise<Load> {
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

function describe(l: Load): string {
  const bad = l.non2xx + l.errors > 0 ? `, ${l.non2xx} non-2xx, ${l.errors} errors` : '';
  return `${fmt(l.rps)} req/s (p99 ${l.p99} ms${bad})`;
}

function get(url: string, token: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  process.stdout.write(`# HTTP benchmark (${new Date().toISOString()}, node ${process.version}, ${SECONDS} s per case, ${CONNECTIONS} connections)\n`);
  const fake = await FakeGoogle.start('bench-project-1');
  const tls = await startGoogleTls(fake.url);
  const account = fake.createServiceAccount();
  const keysDir = keysDirWith(account);
  const env = { ...configuredEnv(fake, keysDir), LOG_LEVEL: 'warn' };

  // --- cold start of the real entry point (src/main.ts through tsx, as the tests run it) ---
  const cold: number[] = [];
  for (let i = 0; i < 2; i += 1) {
    const before = { g: fake.google.hits, s: fake.securetoken.hits };
    const t0 = Date.now();
    const server = await spawnServer({ ...env, LOG_LEVEL: 'info' }); // it waits for the info-level "listening" line
    cold.push(Date.now() - t0);
    const fetched = { g: fake.google.hits - before.g, s: fake.securetoken.hits - before.s };
    await server.stop();
    if (fetched.g !== 1 || fetched.s !== 1) throw new Error(`cold start fetched the key sets ${JSON.stringify(fetched)} times`);
  }
  const coldMs = Math.min(...cold);

  const idToken = await fake.firebaseIdToken({
    sub: 'google:110169484474386276334',
    user_id: 'google:110169484474386276334',
    email: 'ada@example.com',
    email_verified: true,
    name: 'Ada Lovelace',
    picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ4zX3y8YfQmVq0bM2n4Qe1S7kqZpRkX8u5Vf0=s96-c',
    google_sub: '110169484474386276334',
  });
  const googleToken = await fake.googleIdToken({ aud: WEB_CLIENT_ID });
  const serverEnv = { ...env, BENCH_BODY_TOKEN: idToken, BENCH_TLS_PORT: String(tls.port), BENCH_TLS_CA: tls.caPem };
  const server = await startBenchServer(serverEnv);
  const auth = { authorization: `Bearer ${idToken}` };
  const exchangeBody = JSON.stringify({ idToken: googleToken });
  const json = { 'content-type': 'application/json' };

  // Warm every route once (JIT, firebase-admin's cert fetch).
  await load({ url: `${server.url}/v1/me`, headers: auth, duration: 1 });
  await load({ url: `${server.url}/bench/admin`, headers: auth, duration: 1 });

  const bare1 = await load({ url: `${server.url}/bench/unguarded` });
  const me = await load({ url: `${server.url}/v1/me`, headers: auth });
  const bare2 = await load({ url: `${server.url}/bench/unguarded` });
  const admin = await load({ url: `${server.url}/bench/admin`, headers: auth });
  const bare = { ...bare1, rps: (bare1.rps + bare2.rps) / 2, p99: Math.max(bare1.p99, bare2.p99) };

  const exchange = await load({ url: `${server.url}/v1/token/google`, method: 'POST', headers: json, body: exchangeBody });
  const adminExchange = await load({ url: `${server.url}/bench/admin-exchange`, method: 'POST', headers: json, body: exchangeBody });

  // /v1/me latency while exchanges saturate the server.
  const [saturating, meUnderLoad] = await Promise.all([
    load({ url: `${server.url}/v1/token/google`, method: 'POST', headers: json, body: exchangeBody }),
    load({ url: `${server.url}/v1/me`, headers: auth, connections: 4 }),
  ]);

  // --- burst: 1000 concurrent requests with a kid the server has not fetched yet ---
  const sinceStart = Date.now() - server.startedAt;
  if (sinceStart < 10_500) await sleep(10_500 - sinceStart); // past CERTS_REFETCH_COOLDOWN_MS since the warm-up fetch
  const newKey = fake.rotateSecuretoken();
  const burstTokens = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => fake.firebaseIdToken({ sub: `burst-user-${i}`, user_id: `burst-user-${i}` }, { key: newKey })),
  );
  const hitsBefore = fake.securetoken.hits;
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const t0 = Date.now();
  const statuses = await Promise.all(burstTokens.map((t) => get(`${server.url}/v1/me`, t, agent)));
  const burstMs = Date.now() - t0;
  const burstFetches = fake.securetoken.hits - hitsBefore;
  const burstOk = statuses.filter((s) => s === 200).length;
  agent.destroy();
  await server.stop();

  // Informative: the same /v1/me with the verified-token cache off.
  const uncachedServer = await startBenchServer({ ...serverEnv, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' });
  await load({ url: `${uncachedServer.url}/v1/me`, headers: auth, duration: 1 });
  const uncached = await load({ url: `${uncachedServer.url}/v1/me`, headers: auth });
  const uncachedBare = await load({ url: `${uncachedServer.url}/bench/unguarded` });
  await uncachedServer.stop();

  const rows: Row[] = [
    { case: 'GET /v1/me, one token repeated (cache on) vs unguarded route, same body, same server: req/s', figure: describe(me), peer: describe(bare), ratio: me.rps / bare.rps, target: '≥0.9×', pass: me.rps / bare.rps >= 0.9 && me.non2xx === 0 },
    { case: 'same, p99 latency', figure: `${me.p99} ms`, peer: `${bare.p99} ms`, ratio: me.p99 / Math.max(1, bare.p99), target: '≤1.2×', pass: me.p99 <= 1.2 * Math.max(1, bare.p99) },
    { case: 'route guarded by firebase-admin verifyIdToken vs unguarded', figure: describe(admin), peer: describe(bare), ratio: admin.rps / bare.rps },
    { case: 'GET /v1/me with VERIFIED_TOKEN_CACHE_MAX_ENTRIES=0 vs unguarded (second server)', figure: describe(uncached), peer: describe(uncachedBare), ratio: uncached.rps / uncachedBare.rps },
    { case: 'POST /v1/token/google vs same route signing with firebase-admin createCustomToken', figure: describe(exchange), peer: describe(adminExchange), ratio: exchange.rps / adminExchange.rps, target: '≥3×', pass: exchange.rps / adminExchange.rps >= 3 && exchange.non2xx === 0 },
    { case: `GET /v1/me p99 while ${CONNECTIONS} connections saturate POST /v1/token/google (${fmt(saturating.rps)} exchanges/s)`, figure: `${meUnderLoad.p99} ms`, peer: '50 ms', ratio: meUnderLoad.p99 / 50, target: '<50 ms', pass: meUnderLoad.p99 < 50 && meUnderLoad.non2xx === 0 },
    { case: `burst: 1000 concurrent GET /v1/me, kid not yet fetched (${burstMs} ms; ${burstOk}/1000 answered 200)`, figure: `${burstFetches} upstream fetch(es)`, peer: '1 fetch', ratio: burstFetches, target: '1 fetch, 1000×200', pass: burstFetches === 1 && burstOk === 1000 },
    { case: `cold start: spawn src/main.ts (tsx) to "listening", key sets fetched once each (${cold.join(', ')} ms)`, figure: `${coldMs} ms`, peer: '1000 ms', ratio: coldMs / 1000, target: '<1 s', pass: coldMs < 1000 },
    { case: 'bench server (tsx) ready, in-process time from its start', figure: `${server.readyMs} ms`, peer: '1000 ms', ratio: server.readyMs / 1000 },
  ];
  printRows('HTTP (autocannon in the bench process, server in its own process, 127.0.0.1)', rows);
  await tls.close();
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
