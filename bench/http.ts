/**
 * HTTP benchmark. The server runs in its own process (bench/server.ts, the real app plus bench-only
 * peer routes); autocannon runs here against 127.0.0.1, each case bounded in time. The fake
 * Google (test/support/fake-google.ts) runs here too; firebase-admin reaches it via a TLS relay.
 *   node --import tsx bench/http.ts [--seconds 3] [--connections 64]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeGoogle } from '../testkit/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../testkit/harness';
import { spawnServer } from '../testkit/spawn-server';
import { type Row, fmt, googleIdTokens, printRows } from './common';
import { startGoogleTls } from './google-tls';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SECONDS = arg('seconds', 3);
const CONNECTIONS = arg('connections', 64);
const ROUNDS = arg('rounds', 3);
/** UV_THREADPOOL_SIZE of the server process (Node's default is 4). */
const THREADPOOL = arg('threadpool', 4);
const onlyArg = process.argv.indexOf('--only');
/** Comma-separated subset of: me, exchange, burst, uncached, metrics, cold. */
const ONLY = new Set(onlyArg >= 0 ? (process.argv[onlyArg + 1] as string).split(',') : ['me', 'exchange', 'burst', 'uncached', 'metrics', 'cold']);
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
    env: { PATH: process.env.PATH ?? '', PORT: '0', UV_THREADPOOL_SIZE: String(THREADPOOL), ...env },
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

/** User + system CPU time of a process so far, in clock ticks (1/100 s), from /proc (Linux). */
function cpuTicks(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function combine(rounds: Load[]): Load {
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const sum = (f: (l: Load) => number) => rounds.reduce((acc, l) => acc + f(l), 0);
  return {
    rps: sum((l) => l.rps) / rounds.length,
    p50: mid(rounds.map((l) => l.p50)),
    p99: mid(rounds.map((l) => l.p99)),
    non2xx: sum((l) => l.non2xx),
    errors: sum((l) => l.errors),
    total: sum((l) => l.total),
  };
}

async function main(): Promise<void> {
  process.stdout.write(
    `# HTTP benchmark (${new Date().toISOString()}, node ${process.version}, ${SECONDS} s per case, ${CONNECTIONS} connections, ` +
      `server UV_THREADPOOL_SIZE=${THREADPOOL})\n`,
  );
  const fake = await FakeGoogle.start('bench-project-1');
  const tls = await startGoogleTls(fake.url);
  const account = fake.createServiceAccount();
  const keysDir = keysDirWith(account);
  // One client IP sends everything: the per-IP exchange limit (abuse control, not capacity) is off.
  const env = { ...configuredEnv(fake, keysDir), LOG_LEVEL: 'warn', RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' };
  const rows: Row[] = [];

  // --- cold start of the real entry point (src/main.ts through tsx, as the tests run it) ---
  if (ONLY.has('cold')) {
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
    rows.push({ case: `cold start: spawn src/main.ts (tsx) to "listening", key sets fetched once each (runs: ${cold.join(', ')} ms)`, figure: `${coldMs} ms`, peer: '1000 ms', ratio: coldMs / 1000, target: '<1 s', pass: coldMs < 1000 });
  }

  const idToken = await fake.firebaseIdToken({
    sub: 'google:110169484474386276334',
    user_id: 'google:110169484474386276334',
    email: 'ada@example.com',
    email_verified: true,
    name: 'Ada Lovelace',
    picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ4zX3y8YfQmVq0bM2n4Qe1S7kqZpRkX8u5Vf0=s96-c',
    google_sub: '110169484474386276334',
  });
  const auth = { authorization: `Bearer ${idToken}` };
  const json = { 'content-type': 'application/json' };
  const serverEnv = { ...env, BENCH_BODY_TOKEN: idToken, BENCH_TLS_PORT: String(tls.port), BENCH_TLS_CA: tls.caPem };

  const server = await startBenchServer(serverEnv);
  process.stdout.write(`bench server ready ${server.readyMs} ms after its start (tsx, in-process)\n`);

  // Every exchange uses a Google ID token never seen before (replay protection is on, as by default). Signed
  // after the server started: it refuses tokens issued before its start (the replay epoch).
  const GOOGLE_POOL = ONLY.has('exchange') ? 50_000 : 0;
  if (GOOGLE_POOL > 0) process.stdout.write(`signing ${GOOGLE_POOL} Google ID tokens...\n`);
  const googlePool = await googleIdTokens(fake.google.keys[0]!, WEB_CLIENT_ID, GOOGLE_POOL);
  let cursor = 0;
  const exchangeLoad = (routePath: string, extra: Partial<autocannon.Options> = {}) =>
    load({
      url: server.url,
      requests: [
        {
          method: 'POST',
          path: routePath,
          headers: json,
          setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify({ idToken: googlePool[cursor++ % GOOGLE_POOL] }) }),
        },
      ],
      ...extra,
    } as autocannon.Options);

  if (ONLY.has('me')) {
    // Warm every route once (JIT, firebase-admin's cert fetch), then interleave rounds so drift hits all alike.
    await load({ url: `${server.url}/v1/me`, headers: auth, duration: 1 });
    await load({ url: `${server.url}/bench/unguarded`, duration: 1 });
    await load({ url: `${server.url}/bench/admin`, headers: auth, duration: 1 });
    await load({ url: `${server.url}/v1/authz`, headers: auth, duration: 1 });
    const rounds: Record<'bare' | 'me' | 'bareHdr' | 'admin' | 'authz', Load[]> = { bare: [], me: [], bareHdr: [], admin: [], authz: [] };
    for (let r = 0; r < ROUNDS; r += 1) {
      rounds.bare.push(await load({ url: `${server.url}/bench/unguarded` }));
      rounds.me.push(await load({ url: `${server.url}/v1/me`, headers: auth }));
      rounds.bareHdr.push(await load({ url: `${server.url}/bench/unguarded`, headers: auth }));
      rounds.authz.push(await load({ url: `${server.url}/v1/authz`, headers: auth }));
    }
    rounds.admin.push(await load({ url: `${server.url}/bench/admin`, headers: auth }));
    const bare = combine(rounds.bare);
    const me = combine(rounds.me);
    const bareHdr = combine(rounds.bareHdr);
    const admin = combine(rounds.admin);
    const authz = combine(rounds.authz);
    process.stdout.write(`rounds (req/s) unguarded: ${rounds.bare.map((l) => fmt(l.rps)).join(', ')}; /v1/me: ${rounds.me.map((l) => fmt(l.rps)).join(', ')}; unguarded+header: ${rounds.bareHdr.map((l) => fmt(l.rps)).join(', ')}; /v1/authz: ${rounds.authz.map((l) => fmt(l.rps)).join(', ')}\n`);
    rows.push(
      { case: `GET /v1/me, one token repeated (cache on) vs unguarded route, same body, same server (${ROUNDS} interleaved rounds): req/s`, figure: describe(me), peer: describe(bare), ratio: me.rps / bare.rps, target: '≥0.9×', pass: me.rps / bare.rps >= 0.9 && me.non2xx === 0 },
      { case: 'same, p99 latency (median of rounds)', figure: `${me.p99} ms`, peer: `${bare.p99} ms`, ratio: me.p99 / Math.max(1, bare.p99), target: '≤1.2×', pass: me.p99 <= 1.2 * Math.max(1, bare.p99) },
      { case: 'same GET /v1/me vs the unguarded route sent the same 1 KB Authorization header (ignored)', figure: describe(me), peer: describe(bareHdr), ratio: me.rps / bareHdr.rps },
      { case: 'route guarded by firebase-admin verifyIdToken vs unguarded', figure: describe(admin), peer: describe(bare), ratio: admin.rps / bare.rps },
      // Forward-auth's hot path (the issue: it costs no more than /v1/me): the same token, the X-Auth-* headers, no body.
      { case: 'GET /v1/authz (forward-auth, one token repeated) vs GET /v1/me, same rounds: req/s', figure: describe(authz), peer: describe(me), ratio: authz.rps / me.rps, target: '≥0.95×', pass: authz.rps / me.rps >= 0.95 && authz.non2xx === 0 },
    );
  }

  if (ONLY.has('exchange')) {
    await exchangeLoad('/v1/token/google', { duration: 1 });
    await exchangeLoad('/bench/admin-exchange', { duration: 1 });
    const exchange = await exchangeLoad('/v1/token/google');
    const adminExchange = await exchangeLoad('/bench/admin-exchange');
    // /v1/me latency while exchanges saturate the server.
    const [saturating, meUnderLoad] = await Promise.all([
      exchangeLoad('/v1/token/google'),
      load({ url: `${server.url}/v1/me`, headers: auth, connections: 4 }),
    ]);
    if (cursor > GOOGLE_POOL) process.stdout.write(`WARNING: ${cursor} exchanges for ${GOOGLE_POOL} Google tokens: replays were refused\n`);
    rows.push(
      { case: 'POST /v1/token/google vs the same exchange signing with firebase-admin createCustomToken', figure: describe(exchange), peer: describe(adminExchange), ratio: exchange.rps / adminExchange.rps, target: '≥3×', pass: exchange.rps / adminExchange.rps >= 3 && exchange.non2xx === 0 },
      { case: `GET /v1/me p99 (4 connections) while ${CONNECTIONS} connections saturate POST /v1/token/google (${fmt(saturating.rps)} exchanges/s)`, figure: `${meUnderLoad.p99} ms (p50 ${meUnderLoad.p50} ms, ${fmt(meUnderLoad.rps)} req/s)`, peer: '50 ms', ratio: meUnderLoad.p99 / 50, target: '<50 ms', pass: meUnderLoad.p99 < 50 && meUnderLoad.non2xx === 0 },
    );
  }

  if (ONLY.has('burst')) {
    // --- 1000 concurrent requests with a kid the server has not fetched yet ---
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
    const burstOk = statuses.filter((code) => code === 200).length;
    agent.destroy();
    rows.push({ case: `burst: 1000 concurrent GET /v1/me, 1000 users, kid not yet fetched (all answered in ${burstMs} ms; ${burstOk}/1000 were 200)`, figure: `${burstFetches} upstream fetch(es)`, peer: '1 fetch', ratio: burstFetches, target: '1 fetch, 1000×200', pass: burstFetches === 1 && burstOk === 1000 });
  }
  await server.stop();

  if (ONLY.has('uncached')) {
    // Informative: the same /v1/me with the verified-token cache off.
    const uncachedServer = await startBenchServer({ ...serverEnv, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' });
    await load({ url: `${uncachedServer.url}/v1/me`, headers: auth, duration: 1 });
    const uncached = await load({ url: `${uncachedServer.url}/v1/me`, headers: auth });
    const uncachedBare = await load({ url: `${uncachedServer.url}/bench/unguarded` });
    await uncachedServer.stop();
    rows.push({ case: 'GET /v1/me with VERIFIED_TOKEN_CACHE_MAX_ENTRIES=0 vs unguarded (second server)', figure: describe(uncached), peer: describe(uncachedBare), ratio: uncached.rps / uncachedBare.rps });
  }

  if (ONLY.has('metrics')) {
    // The hot path with metrics on (the default: a histogram observation per request, counters read at scrape
    // time) vs METRICS_ENABLED=false: two servers, rounds alternating which goes first, so drift hits both alike.
    const on = await startBenchServer({ ...serverEnv, METRICS_ENABLED: 'true' });
    const off = await startBenchServer({ ...serverEnv, METRICS_ENABLED: 'false' });
    for (const s of [on, off]) await load({ url: `${s.url}/v1/me`, headers: auth, duration: 1 });
    // Short slices in pairs, the order alternating: on a loaded machine the pair's ratio is what is comparable.
    // Besides req/s, the server's own CPU time per request (/proc/<pid>/stat): other processes steal wall time
    // from a slice, much less the CPU time each request costs.
    const runs: Record<'on' | 'off', Load[]> = { on: [], off: [] };
    const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 0; r < 4 * ROUNDS; r += 1) {
      const order: Array<['on' | 'off', BenchServer]> = r % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
      for (const [name, s] of order) {
        const before = cpuTicks(s.child.pid);
        const slice = await load({ url: `${s.url}/v1/me`, headers: auth, duration: 1 });
        runs[name].push(slice);
        cpu[name].push(((cpuTicks(s.child.pid) - before) * 10_000) / Math.max(1, slice.total)); // µs per request (100 ticks/s)
      }
      ratios.push((runs.on[r] as Load).rps / (runs.off[r] as Load).rps);
      cpuRatios.push((cpu.on[r] as number) / (cpu.off[r] as number));
    }
    const scraped = await fetch(`${on.url}/metrics`).then((res) => res.text());
    await Promise.all([on.stop(), off.stop()]);
    if (!/firebridge_request_duration_seconds_count\{route="\/v1\/me",status_class="2xx"\} [1-9]/.test(scraped)) {
      throw new Error('the metrics server did not count its /v1/me requests');
    }
    const withMetrics = combine(runs.on);
    const without = combine(runs.off);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const medianRatio = median(ratios);
    process.stdout.write(`slices (req/s) metrics on: ${runs.on.map((l) => fmt(l.rps)).join(', ')}; off: ${runs.off.map((l) => fmt(l.rps)).join(', ')}; pair ratios: ${ratios.map((x) => x.toFixed(2)).join(', ')}\n`);
    rows.push(
      { case: `GET /v1/me (cached token) with metrics on vs METRICS_ENABLED=false (${ratios.length} pairs of 1 s slices, order alternating): req/s, ratio = median of the pairs'`, figure: describe(withMetrics), peer: describe(without), ratio: medianRatio, target: '≥0.95×', pass: medianRatio >= 0.95 && withMetrics.non2xx === 0 },
      { case: 'same, p99 latency (median of rounds)', figure: `${withMetrics.p99} ms`, peer: `${without.p99} ms`, ratio: withMetrics.p99 / Math.max(1, without.p99) },
      { case: "same, the server's CPU time per request (median of slices; ratio = median of the pairs')", figure: `${fmt(median(cpu.on))} µs`, peer: `${fmt(median(cpu.off))} µs`, ratio: median(cpuRatios), target: '≤1.05×', pass: median(cpuRatios) <= 1.05 },
    );
    process.stdout.write(`CPU µs per request, metrics on: ${cpu.on.map(fmt).join(', ')}; off: ${cpu.off.map(fmt).join(', ')}\n`);
  }

  printRows('HTTP (autocannon in the bench process, server in its own process, 127.0.0.1)', rows);
  await tls.close();
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
